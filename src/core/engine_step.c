/* engine_step.c - runs one step: when, the guard invariant, then its command,
 * HTTP request, confirmation or action, with retries, captures and records. */
#define _GNU_SOURCE
#include "core/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "io/http.h"
#include "io/journal.h"
#include "backends/sched.h"
#include "core/template.h"
#include "backends/transport.h"
#include "base/utf8.h"
#include "core/engine_internal.h"
#include "core/plan.h"
#include "core/reading.h"

/* The values a command's references stand for, as the journal shows them: secrets hidden. */
static json_t *
vars_rec(const struct run *r, const struct strmap *vars)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < vars->n; i++) {
		char *v = engine_redact(r, vars->vals[i]);
		json_object_set_new(o, vars->keys[i], journal_string(v));
		free(v);
	}
	return o;
}

struct step_io {
	struct run *r;
	const struct step *s;
};

static void
on_output(void *arg, enum exec_stream st, const char *data, size_t len)
{
	struct step_io *io = arg;

	if (io->r->io.output)
		io->r->io.output(io->r->io.arg, io->s, st, data, len);
}

static bool
sleep_ms(struct run *r, struct transport *tx, long long ms)
{
	int64_t end;

	if (r->interrupted && *r->interrupted)
		return false;
	if (tx && tx->ops->pause) {
		/* The node keeps its own time (a simulated one): its clock moves, not ours. */
		tx->ops->pause(tx, ms);
		return true;
	}
	end = util_now_ms() + ms;
	while (util_now_ms() < end) {
		long long left = end - util_now_ms();
		if (r->interrupted && *r->interrupted)
			return false;
		/* In slices, so an interrupt is seen within 100 ms. */
		util_sleep_ms(left > 100 ? 100 : left);
	}
	return !(r->interrupted && *r->interrupted);
}

/* Check the result against expect; on failure say why into why. */
static bool
check_expect(const struct step *s, const struct exec_result *res, char *why, size_t n)
{
	if (res->timed_out) {
		char d[32];
		util_format_duration(s->timeout_ms, d, sizeof(d));
		snprintf(why, n, "timed out after %s (process group killed)", d);
		return false;
	}
	if (res->interrupted) {
		snprintf(why, n, "interrupted");
		return false;
	}
	return reading_output_ok(s, res->status, res->out.data, why, n);
}

static void
take_captures(struct run *r, const struct step *s, const char *out, json_t *rec)
{
	json_t *caps = json_object();
	size_t i;

	for (i = 0; i < s->ncaptures; i++) {
		const struct capture *c = &s->captures[i];
		char *v = reading_capture(c, out);

		strmap_set(&r->captures, c->name, v);
		/* The value stays whole for later steps; the record never holds a secret. */
		{
			char *shown = engine_redact(r, v);
			json_object_set_new(caps, c->name, journal_bytes(shown));
			free(shown);
		}
		free(v);
	}
	json_object_set_new(rec, "captures", caps);
}

static void
add_tails(struct run *r, json_t *rec, const struct exec_result *res)
{
	char *o = tail_string(&res->out_tail), *e = tail_string(&res->err_tail);
	char *ro = engine_redact(r, o), *re = engine_redact(r, e);

	json_object_set_new(rec, "stdout_tail", journal_string(ro));
	json_object_set_new(rec, "stderr_tail", journal_string(re));
	free(o);
	free(e);
	free(ro);
	free(re);
}

/* Add the last line the step wrote to stderr: usually the one that says why. */
static void
append_stderr_hint(const struct exec_result *res, char *why, size_t n)
{
	char *e = tail_string(&res->err_tail), *end, *line;
	size_t len = strlen(why);

	end = e + strlen(e);
	while (end > e && (end[-1] == '\n' || end[-1] == ' '))
		*--end = 0;
	line = strrchr(e, '\n');
	line = line ? line + 1 : e;
	if (*line && len + 16 < n) {
		/* Cut on a character boundary, then make it text whatever the step wrote. */
		line[utf8_cut(line, 300)] = 0;
		snprintf(why + len, n - len, ": %s", line);
		why[utf8_cut(why, n - 1)] = 0;
		utf8_scrub(why);
	}
	free(e);
}

