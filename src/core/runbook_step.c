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
#include <yaml.h>

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
	w->pos = loader_node_pos(n);
	for (i = 0; i < 3; i++)
		ncomb += loader_map_get(L, n, combinators[i]) != NULL;
	nsrc = (loader_map_get(L, n, "capture") != NULL) + (loader_map_get(L, n, "param") != NULL);
	nop = (loader_map_get(L, n, "equals") != NULL) + (loader_map_get(L, n, "in") != NULL) +
	      (loader_map_get(L, n, "matches") != NULL);
	if (ncomb) {
		if (ncomb > 1 || nsrc || nop) {
			loader_error_at(L, n, "a 'when' holds exactly one of not/any/all, alone");
			goto fail;
		}
		if ((src = loader_map_get(L, n, "not")) != NULL) {
			w->kind = WHEN_NOT;
			w->subs = xcalloc(1, sizeof(*w->subs));
			w->subs[0] = parse_when(L, src);
			w->nsubs = 1;
			if (!w->subs[0])
				goto fail;
			return w;
		}
		src = loader_map_get(L, n, "any");
		w->kind = src ? WHEN_ANY : WHEN_ALL;
		if (!src)
			src = loader_map_get(L, n, "all");
		if (loader_seq_len(src) == 0) {
			loader_error_at(L, src, "'%s' needs at least one condition",
				 w->kind == WHEN_ANY ? "any" : "all");
			goto fail;
		}
		w->subs = xcalloc(loader_seq_len(src), sizeof(*w->subs));
		for (i = 0; i < loader_seq_len(src); i++) {
			w->subs[i] = parse_when(L, loader_seq_item(L, src, i));
			w->nsubs++;
			if (!w->subs[i])
				goto fail;
		}
		return w;
	}
	if (nsrc != 1 || nop != 1) {
		loader_error_at(L, n, "a 'when' needs exactly one of capture/param and exactly one of "
			       "equals/in/matches");
		goto fail;
	}
	w->kind = WHEN_TEST;
	w->is_param = loader_map_get(L, n, "param") != NULL;
	src = loader_map_get(L, n, w->is_param ? "param" : "capture");
	w->name = xstrdup(loader_scalar(src));
	if ((op = loader_map_get(L, n, "equals")) != NULL) {
		w->op = WHEN_EQUALS;
		w->values = xcalloc(1, sizeof(*w->values));
		w->values[0] = xstrdup(loader_scalar(op));
		w->nvalues = 1;
	} else if ((op = loader_map_get(L, n, "in")) != NULL) {
		w->op = WHEN_IN;
		w->values = loader_get_strings(L, op, "in", &w->nvalues);
	} else {
		op = loader_map_get(L, n, "matches");
		w->op = WHEN_MATCHES;
		w->values = xcalloc(1, sizeof(*w->values));
		w->values[0] = xstrdup(loader_scalar(op));
		w->nvalues = 1;
		w->has_re = loader_compile_re(L, op, "matches", loader_scalar(op), &w->re);
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
	loader_free_strings(w->values, w->nvalues);
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
		ex = loader_map_get(L, n, "exit");
		if (ex && ex->type == YAML_SCALAR_NODE) {
			long v;
			if (loader_parse_int(L, ex, "exit", 0, 255, &v)) {
				s->expect.exits = xcalloc(1, sizeof(int));
				s->expect.exits[0] = (int)v;
				s->expect.nexits = 1;
			}
		} else if (ex && ex->type == YAML_SEQUENCE_NODE && loader_seq_len(ex) > 0) {
			size_t i;
			s->expect.exits = xcalloc(loader_seq_len(ex), sizeof(int));
			for (i = 0; i < loader_seq_len(ex); i++) {
				long v;
				if (loader_parse_int(L, loader_seq_item(L, ex, i), "exit", 0, 255, &v))
					s->expect.exits[s->expect.nexits++] = (int)v;
			}
		} else if (ex) {
			loader_error_at(L, ex, "'exit' must be an exit status or a non-empty list of them");
		}
		if ((re = loader_map_get(L, n, "stdout")) != NULL) {
			s->expect.stdout_re = xstrdup(loader_scalar(re));
			if (!loader_compile_re(L, re, "stdout", s->expect.stdout_re, &s->expect.out_re)) {
				free(s->expect.stdout_re);
				s->expect.stdout_re = NULL;
			}
		}
		if ((re = loader_map_get(L, n, "stdout_not")) != NULL) {
			s->expect.stdout_not = xstrdup(loader_scalar(re));
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
	yaml_node_pair_t *p;

	if (!n)
		return;
	if (n->type == YAML_SCALAR_NODE) {
		if (!loader_valid_ident(loader_scalar(n))) {
			loader_error_at(L, n, "capture name '%s' must match [a-z_][a-z0-9_]*", loader_scalar(n));
			return;
		}
		s->captures = xcalloc(1, sizeof(*s->captures));
		s->captures[0].name = xstrdup(loader_scalar(n));
		s->captures[0].pos = loader_node_pos(n);
		s->ncaptures = 1;
		return;
	}
	if (n->type != YAML_MAPPING_NODE) {
		loader_error_at(L, n, "'capture' must be a name or a mapping of names to regexes");
		return;
	}
	s->captures = xcalloc((size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start) + 1,
			      sizeof(*s->captures));
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = loader_node_at(L, p->key), *v = loader_node_at(L, p->value);
		struct capture *c = &s->captures[s->ncaptures];

		if (!loader_valid_ident(loader_scalar(k))) {
			loader_error_at(L, k, "capture name '%s' must match [a-z_][a-z0-9_]*",
				 loader_scalar(k) ? loader_scalar(k) : "?");
			continue;
		}
		if (!loader_scalar(v)) {
			loader_error_at(L, v, "capture '%s' must be a regex", loader_scalar(k));
			continue;
		}
		if (!loader_compile_re(L, v, "capture", loader_scalar(v), &c->re))
			continue;
		c->name = xstrdup(loader_scalar(k));
		c->pattern = xstrdup(loader_scalar(v));
		c->pos = loader_node_pos(k);
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
	h->method = loader_check_enum(L, n, "http", "method", &m) ? xstrdup(loader_scalar(loader_map_get(L, n, "method")))
							 : xstrdup("GET");
	h->url = loader_get_str(L, n, "url");
	h->body = loader_get_str(L, n, "body");
	if ((hd = loader_map_get(L, n, "headers")) != NULL && hd->type == YAML_MAPPING_NODE) {
		yaml_node_pair_t *p;
		h->headers = xcalloc((size_t)(hd->data.mapping.pairs.top - hd->data.mapping.pairs.start) + 1,
				     sizeof(char *));
		for (p = hd->data.mapping.pairs.start; p < hd->data.mapping.pairs.top; p++) {
			const char *k = loader_scalar(loader_node_at(L, p->key)), *v = loader_scalar(loader_node_at(L, p->value));
			if (!k || !v) {
				loader_error_at(L, loader_node_at(L, p->key), "headers must map names to values");
				continue;
			}
			h->headers[h->nheaders++] = xasprintf("%s: %s", k, v);
		}
	}
	st = loader_map_get(L, n, "expect_status");
	if (st && st->type == YAML_SCALAR_NODE) {
		long v;
		if (loader_parse_int(L, st, "expect_status", 100, 599, &v)) {
			h->status = xcalloc(1, sizeof(int));
			h->status[0] = (int)v;
			h->nstatus = 1;
		}
	} else if (st && st->type == YAML_SEQUENCE_NODE) {
		size_t i;
		h->status = xcalloc(loader_seq_len(st) + 1, sizeof(int));
		for (i = 0; i < loader_seq_len(st); i++) {
			long v;
			if (loader_parse_int(L, loader_seq_item(L, st, i), "expect_status", 100, 599, &v))
				h->status[h->nstatus++] = (int)v;
		}
	} else if (st) {
		loader_error_at(L, st, "'expect_status' must be a status code or a list of them");
	}
	return h;
}

static bool
action_mutates(enum step_action a)
{
	return a != ACTION_SLEEP && a != ACTION_WAIT_SSH;
}

static struct step *
parse_step(struct loader *L, yaml_node_t *n, enum phase phase, int index, bool is_undo,
	   bool parent_mutates)
{
	const struct schema *sch = schema_get("step");
	const struct field *f;
	struct step *s;
	yaml_node_t *v, *action_node = NULL;
	int nactions = 0, e;
	long lv;

	if (!loader_check_object(L, n, "step", is_undo ? "an 'undo' step" : "a step"))
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->pos = loader_node_pos(n);
	s->phase = phase;
	s->index = index;
	s->name = loader_get_str(L, n, "name");
	if (!s->name)
		s->name = xstrdup("(unnamed)");
	for (f = sch->fields; f->key; f++) {
		if (!(f->flags & F_ACTION) || !(v = loader_map_get(L, n, f->key)))
			continue;
		nactions++;
		if (!action_node)
			action_node = v;
		else
			loader_error_at(L, v, "step '%s' has more than one action ('%s' and another); "
				       "give each its own step",
				 s->name, f->key);
	}
	if (nactions == 0)
		loader_error_at(L, n, "step '%s' has no action: give it one of ssh, run, http, action, "
			       "confirm",
			 s->name);
	if ((v = loader_map_get(L, n, "ssh")) != NULL) {
		s->kind = STEP_SSH;
	} else if ((v = loader_map_get(L, n, "run")) != NULL) {
		s->kind = STEP_RUN;
	} else if ((v = loader_map_get(L, n, "confirm")) != NULL) {
		s->kind = STEP_CONFIRM;
	} else if ((v = loader_map_get(L, n, "http")) != NULL) {
		s->kind = STEP_HTTP;
		s->http = parse_http(L, v);
	} else if ((v = loader_map_get(L, n, "action")) != NULL) {
		s->kind = STEP_ACTION;
		if (loader_check_enum(L, n, "step", "action", &e))
			s->action = (enum step_action)e;
	}
	if (v && v->type == YAML_SCALAR_NODE && s->kind != STEP_ACTION) {
		s->text = xstrdup(loader_scalar(v));
		s->text_pos = loader_node_pos(v);
		if (v->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		    v->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
			s->text_pos.col++; /* template offsets count from inside the quote */
		if (!*s->text)
			loader_error_at(L, v, "step '%s' has an empty command", s->name);
	}
	s->timeout_ms = loader_parse_duration_node(L, loader_map_get(L, n, "timeout"), "timeout",
					    phase_default_timeout_ms[phase]);
	s->retry_delay_ms =
		loader_parse_duration_node(L, loader_map_get(L, n, "retry_delay"), "retry_delay", 5000);
	s->duration_ms = loader_parse_duration_node(L, loader_map_get(L, n, "duration"), "duration", 0);
	if (s->kind == STEP_ACTION && s->action == ACTION_SLEEP && !s->duration_ms)
		loader_error_at(L, n, "'action: sleep' needs a 'duration'");
	if ((v = loader_map_get(L, n, "retries")) != NULL && loader_parse_int(L, v, "retries", 0, 100, &lv))
		s->retries = (int)lv;
	parse_expect(L, loader_map_get(L, n, "expect"), s);
	parse_capture(L, loader_map_get(L, n, "capture"), s);
	if ((v = loader_map_get(L, n, "when")) != NULL)
		s->when = parse_when(L, v);
	if (s->kind == STEP_CONFIRM)
		s->mutates = false;
	else if (s->kind == STEP_ACTION)
		s->mutates = action_mutates(s->action);
	else if (is_undo)
		s->mutates = parent_mutates; /* an undo touches what its step touched */
	else
		s->mutates = phase == PHASE_PROCEDURE || phase == PHASE_ROLLBACK;
	s->mutates = loader_parse_bool(L, loader_map_get(L, n, "mutates"), "mutates", s->mutates);
	s->idempotent = loader_parse_bool(L, loader_map_get(L, n, "idempotent"), "idempotent", !s->mutates);
	if (loader_check_enum(L, n, "step", "on_success", &e))
		s->keep_cordoned = e == 1;
	if ((v = loader_map_get(L, n, "undo")) != NULL) {
		if (is_undo)
			loader_error_at(L, v, "an 'undo' step cannot have its own 'undo'");
		else
			s->undo = parse_step(L, v, phase, 0, true, s->mutates);
		if (s->undo)
			s->undo->undo_of = index;
		if (s->undo && s->undo->when)
			loader_error_at(L, v, "an 'undo' step cannot have a 'when'");
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
	loader_free_strings(h->headers, h->nheaders);
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
	yaml_node_t *n = loader_map_get(L, root, phase_name(p));
	size_t i;

	if (!n || n->type != YAML_SEQUENCE_NODE)
		return;
	if (loader_seq_len(n) == 0 && (p == PHASE_PROCEDURE || p == PHASE_VERIFY))
		loader_error_at(L, n, "'%s' needs at least one step", phase_name(p));
	L->rb->steps[p] = xcalloc(loader_seq_len(n) + 1, sizeof(struct step *));
	for (i = 0; i < loader_seq_len(n); i++) {
		struct step *s = parse_step(L, loader_seq_item(L, n, i), p, (int)i + 1, false, false);
		if (s)
			L->rb->steps[p][L->rb->nsteps[p]++] = s;
	}
}

