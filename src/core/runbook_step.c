/* runbook_step.c - a runbook's steps from YAML: `when` conditions, expectations,
 * captures, HTTP requests, actions and undos, one phase at a time. */
#define _GNU_SOURCE
#include "core/runbook.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/schema.h"
#include "core/template.h"
#include "base/util.h"

#ifndef RBX_SHARE_DIR
#define RBX_SHARE_DIR "/usr/local/share/rbx"
#endif

#include "core/runbook_internal.h"

/* ---- when ------------------------------------------------------------------ */

static void when_free(struct when *w);

static struct when *
parse_when(struct loader *L, yaml_node_t *n)
{
	static const char *const combinators[] = {"not", "any", "all"};
	struct when *w;
	yaml_node_t *src, *op;
	int ncomb = 0, nsrc = 0, nop = 0;
	size_t i;

	if (!loader_check_object(L, n, "when", "'when'"))
		return NULL;
	w = xcalloc(1, sizeof(*w));
	w->pos = ydoc_pos(n);
	for (i = 0; i < 3; i++)
		ncomb += ydoc_get(L->y, n, combinators[i]) != NULL;
	nsrc = (ydoc_get(L->y, n, "capture") != NULL) + (ydoc_get(L->y, n, "param") != NULL);
	nop = (ydoc_get(L->y, n, "equals") != NULL) + (ydoc_get(L->y, n, "in") != NULL) +
	      (ydoc_get(L->y, n, "matches") != NULL);
	if (ncomb) {
		if (ncomb > 1 || nsrc || nop) {
			ydoc_error(L->y, n, "a 'when' holds exactly one of not/any/all, alone");
			goto fail;
		}
		if ((src = ydoc_get(L->y, n, "not")) != NULL) {
			w->kind = WHEN_NOT;
			w->subs = xcalloc(1, sizeof(*w->subs));
			w->subs[0] = parse_when(L, src);
			w->nsubs = 1;
			if (!w->subs[0])
				goto fail;
			return w;
		}
		src = ydoc_get(L->y, n, "any");
		w->kind = src ? WHEN_ANY : WHEN_ALL;
		if (!src)
			src = ydoc_get(L->y, n, "all");
		if (ydoc_len(src) == 0) {
			ydoc_error(L->y, src, "'%s' needs at least one condition",
				 w->kind == WHEN_ANY ? "any" : "all");
			goto fail;
		}
		w->subs = xcalloc(ydoc_len(src), sizeof(*w->subs));
		for (i = 0; i < ydoc_len(src); i++) {
			w->subs[i] = parse_when(L, ydoc_item(L->y, src, i));
			w->nsubs++;
			if (!w->subs[i])
				goto fail;
		}
		return w;
	}
	if (nsrc != 1 || nop != 1) {
		ydoc_error(L->y, n, "a 'when' needs exactly one of capture/param and exactly one of "
			       "equals/in/matches");
		goto fail;
	}
	w->kind = WHEN_TEST;
	w->is_param = ydoc_get(L->y, n, "param") != NULL;
	src = ydoc_get(L->y, n, w->is_param ? "param" : "capture");
	w->name = xstrdup(ydoc_scalar(src));
	if ((op = ydoc_get(L->y, n, "equals")) != NULL) {
		w->op = WHEN_EQUALS;
		w->values = xcalloc(1, sizeof(*w->values));
		w->values[0] = xstrdup(ydoc_scalar(op));
		w->nvalues = 1;
	} else if ((op = ydoc_get(L->y, n, "in")) != NULL) {
		w->op = WHEN_IN;
		w->values = ydoc_strings(L->y, op, "in", &w->nvalues);
	} else {
		op = ydoc_get(L->y, n, "matches");
		w->op = WHEN_MATCHES;
		w->values = xcalloc(1, sizeof(*w->values));
		w->values[0] = xstrdup(ydoc_scalar(op));
		w->nvalues = 1;
		w->has_re = loader_compile_re(L, op, "matches", ydoc_scalar(op), &w->re);
		if (!w->has_re)
			goto fail;
	}
	return w;
fail:
	when_free(w);
	return NULL;
}

static void
when_free(struct when *w)
{
	size_t i;

	if (!w)
		return;
	for (i = 0; i < w->nsubs; i++)
		when_free(w->subs[i]);
	free(w->subs);
	free(w->name);
	ydoc_strings_free(w->values, w->nvalues);
	if (w->has_re)
		regfree(&w->re);
	free(w);
}