/* Run a command step (ssh/run) with its retries. 0 ok, -1 failed. */
static int
run_command(struct run *r, const struct step *s)
{
	struct transport *tx = s->kind == STEP_SSH ? r->node_tx : r->local_tx;
	struct rbx_err err;
	struct strmap vars = {0};
	char *cmd = engine_render_step(r, s, false, &vars, &err);
	struct step_io sio = {r, s};
	const struct step_mark *m = engine_find_mark(r, s);
	int try, rc = -1;

	if (!cmd) {
		engine_fail(r, "step '%s': %s", s->name, err.msg);
		strmap_release(&vars);
		return -1;
	}
	/* Resumed: the tries the journal shows used are not given again. */
	for (try = m ? m->tries + 1 : 1; try <= 1 + s->retries; try++) {
		struct exec_opts o = {0};
		struct exec_result res;
		json_t *rec = engine_step_rec("step_start", s, r);
		char why[512] = "", *tag = engine_step_tag(r->run_id, r->attempt,
							   s->index ? phase_name(s->phase) : "undo",
							   s->index, s->index ? 0 : s->undo_of, try);
		bool ok;

		json_object_set_new(rec, "try", json_integer(try));
		json_object_set_new(rec, "cmd", journal_string(cmd));
		if (vars.n)
			json_object_set_new(rec, "env", vars_rec(r, &vars));
		json_object_set_new(rec, "target", json_string(engine_step_target(r, s)));
		json_object_set_new(rec, "mutates", json_boolean(s->mutates));
		if (s->cluster)
			json_object_set_new(rec, "cluster", json_true());
		json_object_set_new(rec, "idempotent", json_boolean(s->idempotent));
		/* A step that changes something starts only once its intent is on disk. A
		 * read-only one has no side effect to announce: its record is written, not
		 * synced (a third of an SSH step's cost); the next synced record carries it
		 * to the disk, and a power cut before that only means it runs again. */
		if (engine_record(r, rec, s->mutates) < 0) {
			/* Its intent is not in the journal: the step does not start. */
			engine_fail(r, "%s", r->journal_error);
			free(tag);
			break;
		}
		o.tag = tag;
		o.timeout_ms = s->timeout_ms;
		o.on_output = on_output;
		o.arg = &sio;
		o.interrupted = r->interrupted;
		o.vars = &vars;
		exec_result_init(&res, &o);
		if (tx->ops->exec(tx, cmd, &o, &res, &err) < 0) {
			snprintf(why, sizeof(why), "%.500s", err.msg);
			ok = false;
			res.status = 127;
		} else {
			ok = check_expect(s, &res, why, sizeof(why));
		}
		if (!ok)
			append_stderr_hint(&res, why, sizeof(why));
		rec = engine_step_rec("step_end", s, r);
		json_object_set_new(rec, "try", json_integer(try));
		json_object_set_new(rec, "status",
				    json_string(ok ? "ok"
						: res.lost ? "lost"
						: res.unreached ? "unreached"
						: res.timed_out ? "timeout"
						: res.interrupted ? "interrupted"
								  : "failed"));
		json_object_set_new(rec, "exit", json_integer(res.status));
		json_object_set_new(rec, "duration_ms", json_integer(res.duration_ms));
		if (!ok)
			json_object_set_new(rec, "error", journal_string(why));
		add_tails(r, rec, &res);
		if (ok)
			take_captures(r, s, res.out.data, rec);
		engine_record(r, rec, false);
		exec_result_release(&res);
		free(tag);
		if (ok) {
			rc = 0;
			break;
		}
		if (res.unreached) {
			/* Nothing ran: no failure to roll back over (a rollback could not reach the
			 * node either), no try used. The run stops; a resume starts the step. */
			r->unreached = true;
			engine_fail(r, "step '%s' did not start: %s", s->name, why);
			break;
		}
		engine_fail(r, "step '%s' failed: %s", s->name, why);
		if (res.lost) {
			/* Neither failed nor done: never retried, never rolled back over; a resume decides. */
			r->step_lost = true;
			engine_fail(r, "step '%s' is in doubt: %s", s->name, why);
			break;
		}
		if (res.interrupted || (r->interrupted && *r->interrupted))
			break;
		if (try <= s->retries && !sleep_ms(r, tx, s->retry_delay_ms))
			break;
	}
	free(cmd);
	strmap_release(&vars);
	return rc;
}

