/* engine_record.c - what the engine writes and shows: failure messages, journal
 * records gated on durability, secret redaction, template rendering for a run. */
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

void
engine_fail(struct run *r, const char *fmt, ...)
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
int
engine_record(struct run *r, json_t *rec, bool sync)
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

/* The secret values of a run, longest first: one that holds another is hidden whole. */
static size_t
secret_values(const struct run *r, const char **v)
{
	size_t i, k, n = 0;

	for (i = 0; i < r->rb->nparams; i++) {
		const char *val = strmap_get(&r->params, r->rb->params[i].name);
		if (!r->rb->params[i].secret || !val || !*val)
			continue;
		for (k = n++; k > 0 && strlen(v[k - 1]) < strlen(val); k--)
			v[k] = v[k - 1];
		v[k] = val;
	}
	return n;
}

/* Replace every secret param's value in s with *** (in place into a new string). */
char *
engine_redact(const struct run *r, const char *s)
{
	const char **vals = xcalloc(r->rb->nparams + 1, sizeof(*vals));
	size_t i, n = secret_values(r, vals);
	char *out = xstrdup(s);

	for (i = 0; i < n; i++) {
		struct buf b;
		char *hit, *from;

		buf_init(&b, 0);
		for (from = out; (hit = strstr(from, vals[i])) != NULL; from = hit + strlen(vals[i])) {
			buf_add(&b, from, (size_t)(hit - from));
			buf_adds(&b, "***");
		}
		buf_adds(&b, from);
		free(out);
		out = buf_detach(&b);
	}
	free(vals);
	return out;
}

json_t *
engine_step_rec(const char *type, const struct step *s, const struct run *r)
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
	engine_record(r, rec, true);
}

const struct step_mark *
engine_find_mark(const struct run *r, const struct step *s)
{
	size_t i;

	for (i = 0; r->seed && i < r->seed->nmarks; i++)
		if (r->seed->marks[i].s == s)
			return &r->seed->marks[i];
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

char *
engine_render_vars(const struct run *r, const char *tmpl, enum tmpl_mode mode, bool redacted,
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

char *
engine_render_step(const struct run *r, const struct step *s, bool redacted, struct strmap *vars,
		   struct rbx_err *err)
{
	struct tmpl_ctx c;

	tmpl_init(r, &c, redacted);
	return plan_render_step(&c, s, vars, err);
}

const char *
engine_step_target(const struct run *r, const struct step *s)
{
	struct plan_where w = {r->node_tx->address, r->local_tx->address, r->sched->ops->name};

	return plan_step_target(s, &w);
}

char *
engine_render(const struct run *r, const char *tmpl, enum tmpl_mode mode, bool redacted,
       struct rbx_err *err)
{
	return engine_render_vars(r, tmpl, mode, redacted, NULL, err);
}