/* ---- steps ----------------------------------------------------------------- */


static void
parse_expect(struct loader *L, yaml_node_t *n, struct step *s)
{
	yaml_node_t *ex, *re;

	if (n && loader_check_object(L, n, "expect", "'expect'")) {
		ex = ydoc_get(L->y, n, "exit");
		if (ex && ydoc_scalar(ex)) {
			long v;
			if (ydoc_int(L->y, ex, "exit", 0, 255, &v)) {
				s->expect.exits = xcalloc(1, sizeof(int));
				s->expect.exits[0] = (int)v;
				s->expect.nexits = 1;
			}
		} else if (ex && ydoc_is_seq(ex) && ydoc_len(ex) > 0) {
			size_t i;
			s->expect.exits = xcalloc(ydoc_len(ex), sizeof(int));
			for (i = 0; i < ydoc_len(ex); i++) {
				long v;
				if (ydoc_int(L->y, ydoc_item(L->y, ex, i), "exit", 0, 255, &v))
					s->expect.exits[s->expect.nexits++] = (int)v;
			}
		} else if (ex) {
			ydoc_error(L->y, ex, "'exit' must be an exit status or a non-empty list of them");
		}
		if ((re = ydoc_get(L->y, n, "stdout")) != NULL) {
			s->expect.stdout_re = xstrdup(ydoc_scalar(re));
			if (!loader_compile_re(L, re, "stdout", s->expect.stdout_re, &s->expect.out_re)) {
				free(s->expect.stdout_re);
				s->expect.stdout_re = NULL;
			}
		}
		if ((re = ydoc_get(L->y, n, "stdout_not")) != NULL) {
			s->expect.stdout_not = xstrdup(ydoc_scalar(re));
			if (!loader_compile_re(L, re, "stdout_not", s->expect.stdout_not,
					&s->expect.not_re)) {
				free(s->expect.stdout_not);
				s->expect.stdout_not = NULL;
			}
		}
	}
	if (s->expect.nexits == 0) {
		free(s->expect.exits);
		s->expect.exits = xcalloc(1, sizeof(int));
		s->expect.nexits = 1;
	}
}

static void
parse_capture(struct loader *L, yaml_node_t *n, struct step *s)
{
	size_t pi;

	if (!n)
		return;
	if (ydoc_scalar(n)) {
		if (!loader_valid_ident(ydoc_scalar(n))) {
			ydoc_error(L->y, n, "capture name '%s' must match [a-z_][a-z0-9_]*", ydoc_scalar(n));
			return;
		}
		s->captures = xcalloc(1, sizeof(*s->captures));
		s->captures[0].name = xstrdup(ydoc_scalar(n));
		s->captures[0].pos = ydoc_pos(n);
		s->ncaptures = 1;
		return;
	}
	if (!ydoc_is_map(n)) {
		ydoc_error(L->y, n, "'capture' must be a name or a mapping of names to regexes");
		return;
	}
	s->captures = xcalloc(ydoc_len(n) + 1,
			      sizeof(*s->captures));
	for (pi = 0; pi < ydoc_len(n); pi++) {
		yaml_node_t *k = ydoc_key(L->y, n, pi), *v = ydoc_value(L->y, n, pi);
		struct capture *c = &s->captures[s->ncaptures];

		if (!loader_valid_ident(ydoc_scalar(k))) {
			ydoc_error(L->y, k, "capture name '%s' must match [a-z_][a-z0-9_]*",
				 ydoc_scalar(k) ? ydoc_scalar(k) : "?");
			continue;
		}
		if (!ydoc_scalar(v)) {
			ydoc_error(L->y, v, "capture '%s' must be a regex", ydoc_scalar(k));
			continue;
		}
		if (!loader_compile_re(L, v, "capture", ydoc_scalar(v), &c->re))
			continue;
		c->name = xstrdup(ydoc_scalar(k));
		c->pattern = xstrdup(ydoc_scalar(v));
		c->pos = ydoc_pos(k);
		s->ncaptures++;
	}
}