/*
 * Every header rendered, or none: a value may not carry a line break, which
 * would end the header and begin another. 0, or -1 with err.
 */
static int
http_headers(const struct run *r, const struct http_spec *h, char **hdrs, struct rbx_err *err)
{
	size_t i;

	for (i = 0; i < h->nheaders; i++) {
		hdrs[i] = engine_render(r, h->headers[i], TMPL_TEXT, false, err);
		if (!hdrs[i] || strpbrk(hdrs[i], "\r\n")) {
			if (hdrs[i])
				err_set(err, "a value puts a line break into the header '%.*s': refused",
					(int)strcspn(h->headers[i], ":"), h->headers[i]);
			for (; i + 1 > 0; i--) {
				free(hdrs[i]);
				hdrs[i] = NULL;
			}
			return -1;
		}
	}
	return 0;
}

/* A JSON body (by its Content-Type, or its first character) gets JSON-escaped values. */
static enum tmpl_mode
http_body_mode(const struct http_spec *h)
{
	const char *b = h->body;
	size_t i;

	for (i = 0; i < h->nheaders; i++)
		if (!strncasecmp(h->headers[i], "content-type:", 13) && strstr(h->headers[i], "json"))
			return TMPL_JSON;
	while (*b == ' ' || *b == '\n' || *b == '\t' || *b == '\r')
		b++;
	return *b == '{' || *b == '[' ? TMPL_JSON : TMPL_TEXT;
}

static int
run_http(struct run *r, const struct step *s)
{
	const struct http_spec *h = s->http;
	struct http_request rq = {0};
	struct http_response rs;
	struct rbx_err err;
	char **hdrs = xcalloc(h->nheaders + 1, sizeof(char *));
	char *url = engine_render_step(r, s, false, NULL, &err), *body = NULL, *shown = NULL;
	json_t *rec;
	size_t i;
	int rc = -1, ok;

	if (url && http_headers(r, h, hdrs, &err) == 0 && h->body)
		body = engine_render(r, h->body, http_body_mode(h), false, &err);
	if (!url || (h->nheaders && !hdrs[h->nheaders - 1]) || (h->body && !body)) {
		engine_fail(r, "step '%s': %s", s->name, err.msg);
		goto out;
	}
	/* Secrets in the URL are hidden wherever it is shown: the journal, the errors. */
	shown = engine_render_step(r, s, true, NULL, &err);
	rec = engine_step_rec("step_start", s, r);
	json_object_set_new(rec, "cmd", json_pack("s++", h->method, " ", shown));
	json_object_set_new(rec, "target", json_string(engine_step_target(r, s)));
	json_object_set_new(rec, "mutates", json_boolean(s->mutates));
	json_object_set_new(rec, "idempotent", json_boolean(s->idempotent));
	if (engine_record(r, rec, true) < 0) {
		engine_fail(r, "%s", r->journal_error);
		goto out;
	}
	rq.method = h->method;
	rq.url = url;
	rq.headers = (const char *const *)hdrs;
	rq.body = body;
	rq.timeout_ms = s->timeout_ms;
	rq.loopback_only = r->loopback_only;
	rq.shown_url = shown;
	ok = http_perform(&rq, &rs, &err) == 0;
	if (ok) {
		bool status_ok = h->nstatus == 0 && rs.status >= 200 && rs.status < 300;
		for (i = 0; i < h->nstatus; i++)
			status_ok |= h->status[i] == rs.status;
		if (!status_ok)
			snprintf(err.msg, sizeof(err.msg), "HTTP status %ld", rs.status);
		ok = status_ok;
	}
	rec = engine_step_rec("step_end", s, r);
	json_object_set_new(rec, "status", json_string(ok ? "ok" : "failed"));
	json_object_set_new(rec, "http_status", json_integer(rs.status));
	if (!ok)
		json_object_set_new(rec, "error", journal_string(err.msg));
	if (ok) {
		char *b = engine_redact(r, rs.body.data);
		json_object_set_new(rec, "stdout_tail", journal_string(b));
		take_captures(r, s, rs.body.data, rec);
		free(b);
	}
	engine_record(r, rec, false);
	http_response_release(&rs);
	if (!ok)
		engine_fail(r, "step '%s' failed: %s", s->name, err.msg);
	rc = ok ? 0 : -1;
out:
	for (i = 0; i < h->nheaders; i++)
		free(hdrs[i]);
	free(hdrs);
	free(url);
	free(shown);
	free(body);
	return rc;
}

