/* sched_command.c - the guard through site commands from the inventory: cordon,
 * drain, uncordon and state templates with {{node}} and {{reason}}, quoted. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbx/exec.h"
#include "rbx/sched.h"

struct command_sched {
	char *cordon, *drain, *uncordon, *state;
};

/* Replace {{node}} and {{reason}} with their values, shell-quoted. */
static char *
render(const char *tmpl, const char *node, const char *reason)
{
	struct buf b;
	const char *p = tmpl;

	buf_init(&b, 0);
	while (*p) {
		if (!strncmp(p, "{{node}}", 8)) {
			util_shell_quote(&b, node);
			p += 8;
		} else if (!strncmp(p, "{{reason}}", 10)) {
			util_shell_quote(&b, reason ? reason : "");
			p += 10;
		} else {
			buf_add(&b, p++, 1);
		}
	}
	return buf_detach(&b);
}

static int
run(const char *tmpl, const char *node, const char *reason, long long timeout_ms, struct buf *out,
    struct rbx_err *err)
{
	char *cmd;
	int rc;

	if (!tmpl)
		return err_set(err, "the inventory gives no command for this guard operation");
	cmd = render(tmpl, node, reason);
	rc = exec_local_capture(cmd, timeout_ms, out, err);
	free(cmd);
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
	rc = run(c->state, s->node, NULL, 60000, &out, err);
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
	return run(((struct command_sched *)s->priv)->cordon, s->node, reason, 60000, NULL, err);
}

static int
cmd_drain(struct sched *s, const char *reason, long long timeout_ms, struct rbx_err *err)
{
	/* The site's drain command waits for the work to leave; its deadline is the drain's. */
	return run(((struct command_sched *)s->priv)->drain, s->node, reason, timeout_ms, NULL, err);
}

static int
cmd_uncordon(struct sched *s, struct rbx_err *err)
{
	return run(((struct command_sched *)s->priv)->uncordon, s->node, NULL, 60000, NULL, err);
}

static void
cmd_describe(struct sched *s, const char *reason, struct buf *out)
{
	struct command_sched *c = s->priv;
	char *a = c->cordon ? render(c->cordon, s->node, reason) : NULL;
	char *b = c->drain ? render(c->drain, s->node, reason) : NULL;
	char *u = c->uncordon ? render(c->uncordon, s->node, NULL) : NULL;

	buf_addf(out, "cordon: %s\ndrain: %s\nrestore: %s\n", a ? a : "(none)", b ? b : "(none)",
		 u ? u : "(none)");
	free(a);
	free(b);
	free(u);
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
