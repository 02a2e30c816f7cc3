/* sched_command.c - the guard through site commands from the inventory: cordon,
 * drain, uncordon and state templates with {{node}} and {{reason}}, quoted. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbx/exec.h"
#include "rbx/sched.h"
#include "rbx/template.h"

struct command_sched {
	char *cordon, *drain, *uncordon, *state;
};

/*
 * The same renderer as steps: {{node}} and {{reason}} become "${RBX_NODE}" and
 * "${RBX_REASON}" for their quoting context, and the values go in vars.
 */
static int
render(const char *tmpl, const char *node, const char *reason, struct strmap *vars, struct buf *cmd,
       struct rbx_err *err)
{
	struct strmap extra = {0};
	struct tmpl_ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	strmap_set(&extra, "reason", reason ? reason : "");
	c.node = node;
	c.extra = &extra;
	c.vars = vars;
	rc = template_render(tmpl, TMPL_SHELL, &c, cmd, err);
	if (rc < 0)
		err_prefix(err, "guard command '%s'", tmpl);
	strmap_release(&extra);
	return rc;
}

static int
run(const struct sched *s, const char *tmpl, const char *reason, long long timeout_ms,
    struct buf *out, struct rbx_err *err)
{
	const char *node = s->node;
	struct strmap vars = {0};
	struct buf cmd;
	int rc = -1;

	if (!tmpl)
		return err_set(err, "the inventory gives no command for this guard operation");
	buf_init(&cmd, 0);
	if (render(tmpl, node, reason, &vars, &cmd, err) == 0)
		rc = exec_local_capture_vars(cmd.data, &vars, timeout_ms, s->cancel, out, err);
	buf_release(&cmd);
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
describe_one(struct buf *out, const char *what, const char *tmpl, const char *node,
	     const char *reason)
{
	struct strmap vars = {0};
	struct rbx_err err;
	struct buf cmd;
	size_t i;

	buf_init(&cmd, 0);
	if (!tmpl)
		buf_addf(out, "%s: (none)\n", what);
	else if (render(tmpl, node, reason, &vars, &cmd, &err) < 0)
		buf_addf(out, "%s: %s\n", what, err.msg);
	else {
		buf_addf(out, "%s: %s", what, cmd.data);
		for (i = 0; i < vars.n; i++)
			buf_addf(out, "%s%s=%s", i ? " " : "  (with ", vars.keys[i], vars.vals[i]);
		buf_adds(out, vars.n ? ")\n" : "\n");
	}
	buf_release(&cmd);
	strmap_release(&vars);
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