static int
run_confirm(struct run *r, const struct step *s)
{
	struct rbx_err err;
	char *q = engine_render_step(r, s, true, NULL, &err);
	json_t *rec;
	int answer;

	if (!q) {
		engine_fail(r, "step '%s': %s", s->name, err.msg);
		return -1;
	}
	/* An answer given for this step in advance wins over --yes: it names the step. */
	if (strmap_get(&r->answers, s->name))
		answer = !strcmp(strmap_get(&r->answers, s->name), "yes");
	else if (r->yes)
		answer = 1;
	else if (r->io.confirm)
		answer = r->io.confirm(r->io.arg, q);
	else
		answer = -1;
	if (engine_interrupted(r)) {
		/* Ctrl-C at the question is no answer: a resume asks again. */
		engine_fail(r, "step '%s': interrupted at the question", s->name);
		free(q);
		return -1;
	}
	rec = engine_step_rec("confirm", s, r);
	json_object_set_new(rec, "question", journal_string(q));
	json_object_set_new(rec, "answer", json_string(answer == 1 ? "yes" : answer == 0 ? "no"
										   : "none"));
	json_object_set_new(rec, "by", json_string(strmap_get(&r->answers, s->name) ? "--answer"
						  : r->yes ? "--yes"
						  : answer >= 0 ? "operator"
						  : r->io.confirm ? "end of input"
								  : "no TTY"));
	if (engine_record(r, rec, true) < 0)
		answer = -2; /* not recorded: not acted on */
	free(q);
	if (answer == 1)
		return 0;
	/* A "no" is the operator's decision: roll back, and do not try again. */
	r->no_more_attempts = true;
	engine_fail(r, "step '%s': %s", s->name,
		 answer == 0	  ? "the operator declined"
		 : answer == -2	  ? r->journal_error
		 : r->io.confirm ? "no answer (end of input)"
				  : "no TTY to ask, no --yes and no --answer");
	return -1;
}

int
engine_guard_op(struct run *r, const char *op, long long timeout_ms)
{
	struct rbx_err err;
	char *reason = plan_guard_reason(r->run_id, r->rb->name);
	json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "guard", "op", op, "status",
				"start", "backend", r->sched->ops->name, "reason", reason);
	int rc;

	if (engine_record(r, rec, true) < 0) {
		engine_fail(r, "%s", r->journal_error);
		free(reason);
		return -1;
	}
	if (!strcmp(op, "cordon"))
		rc = r->sched->ops->cordon(r->sched, reason, &err);
	else if (!strcmp(op, "drain"))
		rc = r->sched->ops->drain(r->sched, reason, timeout_ms, &err);
	else
		rc = r->sched->ops->uncordon(r->sched, &err);
	rec = json_pack("{s:s, s:s, s:s}", "type", "guard", "op", op, "status",
			rc == 0 ? "ok" : "failed");
	if (rc < 0) {
		json_object_set_new(rec, "error", journal_string(err.msg));
		engine_fail(r, "%s %s: %s", op, r->node, err.msg);
	}
	/* A result announces nothing: the next intent's sync carries it (a resume that finds
	 * only the start does the operation again, as it does after a kill). */
	engine_record(r, rec, false);
	free(reason);
	return rc;
}

