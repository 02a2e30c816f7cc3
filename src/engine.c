/* engine.c - drives one run through the state machine: pre-checks, guard,
 * procedure, verify, rollback, restore. Every record is journaled before it acts. */
#define _GNU_SOURCE
#include "rbx/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "rbx/http.h"
#include "rbx/journal.h"
#include "rbx/sched.h"
#include "rbx/template.h"
#include "rbx/transport.h"
#include "rbx/utf8.h"

/* ---- the state machine, as data --------------------------------------------------- */

const struct transition engine_transitions[] = {
	{RS_PENDING, EV_START, RS_PRECHECK, "start"},
	{RS_PRECHECK, EV_OK, RS_GUARD, "pre-checks pass"},
	{RS_PRECHECK, EV_FAIL, RS_ABORTED, "a pre-check fails: nothing was changed"},
	{RS_GUARD, EV_OK, RS_PROCEDURE, "the guard holds"},
	{RS_GUARD, EV_FAIL, RS_ABORTED, "the guard cannot hold: it is undone"},
	{RS_PROCEDURE, EV_OK, RS_VERIFY, "every step done"},
	{RS_PROCEDURE, EV_FAIL, RS_ROLLBACK, "a step fails"},
	{RS_VERIFY, EV_OK, RS_RESTORE, "every proof holds"},
	{RS_VERIFY, EV_FAIL, RS_ROLLBACK, "a proof fails"},
	{RS_ROLLBACK, EV_RETRY, RS_PROCEDURE, "rolled back, attempts left"},
	{RS_ROLLBACK, EV_OK, RS_FAILED, "rolled back, no attempts left: node stays cordoned"},
	{RS_ROLLBACK, EV_ROLLBACK_FAIL, RS_FAILED_UNSAFE, "a rollback step fails: node needs a human"},
	{RS_RESTORE, EV_OK, RS_SUCCEEDED, "back in service (or kept out as decided)"},
	{RS_RESTORE, EV_FAIL, RS_FAILED, "cannot return the node: it stays cordoned"},
	{RS_PRECHECK, EV_INTERRUPT, RS_INTERRUPTED, "interrupted"},
	{RS_GUARD, EV_INTERRUPT, RS_INTERRUPTED, "interrupted"},
	{RS_PROCEDURE, EV_INTERRUPT, RS_INTERRUPTED, "interrupted"},
	{RS_VERIFY, EV_INTERRUPT, RS_INTERRUPTED, "interrupted"},
	{RS_ROLLBACK, EV_INTERRUPT, RS_INTERRUPTED, "interrupted"},
	{RS_RESTORE, EV_INTERRUPT, RS_INTERRUPTED, "interrupted"},
};
const size_t engine_ntransitions = sizeof(engine_transitions) / sizeof(engine_transitions[0]);

static const char *const state_names[RS_COUNT] = {
	"PENDING", "PRECHECK", "GUARD", "PROCEDURE", "VERIFY", "ROLLBACK", "RESTORE",
	"SUCCEEDED", "ABORTED", "FAILED", "FAILED_UNSAFE", "INTERRUPTED",
};
static const char *const event_names[EV_COUNT] = {
	"start", "ok", "fail", "retry", "rollback_fail", "interrupt",
};

const char *
run_state_name(enum run_state s)
{
	return s < RS_COUNT ? state_names[s] : "?";
}

const char *
run_event_name(enum run_event e)
{
	return e < EV_COUNT ? event_names[e] : "?";
}

bool
run_state_terminal(enum run_state s)
{
	return s >= RS_SUCCEEDED && s < RS_COUNT;
}

int
engine_exit_code(enum run_state s)
{
	switch (s) {
	case RS_SUCCEEDED: return 0;
	case RS_FAILED: return 1;
	case RS_ABORTED: return 3;
	case RS_FAILED_UNSAFE: return 4;
	case RS_INTERRUPTED: return 130;
	default: return 1;
	}
}

enum run_state
engine_next(enum run_state s, enum run_event e)
{
	size_t i;

	for (i = 0; i < engine_ntransitions; i++)
		if (engine_transitions[i].from == s && engine_transitions[i].ev == e)
			return engine_transitions[i].to;
	return RS_COUNT;
}

/* ---- params ------------------------------------------------------------------------ */

static int
bind_params(const struct runbook *rb, const struct strmap *given, struct strmap *out,
	    bool allow_missing, struct rbx_err *err)
{
	size_t i;

	for (i = 0; given && i < given->n; i++)
		if (!runbook_param(rb, given->keys[i]))
			return err_set(err, "runbook '%s' has no parameter '%s'", rb->name,
				       given->keys[i]);
	for (i = 0; i < rb->nparams; i++) {
		const struct param *p = &rb->params[i];
		const char *v = given ? strmap_get(given, p->name) : NULL;

		if (!v)
			v = p->def;
		if (!v && allow_missing)
			continue;
		if (!v)
			return err_set(err, "parameter '%s' is required (%s): give --param %s=VALUE",
				       p->name, p->description, p->name);
		if (p->pattern && regexec(&p->re, v, 0, NULL, 0) != 0)
			return err_set(err, "parameter '%s' = '%s' does not match %s", p->name,
				       p->secret ? "***" : v, p->pattern);
		strmap_set(out, p->name, v);
	}
	return 0;
}