static struct http_spec *
parse_http(struct loader *L, yaml_node_t *n)
{
	struct http_spec *h;
	yaml_node_t *hd, *st;
	int m;

	if (!loader_check_object(L, n, "http", "'http'"))
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->method = loader_check_enum(L, n, "http", "method", &m) ? xstrdup(ydoc_scalar(ydoc_get(L->y, n, "method")))
							 : xstrdup("GET");
	h->url = ydoc_get_str(L->y, n, "url");
	h->body = ydoc_get_str(L->y, n, "body");
	if ((hd = ydoc_get(L->y, n, "headers")) != NULL && ydoc_is_map(hd)) {
		size_t pi;
		h->headers = xcalloc(ydoc_len(hd) + 1,
				     sizeof(char *));
		for (pi = 0; pi < ydoc_len(hd); pi++) {
			const char *k = ydoc_scalar(ydoc_key(L->y, hd, pi)), *v = ydoc_scalar(ydoc_value(L->y, hd, pi));
			if (!k || !v) {
				ydoc_error(L->y, ydoc_key(L->y, hd, pi), "headers must map names to values");
				continue;
			}
			h->headers[h->nheaders++] = xasprintf("%s: %s", k, v);
		}
	}
	st = ydoc_get(L->y, n, "expect_status");
	if (st && ydoc_scalar(st)) {
		long v;
		if (ydoc_int(L->y, st, "expect_status", 100, 599, &v)) {
			h->status = xcalloc(1, sizeof(int));
			h->status[0] = (int)v;
			h->nstatus = 1;
		}
	} else if (st && ydoc_is_seq(st)) {
		size_t i;
		h->status = xcalloc(ydoc_len(st) + 1, sizeof(int));
		for (i = 0; i < ydoc_len(st); i++) {
			long v;
			if (ydoc_int(L->y, ydoc_item(L->y, st, i), "expect_status", 100, 599, &v))
				h->status[h->nstatus++] = (int)v;
		}
	} else if (st) {
		ydoc_error(L->y, st, "'expect_status' must be a status code or a list of them");
	}
	return h;
}

static bool
action_mutates(enum step_action a)
{
	return a != ACTION_SLEEP && a != ACTION_WAIT_SSH;
}