static int
run_action(struct run *r, const struct step *s)
{
	struct rbx_err err;
	json_t *rec;
	int64_t t0 = util_now_ms();
	int rc = 0;

	switch (s->action) {
	case ACTION_CORDON:
		return engine_guard_op(r, "cordon", 0);
	case ACTION_DRAIN:
		return engine_guard_op(r, "drain", s->timeout_ms);
	case ACTION_UNCORDON:
		rc = engine_guard_op(r, "uncordon", 0);
		if (rc == 0)
			r->guard_held = false;
		return rc;
	default:
		break;
	}
	rec = engine_step_rec("step_start", s, r);
	json_object_set_new(rec, "action", json_string(step_action_name(s->action)));
	json_object_set_new(rec, "target", json_string(engine_step_target(r, s)));
	json_object_set_new(rec, "mutates", json_boolean(s->mutates));
	json_object_set_new(rec, "idempotent", json_boolean(s->idempotent));
	if (engine_record(r, rec, true) < 0) {
		engine_fail(r, "%s", r->journal_error);
		return -1;
	}
	if (s->action == ACTION_SLEEP) {
		rc = sleep_ms(r, r->node_tx, s->duration_ms) ? 0 : -1;
		if (rc)
			engine_fail(r, "interrupted");
	} else if (s->action == ACTION_REBOOT) {
		rc = r->node_tx->ops->reboot(r->node_tx, s->timeout_ms, &err);
	} else {
		rc = r->node_tx->ops->wait_up(r->node_tx, s->timeout_ms, &err);
	}
	if (rc < 0 && s->action != ACTION_SLEEP)
		engine_fail(r, "step '%s' failed: %s", s->name, err.msg);
	rec = engine_step_rec("step_end", s, r);
	json_object_set_new(rec, "status", json_string(rc == 0 ? "ok" : "failed"));
	json_object_set_new(rec, "duration_ms", json_integer(util_now_ms() - t0));
	if (rc < 0)
		json_object_set_new(rec, "error", journal_string(r->failure));
	engine_record(r, rec, false);
	return rc;
}

/* Run one step: `when`, the guard invariant, then its action. 0 ok/skipped, -1 failed. */
int
engine_run_step(struct run *r, const struct step *s, bool *skipped)
{
	const struct step_mark *m = engine_find_mark(r, s);

	*skipped = false;
	if (m && m->ok) {
		/* Done before the run stopped: its captures came back from the journal. */
		*skipped = true;
		return 0;
	}
	if (m && ((s->kind != STEP_SSH && s->kind != STEP_RUN) || m->tries >= 1 + s->retries)) {
		/* It failed for good before the run stopped: the same failure, not a new try. */
		engine_fail(r, "step '%s' failed: %s", s->name, m->error);
		return -1;
	}
	if (s->when && !engine_when(s->when, &r->params, &r->captures)) {
		json_t *rec = engine_step_rec("step_skip", s, r);
		json_object_set_new(rec, "reason", json_string("when"));
		engine_record(r, rec, false);
		*skipped = true;
		return 0;
	}
	/* A cluster change (a job, a deployment) needs no node guard; a node change does. */
	if (s->mutates && !s->cluster && !r->guard_held) {
		json_t *rec = engine_step_rec("step_refused", s, r);
		engine_fail(r, "step '%s' mutates the node, and the guard does not hold: refused",
			 s->name);
		json_object_set_new(rec, "error", journal_string(r->failure));
		engine_record(r, rec, true);
		return -1;
	}
	switch (s->kind) {
	case STEP_SSH:
	case STEP_RUN:
		return run_command(r, s);
	case STEP_HTTP:
		return run_http(r, s);
	case STEP_CONFIRM:
		return run_confirm(r, s);
	case STEP_ACTION:
		return run_action(r, s);
	}
	return -1;
}

bool
engine_interrupted(const struct run *r)
{
	return (r->interrupted && *r->interrupted) || r->journal_failed || r->step_lost || r->unreached;
}

char *
engine_step_tag(const char *run_id, int attempt, const char *phase, int index, int of, int try)
{
	return xasprintf("%s.%d.%s.%d.%d.%d", run_id, attempt, phase, index, of, try);
}

