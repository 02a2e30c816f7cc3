/* sched_command.c - the guard through site commands from the inventory: cordon,
 * drain, uncordon and state, rendered by the caller, the values in the environment. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/exec.h"
#include "backends/sched.h"

struct command_sched {
	char *cordon, *drain, *uncordon, *state;
};

/*
 * The commands arrive rendered: {{node}} and {{reason}} are already "${RBX_NODE}"
 * and "${RBX_REASON}", written for their quoting context; their values go in vars.
 */
static void
set_vars(struct strmap *vars, const char *node, const char *reason)
{
	strmap_set(vars, "RBX_NODE", node);
	strmap_set(vars, "RBX_REASON", reason ? reason : "");
}

static int
run(const struct sched *s, const char *cmd, const char *reason, long long timeout_ms,
    struct buf *out, struct rbx_err *err)
{
	struct strmap vars = {0};
	int rc;

	if (!cmd)
		return err_set(err, "the inventory gives no command for this guard operation");
	set_vars(&vars, s->node, reason);
	rc = exec_local_capture_vars(cmd, &vars, timeout_ms, s->cancel, out, err);
	strmap_release(&vars);
	return rc;
}

/* The state command prints one line: CORDONED DRAINED REASON... (0 or 1 each). */
static int
cmd_state(struct sched *s, struct sched_state *st, struct rbx_err *err)
{
	struct command_sched *c = s->priv;
	struct buf out;
	int cordoned = 0, drained = 0, n = 0, rc;

	buf_init(&out, 4096);
	rc = run(s, c->state, NULL, 60000, &out, err);
	memset(st, 0, sizeof(*st));
	if (rc == 0 && sscanf(out.data, "%d %d %n", &cordoned, &drained, &n) < 2)
		rc = err_set(err, "the state command printed '%.60s', not 'CORDONED DRAINED REASON'", out.data);
	if (rc == 0) {
		st->cordoned = cordoned;
		st->drained = drained;
		snprintf(st->reason, sizeof(st->reason), "%s", out.data + n);
		st->reason[strcspn(st->reason, "\n")] = 0;
	}
	buf_release(&out);
	return rc;
}

static int
cmd_cordon(struct sched *s, const char *reason, struct rbx_err *err)
{
	return run(s, ((struct command_sched *)s->priv)->cordon, reason, 60000, NULL, err);
}

static int
cmd_drain(struct sched *s, const char *reason, long long timeout_ms, struct rbx_err *err)
{
	/* The site's drain command waits for the work to leave; its deadline is the drain's. */
	return run(s, ((struct command_sched *)s->priv)->drain, reason, timeout_ms, NULL, err);
}

static int
cmd_uncordon(struct sched *s, struct rbx_err *err)
{
	return run(s, ((struct command_sched *)s->priv)->uncordon, NULL, 60000, NULL, err);
}

static void
describe_one(struct buf *out, const char *what, const char *cmd, const char *node,
	     const char *reason)
{
	const char *sep = "  (with ";

	if (!cmd) {
		buf_addf(out, "%s: (none)\n", what);
		return;
	}
	buf_addf(out, "%s: %s", what, cmd);
	/* The values the command's references stand for, as it will get them. */
	if (strstr(cmd, "RBX_NODE")) {
		buf_addf(out, "%sRBX_NODE=%s", sep, node);
		sep = " ";
	}
	if (reason && strstr(cmd, "RBX_REASON")) {
		buf_addf(out, "%sRBX_REASON=%s", sep, reason);
		sep = " ";
	}
	buf_adds(out, *sep == ' ' && sep[1] == 0 ? ")\n" : "\n");
}

static void
cmd_describe(struct sched *s, const char *reason, struct buf *out)
{
	struct command_sched *c = s->priv;

	describe_one(out, "cordon", c->cordon, s->node, reason);
	describe_one(out, "drain", c->drain, s->node, reason);
	describe_one(out, "restore", c->uncordon, s->node, NULL);
}

static void
cmd_free(struct sched *s)
{
	struct command_sched *c = s->priv;

	free(c->cordon);
	free(c->drain);
	free(c->uncordon);
	free(c->state);
	free(c);
}

static const struct sched_ops command_ops = {
	"command", cmd_state, cmd_cordon, cmd_drain, cmd_uncordon, cmd_cordon, cmd_free, cmd_describe,
};

struct sched *
sched_command_new(const char *node, const char *cordon, const char *drain, const char *uncordon,
		  const char *state)
{
	struct sched *s = xcalloc(1, sizeof(*s));
	struct command_sched *c = xcalloc(1, sizeof(*c));

	c->cordon = cordon ? xstrdup(cordon) : NULL;
	c->drain = drain ? xstrdup(drain) : NULL;
	c->uncordon = uncordon ? xstrdup(uncordon) : NULL;
	c->state = state ? xstrdup(state) : NULL;
	s->ops = &command_ops;
	s->node = xstrdup(node);
	s->priv = c;
	return s;
}