int
engine_bind_params(const struct runbook *rb, const struct strmap *given, struct strmap *out,
		   struct rbx_err *err)
{
	return bind_params(rb, given, out, false, err);
}

int
engine_bind_params_plan(const struct runbook *rb, const struct strmap *given, struct strmap *out,
			struct rbx_err *err)
{
	return bind_params(rb, given, out, true, err);
}

bool
engine_when(const struct when *w, const struct strmap *params, const struct strmap *captures)
{
	const char *v;
	size_t i;

	switch (w->kind) {
	case WHEN_NOT:
		return !engine_when(w->subs[0], params, captures);
	case WHEN_ANY:
		for (i = 0; i < w->nsubs; i++)
			if (engine_when(w->subs[i], params, captures))
				return true;
		return false;
	case WHEN_ALL:
		for (i = 0; i < w->nsubs; i++)
			if (!engine_when(w->subs[i], params, captures))
				return false;
		return true;
	case WHEN_TEST:
		break;
	}
	v = strmap_get(w->is_param ? params : captures, w->name);
	if (!v)
		v = "";
	if (w->op == WHEN_MATCHES)
		return regexec(&w->re, v, 0, NULL, 0) == 0;
	for (i = 0; i < w->nvalues; i++)
		if (strcmp(v, w->values[i]) == 0)
			return true;
	return false;
}

/* ---- records -------------------------------------------------------------------------- */

static void
fail_msg(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fail_msg(struct run *r, const char *fmt, ...)
{
	va_list ap;

	char msg[sizeof(r->failure)];

	/* Formatted apart: an argument may be r->failure itself. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	msg[utf8_cut(msg, sizeof(msg) - 1)] = 0;
	utf8_scrub(msg);
	memcpy(r->failure, msg, sizeof(msg));
}

/*
 * Journal first (synced when it announces a side effect), then show. Returns
 * -1 when the record is not on disk: the caller must not do what it announces.
 * After a failure nothing more is written and the run stops acting.
 */
static int
emit(struct run *r, json_t *rec, bool sync)
{
	struct rbx_err err;
	int rc = 0;

	if (r->journal_failed) {
		rc = -1;
	} else if (r->journal && journal_append_record(r->journal, rec, sync, &err) < 0) {
		r->journal_failed = true;
		snprintf(r->journal_error, sizeof(r->journal_error), "%s", err.msg);
		rc = -1;
	}
	if (rc == 0 && r->io.event)
		r->io.event(r->io.arg, rec);
	json_decref(rec);
	return rc;
}

/* Replace every secret param's value in s with *** (in place into a new string). */
static char *
redact(const struct run *r, const char *s)
{
	char *out = xstrdup(s);
	size_t i;

	for (i = 0; i < r->rb->nparams; i++) {
		const struct param *p = &r->rb->params[i];
		const char *v = strmap_get(&r->params, p->name);
		struct buf b;
		char *hit, *from;

		if (!p->secret || !v || !*v)
			continue;
		buf_init(&b, 0);
		for (from = out; (hit = strstr(from, v)) != NULL; from = hit + strlen(v)) {
			buf_add(&b, from, (size_t)(hit - from));
			buf_adds(&b, "***");
		}
		buf_adds(&b, from);
		free(out);
		out = buf_detach(&b);
	}
	return out;
}

static json_t *
step_rec(const char *type, const struct step *s, const struct run *r)
{
	json_t *rec = json_pack("{s:s, s:s, s:i, s:s, s:s, s:i}", "type", type, "phase",
				s->index ? phase_name(s->phase) : "undo", "index", s->index, "name",
				s->name, "kind", step_kind_name(s->kind), "attempt", r->attempt);

	/* An undo is named by its step, so a resume can tell which one ran. */
	if (!s->index)
		json_object_set_new(rec, "of", json_integer(s->undo_of));
	return rec;
}

void
engine_emit(struct run *r, json_t *rec)
{
	emit(r, rec, true);
}

void
run_mark_step(struct run *r, const struct step *s, int tries, bool ok, const char *error)
{
	struct step_mark *m = (struct step_mark *)run_find_mark(r, s);

	if (!m) {
		r->marks = xrealloc(r->marks, (r->nmarks + 1) * sizeof(*r->marks));
		m = &r->marks[r->nmarks++];
	}
	m->s = s;
	m->tries = tries;
	m->ok = ok;
	snprintf(m->error, sizeof(m->error), "%s", error ? error : "");
}

const struct step_mark *
run_find_mark(const struct run *r, const struct step *s)
{
	size_t i;

	for (i = 0; i < r->nmarks; i++)
		if (r->marks[i].s == s)
			return &r->marks[i];
	return NULL;
}

void
run_add_done(struct run *r, const struct step *s)
{
	r->done = xrealloc(r->done, (r->ndone + 1) * sizeof(*r->done));
	r->done[r->ndone++] = s;
}

static void
tmpl_init(const struct run *r, struct tmpl_ctx *c, bool redacted)
{
	memset(c, 0, sizeof(*c));
	c->node = r->node;
	c->run_id = r->run_id;
	c->attempt = r->attempt;
	c->params = &r->params;
	c->captures = &r->captures;
	c->rb = r->rb;
	c->redact = redacted;
}

static char *
render_vars(const struct run *r, const char *tmpl, enum tmpl_mode mode, bool redacted,
	    struct strmap *vars, struct rbx_err *err)
{
	struct tmpl_ctx c;
	struct buf b;

	tmpl_init(r, &c, redacted);
	c.vars = vars;
	buf_init(&b, 0);
	if (template_render(tmpl, mode, &c, &b, err) < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static char *
render(const struct run *r, const char *tmpl, enum tmpl_mode mode, bool redacted,
       struct rbx_err *err)
{
	return render_vars(r, tmpl, mode, redacted, NULL, err);
}

/* The values a command's references stand for, as the journal shows them: secrets hidden. */
static json_t *
vars_rec(const struct run *r, const struct strmap *vars)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < vars->n; i++) {
		char *v = redact(r, vars->vals[i]);
		json_object_set_new(o, vars->keys[i], journal_string(v));
		free(v);
	}
	return o;
}

/* ---- one step ------------------------------------------------------------------------- */

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
sleep_ms(struct run *r, long long ms)
{
	int64_t end = util_now_ms() + ms;

	while (util_now_ms() < end) {
		long long left = end - util_now_ms();
		if (r->interrupted && *r->interrupted)
			return false;
		/* In slices, so an interrupt is seen within 100 ms. */
		util_sleep_ms(left > 100 ? 100 : left);
	}
	return !(r->interrupted && *r->interrupted);
}

static char *
trimmed(const char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
		       s[len - 1] == '\r'))
		len--;
	return xstrndup(s, len);
}