static struct step *
parse_step(struct loader *L, yaml_node_t *n, enum phase phase, int index,
	   const struct step *parent)
{
	const struct schema *sch = schema_get("step");
	const struct field *f;
	struct step *s;
	yaml_node_t *v, *action_node = NULL;
	int nactions = 0, e;
	long lv;

	if (!loader_check_object(L, n, "step", parent ? "an 'undo' step" : "a step"))
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->pos = ydoc_pos(n);
	s->phase = phase;
	s->index = index;
	s->name = ydoc_get_str(L->y, n, "name");
	if (!s->name)
		s->name = xstrdup("(unnamed)");
	for (f = sch->fields; f->key; f++) {
		if (!(f->flags & F_ACTION) || !(v = ydoc_get(L->y, n, f->key)))
			continue;
		nactions++;
		if (!action_node)
			action_node = v;
		else
			ydoc_error(L->y, v, "step '%s' has more than one action ('%s' and another); "
				       "give each its own step",
				 s->name, f->key);
	}
	if (nactions == 0)
		ydoc_error(L->y, n, "step '%s' has no action: give it one of ssh, run, http, action, "
			       "confirm",
			 s->name);
	if ((v = ydoc_get(L->y, n, "ssh")) != NULL) {
		s->kind = STEP_SSH;
	} else if ((v = ydoc_get(L->y, n, "run")) != NULL) {
		s->kind = STEP_RUN;
	} else if ((v = ydoc_get(L->y, n, "confirm")) != NULL) {
		s->kind = STEP_CONFIRM;
	} else if ((v = ydoc_get(L->y, n, "http")) != NULL) {
		s->kind = STEP_HTTP;
		s->http = parse_http(L, v);
	} else if ((v = ydoc_get(L->y, n, "action")) != NULL) {
		s->kind = STEP_ACTION;
		if (loader_check_enum(L, n, "step", "action", &e))
			s->action = (enum step_action)e;
	}
	if (v && ydoc_scalar(v) && s->kind != STEP_ACTION) {
		s->text = xstrdup(ydoc_scalar(v));
		s->text_pos = ydoc_pos(v);
		if (ydoc_quoted(v))
			s->text_pos.col++; /* template offsets count from inside the quote */
		if (!*s->text)
			ydoc_error(L->y, v, "step '%s' has an empty command", s->name);
	}
	s->timeout_ms = ydoc_duration(L->y, ydoc_get(L->y, n, "timeout"), "timeout",
					    phase_default_timeout_ms[phase]);
	s->retry_delay_ms =
		ydoc_duration(L->y, ydoc_get(L->y, n, "retry_delay"), "retry_delay", 5000);
	s->duration_ms = ydoc_duration(L->y, ydoc_get(L->y, n, "duration"), "duration", 0);
	if (s->kind == STEP_ACTION && s->action == ACTION_SLEEP && !s->duration_ms)
		ydoc_error(L->y, n, "'action: sleep' needs a 'duration'");
	if ((v = ydoc_get(L->y, n, "retries")) != NULL && ydoc_int(L->y, v, "retries", 0, 100, &lv))
		s->retries = (int)lv;
	parse_expect(L, ydoc_get(L->y, n, "expect"), s);
	parse_capture(L, ydoc_get(L->y, n, "capture"), s);
	if ((v = ydoc_get(L->y, n, "when")) != NULL)
		s->when = parse_when(L, v);
	if (s->kind == STEP_CONFIRM)
		s->mutates = false;
	else if (s->kind == STEP_ACTION)
		s->mutates = action_mutates(s->action);
	else if (parent)
		s->mutates = parent->mutates; /* an undo touches what its step touched */
	else
		s->mutates = phase == PHASE_PROCEDURE || phase == PHASE_ROLLBACK;
	s->cluster = parent && parent->cluster && s->kind != STEP_CONFIRM;
	if (loader_check_enum(L, n, "step", "mutates", &e)) {
		s->mutates = e != 0;
		s->cluster = e == 2;
	}
	s->idempotent = ydoc_bool(L->y, ydoc_get(L->y, n, "idempotent"), "idempotent", !s->mutates);
	if (loader_check_enum(L, n, "step", "on_success", &e))
		s->keep_cordoned = e == 1;
	if ((v = ydoc_get(L->y, n, "undo")) != NULL) {
		if (parent)
			ydoc_error(L->y, v, "an 'undo' step cannot have its own 'undo'");
		else
			s->undo = parse_step(L, v, phase, 0, s);
		if (s->undo)
			s->undo->undo_of = index;
		if (s->undo && s->undo->when)
			ydoc_error(L->y, v, "an 'undo' step cannot have a 'when'");
	}
	return s;
}

static void
expect_release(struct expect *e)
{
	free(e->exits);
	if (e->stdout_re) {
		regfree(&e->out_re);
		free(e->stdout_re);
	}
	if (e->stdout_not) {
		regfree(&e->not_re);
		free(e->stdout_not);
	}
}

static void
http_free(struct http_spec *h)
{
	if (!h)
		return;
	free(h->method);
	free(h->url);
	free(h->body);
	ydoc_strings_free(h->headers, h->nheaders);
	free(h->status);
	free(h);
}

void
runbook_step_free(struct step *s)
{
	size_t i;

	if (!s)
		return;
	free(s->name);
	free(s->text);
	http_free(s->http);
	expect_release(&s->expect);
	for (i = 0; i < s->ncaptures; i++) {
		free(s->captures[i].name);
		if (s->captures[i].pattern) {
			regfree(&s->captures[i].re);
			free(s->captures[i].pattern);
		}
	}
	free(s->captures);
	when_free(s->when);
	runbook_step_free(s->undo);
	free(s);
}

void
runbook_parse_phase(struct loader *L, yaml_node_t *root, enum phase p)
{
	yaml_node_t *n = ydoc_get(L->y, root, phase_name(p));
	size_t i;

	if (!n || !ydoc_is_seq(n))
		return;
	if (ydoc_len(n) == 0 && (p == PHASE_PROCEDURE || p == PHASE_VERIFY))
		ydoc_error(L->y, n, "'%s' needs at least one step", phase_name(p));
	L->rb->steps[p] = xcalloc(ydoc_len(n) + 1, sizeof(struct step *));
	for (i = 0; i < ydoc_len(n); i++) {
		struct step *s = parse_step(L, ydoc_item(L->y, n, i), p, (int)i + 1, NULL);
		if (s)
			L->rb->steps[p][L->rb->nsteps[p]++] = s;
	}
}

