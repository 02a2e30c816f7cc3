/* sched_slurm.c - the guard on Slurm: DRAIN with a reason naming the run, wait for
 * DRAINED, RESUME on restore; state read from sinfo with a fixed format. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/exec.h"
#include "backends/sched.h"

#define SLURM_CMD_TIMEOUT_MS 30000 /* scontrol takes ~9 s to give up on a dead controller */

struct slurm {
	long long poll_ms;
};

/* Run a Slurm command on this machine; its stdout into out (may be NULL). Ctrl-C ends it. */
static int
slurm_cmd(const struct sched *s, const char *cmd, struct buf *out, struct rbx_err *err)
{
	return exec_local_capture_vars(cmd, NULL, SLURM_CMD_TIMEOUT_MS, s->cancel, out, err);
}

static char *
quoted(const char *v)
{
	struct buf b;

	buf_init(&b, 0);
	util_shell_quote(&b, v);
	return buf_detach(&b);
}

enum slurm_call { CALL_STATE, CALL_DRAIN, CALL_RESUME };

/* The three commands the backend runs; every value in them quoted. */
static char *
slurm_command(enum slurm_call call, const char *node, const char *reason)
{
	char *n = quoted(node), *r = quoted(reason ? reason : ""), *s;

	switch (call) {
	case CALL_STATE:
		s = xasprintf("sinfo -h -N -n %s -o '%%T|%%E'", n);
		break;
	case CALL_DRAIN:
		s = xasprintf("scontrol update NodeName=%s State=DRAIN Reason=%s", n, r);
		break;
	default:
		s = xasprintf("scontrol update NodeName=%s State=RESUME", n);
		break;
	}
	free(n);
	free(r);
	return s;
}

/* "drained*" -> "drained": sinfo appends flags for not-responding, powered-down, ... */
static void
strip_flags(char *s)
{
	size_t n = strlen(s);

	while (n && strchr("*~#!%$@^-+", s[n - 1]))
		s[--n] = 0;
}

void
sched_slurm_parse_state(char *text, struct sched_state *st)
{
	char *bar, *nl = strchr(text, '\n');

	if (nl)
		*nl = 0;
	bar = strchr(text, '|');
	if (bar)
		*bar++ = 0;
	strip_flags(text);
	memset(st, 0, sizeof(*st));
	/* drain, draining, drained, down (DOWN+DRAIN shows as drained* or down*), fail */
	st->cordoned = strstr(text, "drain") || !strncmp(text, "down", 4) || !strncmp(text, "fail", 4);
	st->drained = !strcmp(text, "drained") || !strncmp(text, "down", 4);
	st->jobs = !strcmp(text, "draining") || !strcmp(text, "mixed") ||
		   !strcmp(text, "allocated") || !strcmp(text, "completing");
	snprintf(st->reason, sizeof(st->reason), "%s", bar && strcmp(bar, "none") ? bar : "");
}

static int
slurm_state(struct sched *s, struct sched_state *st, struct rbx_err *err)
{
	char *cmd = slurm_command(CALL_STATE, s->node, NULL);
	struct buf out;
	int rc;

	memset(st, 0, sizeof(*st));
	buf_init(&out, 4096);
	rc = slurm_cmd(s, cmd, &out, err);
	free(cmd);
	if (rc == 0 && !out.len)
		rc = err_set(err, "Slurm does not know node %s", s->node);
	if (rc == 0)
		sched_slurm_parse_state(out.data, st);
	buf_release(&out);
	return rc;
}

static int
slurm_cordon(struct sched *s, const char *reason, struct rbx_err *err)
{
	char *cmd = slurm_command(CALL_DRAIN, s->node, reason);
	int rc = slurm_cmd(s, cmd, NULL, err);

	free(cmd);
	return rc;
}

/* DRAIN already holds new work off; draining is waiting for the running jobs. */
static int
slurm_drain(struct sched *s, const char *reason, long long timeout_ms, struct rbx_err *err)
{
	struct slurm *sl = s->priv;
	int64_t end = util_now_ms() + timeout_ms;
	struct sched_state st;

	(void)reason;
	for (;;) {
		if (slurm_state(s, &st, err) < 0)
			return -1;
		if (st.drained)
			return 0;
		if (util_now_ms() >= end)
			return err_set(err, "node %s is still running jobs at the drain deadline", s->node);
		if (sched_sleep(s, sl->poll_ms, err) < 0)
			return -1;
	}
}

static int
slurm_uncordon(struct sched *s, struct rbx_err *err)
{
	char *cmd = slurm_command(CALL_RESUME, s->node, NULL);
	int rc = slurm_cmd(s, cmd, NULL, err);

	free(cmd);
	return rc;
}

static int
slurm_set_reason(struct sched *s, const char *reason, struct rbx_err *err)
{
	return slurm_cordon(s, reason, err);
}

static void
slurm_describe(struct sched *s, const char *reason, struct buf *out)
{
	char *c = slurm_command(CALL_DRAIN, s->node, reason);
	char *w = slurm_command(CALL_STATE, s->node, NULL);
	char *u = slurm_command(CALL_RESUME, s->node, NULL);

	buf_addf(out, "cordon and drain: %s\nwait until drained: %s\nrestore: %s\n", c, w, u);
	free(c);
	free(w);
	free(u);
}

static void
slurm_free(struct sched *s)
{
	free(s->priv);
}

static const struct sched_ops slurm_ops = {
	"slurm", slurm_state, slurm_cordon, slurm_drain, slurm_uncordon, slurm_set_reason,
	slurm_free, slurm_describe,
};

struct sched *
sched_slurm_new(const char *node)
{
	struct sched *s = xcalloc(1, sizeof(*s));
	struct slurm *sl = xcalloc(1, sizeof(*sl));
	const char *p = getenv("RBX_SLURM_POLL_MS");

	sl->poll_ms = p && atoll(p) > 0 ? atoll(p) : 2000;
	s->ops = &slurm_ops;
	s->node = xstrdup(node);
	s->priv = sl;
	return s;
}