static bool
exit_expected(const struct step *s, int status)
{
	size_t i;

	for (i = 0; i < s->expect.nexits; i++)
		if (s->expect.exits[i] == status)
			return true;
	return false;
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
	if (!exit_expected(s, res->status)) {
		snprintf(why, n, "exit status %d", res->status);
		return false;
	}
	if (s->expect.stdout_re && regexec(&s->expect.out_re, res->out.data, 0, NULL, 0) != 0) {
		snprintf(why, n, "stdout does not match /%s/", s->expect.stdout_re);
		return false;
	}
	if (s->expect.stdout_not && regexec(&s->expect.not_re, res->out.data, 0, NULL, 0) == 0) {
		snprintf(why, n, "stdout matches /%s/", s->expect.stdout_not);
		return false;
	}
	return true;
}

static void
take_captures(struct run *r, const struct step *s, const char *out, json_t *rec)
{
	json_t *caps = json_object();
	size_t i;

	for (i = 0; i < s->ncaptures; i++) {
		const struct capture *c = &s->captures[i];
		char *v;

		if (!c->pattern) {
			v = trimmed(out);
		} else {
			regmatch_t m[2];
			if (regexec(&c->re, out, 2, m, 0) != 0)
				v = xstrdup("");
			else if (m[1].rm_so >= 0)
				v = xstrndup(out + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
			else
				v = xstrndup(out + m[0].rm_so, (size_t)(m[0].rm_eo - m[0].rm_so));
		}
		strmap_set(&r->captures, c->name, v);
		/* The value stays whole for later steps; the record never holds a secret. */
		{
			char *shown = redact(r, v);
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
	char *ro = redact(r, o), *re = redact(r, e);

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
	char *cmd = render_vars(r, s->text, TMPL_SHELL, false, &vars, &err);
	struct step_io sio = {r, s};
	const struct step_mark *m = r->resuming ? run_find_mark(r, s) : NULL;
	int try, rc = -1;

	if (!cmd) {
		fail_msg(r, "step '%s': %s", s->name, err.msg);
		strmap_release(&vars);
		return -1;
	}
	/* Resumed: the tries the journal shows used are not given again. */
	for (try = m ? m->tries + 1 : 1; try <= 1 + s->retries; try++) {
		struct exec_opts o = {0};
		struct exec_result res;
		json_t *rec = step_rec("step_start", s, r);
		char why[512] = "", *tag = engine_step_tag(r->run_id, r->attempt,
							   s->index ? phase_name(s->phase) : "undo",
							   s->index, s->index ? 0 : s->undo_of, try);
		bool ok;

		json_object_set_new(rec, "try", json_integer(try));
		json_object_set_new(rec, "cmd", journal_string(cmd));
		if (vars.n)
			json_object_set_new(rec, "env", vars_rec(r, &vars));
		json_object_set_new(rec, "target", json_string(tx->address));
		json_object_set_new(rec, "mutates", json_boolean(s->mutates));
		json_object_set_new(rec, "idempotent", json_boolean(s->idempotent));
		if (emit(r, rec, true) < 0) {
			/* Its intent is not on disk: the step does not start. */
			fail_msg(r, "%s", r->journal_error);
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
		rec = step_rec("step_end", s, r);
		json_object_set_new(rec, "try", json_integer(try));
		json_object_set_new(rec, "status",
				    json_string(ok ? "ok"
						: res.lost ? "lost"
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
		emit(r, rec, false);
		exec_result_release(&res);
		free(tag);
		if (ok) {
			rc = 0;
			break;
		}
		fail_msg(r, "step '%s' failed: %s", s->name, why);
		if (res.lost) {
			/* Neither failed nor done: never retried, never rolled back over; a resume decides. */
			r->step_lost = true;
			fail_msg(r, "step '%s' is in doubt: %s", s->name, why);
			break;
		}
		if (res.interrupted || (r->interrupted && *r->interrupted))
			break;
		if (try <= s->retries && !sleep_ms(r, s->retry_delay_ms))
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
		hdrs[i] = render(r, h->headers[i], TMPL_TEXT, false, err);
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
	char *url = render(r, h->url, TMPL_URL, false, &err), *body = NULL, *shown = NULL;
	json_t *rec;
	size_t i;
	int rc = -1, ok;

	if (url && http_headers(r, h, hdrs, &err) == 0 && h->body)
		body = render(r, h->body, http_body_mode(h), false, &err);
	if (!url || (h->nheaders && !hdrs[h->nheaders - 1]) || (h->body && !body)) {
		fail_msg(r, "step '%s': %s", s->name, err.msg);
		goto out;
	}
	/* Secrets in the URL are hidden wherever it is shown: the journal, the errors. */
	shown = render(r, h->url, TMPL_URL, true, &err);
	rec = step_rec("step_start", s, r);
	json_object_set_new(rec, "cmd", json_pack("s++", h->method, " ", shown));
	json_object_set_new(rec, "mutates", json_boolean(s->mutates));
	json_object_set_new(rec, "idempotent", json_boolean(s->idempotent));
	if (emit(r, rec, true) < 0) {
		fail_msg(r, "%s", r->journal_error);
		goto out;
	}
	rq.method = h->method;
	rq.url = url;
	rq.headers = (const char *const *)hdrs;
	rq.body = body;
	rq.timeout_ms = s->timeout_ms;
	rq.loopback_only = r->lab;
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
	rec = step_rec("step_end", s, r);
	json_object_set_new(rec, "status", json_string(ok ? "ok" : "failed"));
	json_object_set_new(rec, "http_status", json_integer(rs.status));
	if (!ok)
		json_object_set_new(rec, "error", journal_string(err.msg));
	if (ok) {
		char *b = redact(r, rs.body.data);
		json_object_set_new(rec, "stdout_tail", journal_string(b));
		take_captures(r, s, rs.body.data, rec);
		free(b);
	}
	emit(r, rec, false);
	http_response_release(&rs);
	if (!ok)
		fail_msg(r, "step '%s' failed: %s", s->name, err.msg);
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

static bool interrupted(const struct run *r);

static int
run_confirm(struct run *r, const struct step *s)
{
	struct rbx_err err;
	char *q = render(r, s->text, TMPL_TEXT, true, &err);
	json_t *rec;
	int answer;

	if (!q) {
		fail_msg(r, "step '%s': %s", s->name, err.msg);
		return -1;
	}
	if (r->yes)
		answer = 1;
	else if (r->io.confirm)
		answer = r->io.confirm(r->io.arg, q);
	else
		answer = -1;
	if (interrupted(r)) {
		/* Ctrl-C at the question is no answer: a resume asks again. */
		fail_msg(r, "step '%s': interrupted at the question", s->name);
		free(q);
		return -1;
	}
	rec = step_rec("confirm", s, r);
	json_object_set_new(rec, "question", journal_string(q));
	json_object_set_new(rec, "answer", json_string(answer == 1 ? "yes" : answer == 0 ? "no"
										   : "none"));
	json_object_set_new(rec, "by", json_string(r->yes ? "--yes"
						  : answer >= 0 ? "operator"
						  : r->io.confirm ? "end of input"
								  : "no TTY"));
	if (emit(r, rec, true) < 0)
		answer = -2; /* not recorded: not acted on */
	free(q);
	if (answer == 1)
		return 0;
	/* A "no" is the operator's decision: roll back, and do not try again. */
	r->no_more_attempts = true;
	fail_msg(r, "step '%s': %s", s->name,
		 answer == 0	  ? "the operator declined"
		 : answer == -2	  ? r->journal_error
		 : r->io.confirm ? "no answer (end of input)"
				  : "no TTY to ask and no --yes");
	return -1;
}

static int
guard_op(struct run *r, const char *op, long long timeout_ms)
{
	struct rbx_err err;
	char *reason = xasprintf("rbx:%s %s", r->run_id, r->rb->name);
	json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "guard", "op", op, "status",
				"start", "backend", r->sched->ops->name, "reason", reason);
	int rc;

	if (emit(r, rec, true) < 0) {
		fail_msg(r, "%s", r->journal_error);
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
		fail_msg(r, "%s %s: %s", op, r->node, err.msg);
	}
	emit(r, rec, true);
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
		return guard_op(r, "cordon", 0);
	case ACTION_DRAIN:
		return guard_op(r, "drain", s->timeout_ms);
	case ACTION_UNCORDON:
		rc = guard_op(r, "uncordon", 0);
		if (rc == 0)
			r->guard_held = false;
		return rc;
	default:
		break;
	}
	rec = step_rec("step_start", s, r);
	json_object_set_new(rec, "action", json_string(step_action_name(s->action)));
	json_object_set_new(rec, "mutates", json_boolean(s->mutates));
	json_object_set_new(rec, "idempotent", json_boolean(s->idempotent));
	if (emit(r, rec, true) < 0) {
		fail_msg(r, "%s", r->journal_error);
		return -1;
	}
	if (s->action == ACTION_SLEEP) {
		rc = sleep_ms(r, s->duration_ms) ? 0 : -1;
		if (rc)
			fail_msg(r, "interrupted");
	} else if (s->action == ACTION_REBOOT) {
		rc = r->node_tx->ops->reboot(r->node_tx, s->timeout_ms, &err);
	} else {
		rc = r->node_tx->ops->wait_up(r->node_tx, s->timeout_ms, &err);
	}
	if (rc < 0 && s->action != ACTION_SLEEP)
		fail_msg(r, "step '%s' failed: %s", s->name, err.msg);
	rec = step_rec("step_end", s, r);
	json_object_set_new(rec, "status", json_string(rc == 0 ? "ok" : "failed"));
	json_object_set_new(rec, "duration_ms", json_integer(util_now_ms() - t0));
	if (rc < 0)
		json_object_set_new(rec, "error", journal_string(r->failure));
	emit(r, rec, false);
	return rc;
}

/* Run one step: `when`, the guard invariant, then its action. 0 ok/skipped, -1 failed. */
static int
run_step(struct run *r, const struct step *s, bool *skipped)
{
	const struct step_mark *m = r->resuming ? run_find_mark(r, s) : NULL;

	*skipped = false;
	if (m && m->ok) {
		/* Done before the run stopped: its captures came back from the journal. */
		*skipped = true;
		return 0;
	}
	if (m && ((s->kind != STEP_SSH && s->kind != STEP_RUN) || m->tries >= 1 + s->retries)) {
		/* It failed for good before the run stopped: the same failure, not a new try. */
		fail_msg(r, "step '%s' failed: %s", s->name, m->error);
		return -1;
	}
	if (s->when && !engine_when(s->when, &r->params, &r->captures)) {
		json_t *rec = step_rec("step_skip", s, r);
		json_object_set_new(rec, "reason", json_string("when"));
		emit(r, rec, false);
		*skipped = true;
		return 0;
	}
	if (s->mutates && !r->guard_held) {
		json_t *rec = step_rec("step_refused", s, r);
		fail_msg(r, "step '%s' mutates the node, and the guard does not hold: refused",
			 s->name);
		json_object_set_new(rec, "error", journal_string(r->failure));
		emit(r, rec, true);
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

static bool
interrupted(const struct run *r)
{
	return (r->interrupted && *r->interrupted) || r->journal_failed || r->step_lost;
}

char *
engine_step_tag(const char *run_id, int attempt, const char *phase, int index, int of, int try)
{
	return xasprintf("%s.%d.%s.%d.%d.%d", run_id, attempt, phase, index, of, try);
}

/* ---- phases --------------------------------------------------------------------------- */

/*
 * A `when` evaluated before the procedure runs: 1 true, 0 false, -1 not yet
 * known (it tests a capture no step has set yet). Kleene logic, so
 * any(false, unknown) stays unknown but all(false, unknown) is false.
 */
static int
when_now(const struct when *w, const struct strmap *params, const struct strmap *captures)
{
	size_t i;
	int v, acc;

	switch (w->kind) {
	case WHEN_NOT:
		v = when_now(w->subs[0], params, captures);
		return v < 0 ? -1 : !v;
	case WHEN_ANY:
	case WHEN_ALL:
		acc = w->kind == WHEN_ALL;
		for (i = 0; i < w->nsubs; i++) {
			v = when_now(w->subs[i], params, captures);
			if (v == (w->kind == WHEN_ANY))
				return v;
			if (v < 0)
				acc = -1;
		}
		return acc;
	case WHEN_TEST:
		break;
	}
	if (!w->is_param && !strmap_get(captures, w->name))
		return -1;
	return engine_when(w, params, captures);
}

/* With no one to ask, stop before the guard if a confirm step may be reached. */
static const struct step *
unanswerable_confirm(const struct run *r)
{
	int p;
	size_t i;

	if (r->yes || r->io.confirm)
		return NULL;
	for (p = PHASE_PROCEDURE; p < PHASE_COUNT; p++) {
		for (i = 0; i < r->rb->nsteps[p]; i++) {
			const struct step *s = r->rb->steps[p][i];
			if (s->kind != STEP_CONFIRM)
				continue;
			if (!s->when || when_now(s->when, &r->params, &r->captures) != 0)
				return s;
		}
	}
	return NULL;
}

static enum run_event
run_phase_steps(struct run *r, enum phase p, bool track)
{
	size_t i;

	for (i = 0; i < r->rb->nsteps[p]; i++) {
		const struct step *s = r->rb->steps[p][i];
		bool skipped;

		if (run_step(r, s, &skipped) < 0)
			return interrupted(r) ? EV_INTERRUPT : EV_FAIL;
		if (skipped)
			continue;
		/* A step with an undo changed something worth undoing, on the node or off it. */
		if (track && (s->mutates || s->undo))
			run_add_done(r, s);
		if (s->keep_cordoned && !r->keep_cordoned) {
			r->keep_cordoned = true;
			snprintf(r->keep_reason, sizeof(r->keep_reason), "%s", s->name);
		}
		if (interrupted(r))
			return EV_INTERRUPT;
	}
	return EV_OK;
}

/* Connect and check the node's identity before any step: a wrong host key stops here. */
static int
open_transport(struct run *r)
{
	struct rbx_err err;
	int rc;

	if (!r->node_tx || !r->node_tx->ops->open)
		return 0;
	rc = r->node_tx->ops->open(r->node_tx, &err);
	emit(r, json_pack("{s:s, s:s, s:s, s:s}", "type", "transport", "target", r->node_tx->address,
			  "status", rc == 0 ? "ok" : "failed", "error", rc == 0 ? "" : err.msg),
	     false);
	if (rc < 0)
		fail_msg(r, "%s", err.msg);
	return rc;
}

static enum run_event
phase_precheck(struct run *r)
{
	enum run_event ev;
	const struct step *s;

	if (open_transport(r) < 0)
		return EV_FAIL;
	ev = run_phase_steps(r, PHASE_PRE_CHECKS, false);

	if (ev != EV_OK)
		return ev;
	if ((s = unanswerable_confirm(r)) != NULL) {
		fail_msg(r, "%s step %d '%s' asks for confirmation, and there is no TTY to ask "
			    "and no --yes: stopping before any change",
			 phase_name(s->phase), s->index, s->name);
		return EV_FAIL;
	}
	return EV_OK;
}

/* A reason rbx wrote for this run: "rbx:<run id> ...". */
static bool
ours(const struct run *r, const char *reason)
{
	size_t n = strlen(r->run_id);

	return !strncmp(reason, "rbx:", 4) && !strncmp(reason + 4, r->run_id, n) &&
	       (reason[4 + n] == ' ' || !reason[4 + n]);
}

static enum run_event
phase_guard(struct run *r)
{
	struct sched_state st;
	struct rbx_err err;
	bool cordoned_by_us = false;

	if (r->rb->guard.none) {
		emit(r, json_pack("{s:s, s:s, s:s}", "type", "guard", "op", "none", "reason",
				  r->rb->guard.none), false);
		return EV_OK;
	}
	if (r->sched->ops->state(r->sched, &st, &err) < 0) {
		fail_msg(r, "cannot read the scheduler state of %s: %s", r->node, err.msg);
		return EV_FAIL;
	}
	/* Before the cordon: a resume must know whether the node was out already. */
	if (emit(r, json_pack("{s:s, s:s, s:b, s:s}", "type", "guard", "op", "found", "cordoned",
			      st.cordoned, "reason", st.reason),
		 true) < 0)
		return EV_INTERRUPT;
	if (st.cordoned && ours(r, st.reason)) {
		/* A resumed run finds its own cordon: the node was found as the journal says. */
		st.cordoned = r->was_cordoned == 1;
	} else if (st.cordoned && !r->adopt) {
		fail_msg(r, "node %s is already out of service (reason: \"%s\"); rbx does not take "
			    "over a node someone else drained: use --adopt to take it",
			 r->node, st.reason);
		return EV_FAIL;
	}
	if (r->rb->guard.cordon) {
		if (guard_op(r, "cordon", 0) < 0)
			return EV_FAIL;
		cordoned_by_us = !st.cordoned;
		r->guard_held = true;
	}
	if (r->rb->guard.drain && guard_op(r, "drain", r->rb->guard.drain_timeout_ms) < 0) {
		/* Interrupted: the node stays cordoned, and a resume takes the drain up again. */
		if (interrupted(r))
			return EV_INTERRUPT;
		/* Undo the guard: the node goes back as it was found. */
		if (cordoned_by_us)
			guard_op(r, "uncordon", 0);
		r->guard_held = false;
		return interrupted(r) ? EV_INTERRUPT : EV_FAIL;
	}
	return interrupted(r) ? EV_INTERRUPT : EV_OK;
}

static enum run_event
phase_procedure(struct run *r)
{
	if (r->resuming)
		return run_phase_steps(r, PHASE_PROCEDURE, true);
	free(r->done);
	r->done = NULL;
	r->ndone = 0;
	return run_phase_steps(r, PHASE_PROCEDURE, true);
}

static enum run_event
phase_rollback(struct run *r)
{
	size_t i;
	bool failed = r->resuming && r->rollback_failed;
	char first[sizeof(r->failure)];

	snprintf(first, sizeof(first), "%s", r->resuming ? r->rollback_first : r->failure);
	/* Undo what this attempt changed, newest first. */
	for (i = r->ndone; i-- > 0;) {
		bool skipped;
		if (r->done[i]->undo && run_step(r, r->done[i]->undo, &skipped) < 0)
			failed = true;
		if (interrupted(r))
			return EV_INTERRUPT;
	}
	for (i = 0; i < r->rb->nsteps[PHASE_ROLLBACK]; i++) {
		bool skipped;
		if (run_step(r, r->rb->steps[PHASE_ROLLBACK][i], &skipped) < 0)
			failed = true;
		if (interrupted(r))
			return EV_INTERRUPT;
	}
	if (failed) {
		char why[sizeof(r->failure)];
		snprintf(why, sizeof(why), "%s", r->failure);
		fail_msg(r, "%s; then rollback failed: %.400s", first, why);
		return EV_ROLLBACK_FAIL;
	}
	snprintf(r->failure, sizeof(r->failure), "%s", first);
	if (r->attempt < r->rb->max_attempts && !r->no_more_attempts) {
		r->attempt++;
		r->keep_cordoned = false;
		return EV_RETRY;
	}
	return EV_OK;
}

static enum run_event
phase_restore(struct run *r)
{
	struct rbx_err err;
	char *reason;

	if (!r->guard_held)
		return EV_OK;
	if (!r->keep_cordoned && !r->rb->keep_cordoned)
		return guard_op(r, "uncordon", 0) == 0 ? (r->guard_held = false, EV_OK) : EV_FAIL;
	reason = xasprintf("rbx:%s %s: kept out (%s)", r->run_id, r->rb->name,
			   r->keep_cordoned ? r->keep_reason : "on_success: keep_cordoned");
	if (emit(r, json_pack("{s:s, s:s, s:s}", "type", "guard", "op", "keep_cordoned", "reason",
			      reason),
		 true) < 0) {
		free(reason);
		return EV_INTERRUPT;
	}
	if (r->sched->ops->set_reason(r->sched, reason, &err) < 0)
		fail_msg(r, "cannot record the reason on %s: %s", r->node, err.msg);
	free(reason);
	return EV_OK;
}

/* The node stays cordoned; its reason names the run so the next person knows why. */
static void
mark_failed(struct run *r)
{
	struct rbx_err err;
	char *reason;

	if (!r->guard_held || !r->sched)
		return;
	reason = xasprintf("rbx:%s %s %s", r->run_id, r->rb->name, run_state_name(r->state));
	/* The intent first, like every other change to the node. */
	if (emit(r, json_pack("{s:s, s:s, s:s}", "type", "guard", "op", "keep_cordoned", "reason",
			      reason),
		 true) == 0 &&
	    r->sched->ops->set_reason(r->sched, reason, &err) < 0)
		fail_msg(r, "cannot record the reason on %s: %s", r->node, err.msg);
	free(reason);
}

static enum run_event
enter(struct run *r, enum run_state s)
{
	switch (s) {
	case RS_PRECHECK: return phase_precheck(r);
	case RS_GUARD: return phase_guard(r);
	case RS_PROCEDURE: return phase_procedure(r);
	case RS_VERIFY: return run_phase_steps(r, PHASE_VERIFY, false);
	case RS_ROLLBACK: return phase_rollback(r);
	case RS_RESTORE: return phase_restore(r);
	default: return EV_OK;
	}
}

static enum run_state drive(struct run *r, enum run_event ev);

/* The last record of a run (or of one resume of it), with its exit code. */
static void
emit_run_end(struct run *r)
{
	emit(r, json_pack("{s:s, s:s, s:i, s:i, s:b, s:s, s:I}", "type", "run_end", "state",
			  run_state_name(r->state), "exit", engine_exit_code(r->state), "attempts",
			  r->attempt, "node_in_service",
			  r->state == RS_SUCCEEDED && !r->guard_held, "error",
			  r->state == RS_SUCCEEDED ? "" : r->failure, "duration_ms",
			  (json_int_t)(util_now_ms() - r->started_ms)),
	     true);
}

enum run_state
engine_run(struct run *r)
{
	enum run_event ev = EV_START;
	json_t *params = json_object(), *start_rec;
	size_t i;

	r->state = RS_PENDING;
	r->attempt = 1;
	r->started_ms = util_now_ms();
	if (r->sched)
		r->sched->cancel = r->interrupted; /* Ctrl-C ends a drain's wait, too */
	for (i = 0; i < r->params.n; i++) {
		const struct param *p = runbook_param(r->rb, r->params.keys[i]);
		/* A secret at the runbook's default is marked so, so a resume can take the default. */
		bool at_default = p && p->def && !strcmp(p->def, r->params.vals[i]);
		json_object_set_new(params, r->params.keys[i],
				    journal_string(p && p->secret ? (at_default ? "***default" : "***")
							       : r->params.vals[i]));
	}
	start_rec = json_pack("{s:s, s:i, s:s, s:s, s:s?, s:s, s:o, s:b, s:s?, s:i, s:b, s:b, s:s, s:s, s:i}",
			  "type", "run_start", "format", JOURNAL_FORMAT, "runbook", r->rb->name,
			  "path", r->rb->path, "runbook_digest", r->runbook_digest, "node", r->node,
			  "params", params, "lab", r->lab, "inventory", r->inventory,
			  "max_attempts", r->rb->max_attempts, "yes", r->yes, "adopt", r->adopt,
			  "transport", r->node_tx ? r->node_tx->address : "-", "scheduler",
			  r->sched ? r->sched->ops->name : "-", "pid", (int)getpid());
	if (r->target)
		json_object_set(start_rec, "target", r->target);
	emit(r, start_rec, true);
	if (r->fleet)
		emit(r, json_pack("{s:s, s:s, s:O}", "type", "fleet", "op", "acquired", "slots",
				  r->fleet),
		     true);
	return drive(r, ev);
}

/* From r->state (already entered, its event ev), to a final state and run_end. */
static enum run_state
drive(struct run *r, enum run_event ev)
{
	while (!run_state_terminal(r->state)) {
		enum run_state next = engine_next(r->state, ev);

		if (interrupted(r) && next != RS_COUNT && !run_state_terminal(next))
			next = engine_next(r->state, EV_INTERRUPT);
		if (next == RS_INTERRUPTED && r->lease_lost && *r->lease_lost) {
			/* Without the slot, rbx may be past the fleet's budget: stop changing things. */
			fail_msg(r, "the fleet lease was lost (etcd unreachable or the lease revoked): "
				    "rbx stopped before changing anything more; the node is %s",
				 r->guard_held ? "still cordoned" : "as it was");
			emit(r, json_pack("{s:s, s:s, s:s}", "type", "fleet", "op", "lost", "error",
					  r->failure),
			     true);
		}
		if (next == RS_COUNT) {
			fail_msg(r, "internal error: no transition from %s on %s",
				 run_state_name(r->state), run_event_name(ev));
			next = r->guard_held ? RS_FAILED_UNSAFE : RS_ABORTED;
		}
		if (emit(r, json_pack("{s:s, s:s, s:s, s:s, s:i}", "type", "state", "from",
				      run_state_name(r->state), "to", run_state_name(next), "event",
				      run_event_name(ev), "attempt", r->attempt),
			 true) < 0) {
			/* Not recorded, so not entered: the journal ends where the run stands. */
			r->state = RS_INTERRUPTED;
			break;
		}
		r->state = next;
		ev = enter(r, next);
		r->resuming = false;
	}
	if (r->state == RS_FAILED || r->state == RS_FAILED_UNSAFE)
		mark_failed(r);
	emit_run_end(r);
	return r->state;
}

enum run_state
engine_resume(struct run *r, enum run_state s, json_t *resume_rec)
{
	enum run_event ev = EV_OK;

	r->state = s;
	r->started_ms = util_now_ms();
	if (r->sched)
		r->sched->cancel = r->interrupted;
	emit(r, resume_rec, true);
	if (r->fleet)
		emit(r, json_pack("{s:s, s:s, s:O}", "type", "fleet", "op", "acquired", "slots",
				  r->fleet),
		     true);
	if (!run_state_terminal(s)) {
		/* The node's identity is checked again before anything runs on it. */
		if (s != RS_PRECHECK && open_transport(r) < 0) {
			r->resuming = false;
			fail_msg(r, "cannot reach %s to resume: %s", r->node, r->failure);
			r->state = RS_INTERRUPTED;
			emit_run_end(r);
			return RS_INTERRUPTED;
		}
		r->resuming = true;
		ev = enter(r, s);
		r->resuming = false;
		free(r->marks);
		r->marks = NULL;
		r->nmarks = 0;
	}
	return drive(r, ev);
}

void
run_release(struct run *r)
{
	strmap_release(&r->params);
	strmap_release(&r->captures);
	free(r->done);
	r->done = NULL;
	free(r->marks);
	r->marks = NULL;
	r->nmarks = 0;
}
