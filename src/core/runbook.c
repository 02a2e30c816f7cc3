/* runbook.c - loads a YAML runbook (libyaml) into the typed model of runbook.h.
 * Structure is checked against the schema table; meaning is checked here. */
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

#include "core/runbook_internal.h"

#ifndef RBX_SHARE_DIR
#define RBX_SHARE_DIR "/usr/local/share/rbx"
#endif

#define RUNBOOK_MAX_BYTES (4u << 20)

/* ---- top level ------------------------------------------------------------- */

static void
parse_params(struct loader *L, yaml_node_t *n)
{
	size_t pi;
	size_t cap;

	if (!n)
		return;
	if (!ydoc_is_map(n)) {
		ydoc_error(L->y, n, "'params' must be a mapping of parameter names to definitions");
		return;
	}
	cap = ydoc_len(n);
	L->rb->params = xcalloc(cap + 1, sizeof(struct param));
	for (pi = 0; pi < ydoc_len(n); pi++) {
		yaml_node_t *k = ydoc_key(L->y, n, pi), *v = ydoc_value(L->y, n, pi), *pat;
		struct param *pr = &L->rb->params[L->rb->nparams];

		if (!loader_valid_ident(ydoc_scalar(k))) {
			ydoc_error(L->y, k, "parameter name '%s' must match [a-z_][a-z0-9_]*",
				 ydoc_scalar(k) ? ydoc_scalar(k) : "?");
			continue;
		}
		if (!loader_check_object(L, v, "param", "a parameter"))
			continue;
		pr->name = xstrdup(ydoc_scalar(k));
		pr->pos = ydoc_pos(k);
		pr->description = ydoc_get_str(L->y, v, "description");
		pr->def = ydoc_get_str(L->y, v, "default");
		pr->secret = ydoc_bool(L->y, ydoc_get(L->y, v, "secret"), "secret", false);
		L->rb->nparams++;
		if ((pat = ydoc_get(L->y, v, "pattern")) != NULL) {
			pr->pattern = xstrdup(ydoc_scalar(pat));
			if (!loader_compile_re(L, pat, "pattern", pr->pattern, &pr->re)) {
				free(pr->pattern);
				pr->pattern = NULL;
			} else if (pr->def && regexec(&pr->re, pr->def, 0, NULL, 0) != 0) {
				ydoc_error(L->y, ydoc_get(L->y, v, "default"),
					 "default '%s' of parameter '%s' does not match its pattern",
					 pr->def, pr->name);
			}
		}
	}
}

static void
parse_trigger(struct loader *L, yaml_node_t *n)
{
	struct trigger *t = &L->rb->trigger;
	yaml_node_t *al;
	size_t i;

	if (!loader_check_object(L, n, "trigger", "'trigger'"))
		return;
	t->summary = ydoc_get_str(L->y, n, "summary");
	t->node_label = ydoc_get_str(L->y, n, "node_label");
	if (!t->node_label)
		t->node_label = xstrdup("Hostname");
	runbook_parse_rules(L, n);
	al = ydoc_get(L->y, n, "alerts");
	if (!al)
		return;
	if (!ydoc_is_seq(al)) {
		ydoc_error(L->y, al, "'alerts' must be a list of label matchers");
		return;
	}
	t->alerts = xcalloc(ydoc_len(al) + 1, sizeof(*t->alerts));
	for (i = 0; i < ydoc_len(al); i++) {
		yaml_node_t *m = ydoc_item(L->y, al, i);
		struct matcher *mt = &t->alerts[t->nalerts];
		size_t pi;

		if (!ydoc_is_map(m)) {
			ydoc_error(L->y, m, "an alert matcher must be a mapping of label to value");
			continue;
		}
		mt->keys = xcalloc(ydoc_len(m) + 1,
				   sizeof(char *));
		mt->values = xcalloc(ydoc_len(m) + 1,
				     sizeof(char *));
		for (pi = 0; pi < ydoc_len(m); pi++) {
			const char *k = ydoc_scalar(ydoc_key(L->y, m, pi)), *v = ydoc_scalar(ydoc_value(L->y, m, pi));
			if (!k || !v) {
				ydoc_error(L->y, ydoc_key(L->y, m, pi), "alert labels and values must be scalars");
				continue;
			}
			mt->keys[mt->n] = xstrdup(k);
			mt->values[mt->n] = xstrdup(v);
			mt->n++;
		}
		t->nalerts++;
	}
}

static void
parse_guard(struct loader *L, yaml_node_t *n)
{
	struct guard *g = &L->rb->guard;

	g->cordon = g->drain = true;
	g->drain_timeout_ms = 30 * 60 * 1000LL;
	if (!loader_check_object(L, n, "guard", "'guard'"))
		return;
	g->none = ydoc_get_str(L->y, n, "none");
	if (g->none) {
		if (ydoc_get(L->y, n, "cordon") || ydoc_get(L->y, n, "drain") ||
		    ydoc_get(L->y, n, "drain_timeout") || ydoc_get(L->y, n, "keep_running"))
			ydoc_error(L->y, n, "'guard: {none: ...}' stands alone: no cordon, drain or "
				       "drain_timeout with it");
		if (!*g->none)
			ydoc_error(L->y, ydoc_get(L->y, n, "none"), "'guard: none' needs a reason");
		g->cordon = g->drain = false;
		return;
	}
	g->cordon = ydoc_bool(L->y, ydoc_get(L->y, n, "cordon"), "cordon", true);
	g->drain = ydoc_bool(L->y, ydoc_get(L->y, n, "drain"), "drain", true);
	g->drain_timeout_ms = ydoc_duration(L->y, ydoc_get(L->y, n, "drain_timeout"),
						  "drain_timeout", g->drain_timeout_ms);
	g->keep_running = ydoc_get_str(L->y, n, "keep_running");
	g->blocking_alerts = ydoc_strings(L->y, ydoc_get(L->y, n, "blocking_alerts"), "blocking_alerts",
					  &g->nblocking);
	if (g->drain && !g->cordon)
		ydoc_error(L->y, n, "a guard that drains must also cordon");
	if (g->keep_running && g->drain)
		ydoc_error(L->y, ydoc_get(L->y, n, "keep_running"),
			   "'keep_running' is for a guard that does not drain: say 'drain: false'");
	else if (g->cordon && !g->drain && (!g->keep_running || !*g->keep_running))
		ydoc_error(L->y, n, "a guard that cordons without draining must say why running work "
				    "may stay: 'keep_running: REASON' (the job being repaired, say)");
	if (!g->cordon)
		ydoc_error(L->y, n, "a guard must cordon; a runbook that changes nothing declares "
			       "'guard: {none: REASON}'");
}

static void
check_name_matches_file(struct loader *L, yaml_node_t *n)
{
	const char *base = strrchr(L->y->file, '/');
	size_t len;

	base = base ? base + 1 : L->y->file;
	len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".yaml") == 0)
		len -= 5;
	else if (len > 4 && strcmp(base + len - 4, ".yml") == 0)
		len -= 4;
	else
		return;
	if (L->rb->name && (strlen(L->rb->name) != len || strncmp(L->rb->name, base, len) != 0))
		ydoc_error(L->y, n, "name '%s' must equal the file stem '%.*s'", L->rb->name, (int)len,
			 base);
}

/* ---- template names ---------------------------------------------------------- */

struct name_check {
	struct loader *L;
	const struct strmap *known; /* captures defined so far */
	const char *text;
	struct srcpos pos;
	bool shell;
};

static struct srcpos
offset_pos(const struct name_check *c, size_t off)
{
	struct srcpos p = c->pos;
	size_t i;

	for (i = 0; i < off; i++)
		if (c->text[i] == '\n')
			return c->pos; /* multi-line: name the scalar itself */
	p.col += (int)off;
	return p;
}

static int
visit_name(void *arg, const char *name, size_t off)
{
	struct name_check *c = arg;
	struct srcpos p = offset_pos(c, off);
	const char *why;

	if (strcmp(name, "node") == 0 || strcmp(name, "run.id") == 0 ||
	    strcmp(name, "attempt") == 0) {
		/* always known */
	} else if (strncmp(name, "params.", 7) == 0) {
		if (!runbook_param(c->L->rb, name + 7))
			diags_add(c->L->y->d, DIAG_ERROR, c->L->y->file, p,
				  "unknown parameter '%s' in template (declare it under params)",
				  name + 7);
	} else if (strncmp(name, "captures.", 9) == 0) {
		if (!strmap_get(c->known, name + 9))
			diags_add(c->L->y->d, DIAG_ERROR, c->L->y->file, p,
				  "capture '%s' is not set by any earlier step", name + 9);
	} else {
		diags_add(c->L->y->d, DIAG_ERROR, c->L->y->file, p,
			  "unknown template name '%s' (known: node, params.X, captures.X, run.id, "
			  "attempt)",
			  name);
	}
	if (c->shell && (why = template_shell_context_error(c->text, off)) != NULL)
		diags_add(c->L->y->d, DIAG_ERROR, c->L->y->file, p, "%s", why);
	return 0;
}

static void
check_text(struct loader *L, const struct strmap *known, const char *text, struct srcpos pos,
	   bool shell)
{
	struct name_check c = {L, known, text, pos, shell};
	struct rbx_err err;

	if (!text)
		return;
	if (template_each(text, visit_name, &c, &err) < 0)
		diags_add(L->y->d, DIAG_ERROR, L->y->file, pos, "%s", err.msg);
}

static void
check_when_names(struct loader *L, const struct strmap *known, const struct when *w)
{
	size_t i;

	if (!w)
		return;
	for (i = 0; i < w->nsubs; i++)
		check_when_names(L, known, w->subs[i]);
	if (w->kind != WHEN_TEST)
		return;
	if (w->is_param && !runbook_param(L->rb, w->name))
		diags_add(L->y->d, DIAG_ERROR, L->y->file, w->pos, "'when' tests unknown parameter '%s'",
			  w->name);
	if (!w->is_param && !strmap_get(known, w->name))
		diags_add(L->y->d, DIAG_ERROR, L->y->file, w->pos,
			  "'when' tests capture '%s', which no earlier step sets", w->name);
}

static void
check_step_names(struct loader *L, struct strmap *known, const struct step *s)
{
	size_t i;

	check_when_names(L, known, s->when);
	check_text(L, known, s->text, s->text_pos, s->kind == STEP_SSH || s->kind == STEP_RUN);
	if (s->http) {
		check_text(L, known, s->http->url, s->pos, false);
		check_text(L, known, s->http->body, s->pos, false);
		for (i = 0; i < s->http->nheaders; i++)
			check_text(L, known, s->http->headers[i], s->pos, false);
	}
	for (i = 0; i < s->ncaptures; i++)
		strmap_set(known, s->captures[i].name, "");
	/* An undo runs after its step, so the step's own captures are known to it. */
	if (s->undo)
		check_step_names(L, known, s->undo);
}

static void
check_template_names(struct loader *L)
{
	struct strmap known = {0};
	int p;
	size_t i;

	/* Captures flow forward: pre_checks, procedure, verify; rollback sees them all. */
	for (p = 0; p < PHASE_COUNT; p++)
		for (i = 0; i < L->rb->nsteps[p]; i++)
			check_step_names(L, &known, L->rb->steps[p][i]);
	strmap_release(&known);
}

/* ---- entry points ------------------------------------------------------------ */

static void
decode(struct loader *L, yaml_node_t *root)
{
	struct runbook *rb = L->rb;
	long v;
	int e;
	yaml_node_t *n;

	if (!loader_check_object(L, root, "runbook", "the runbook"))
		return;
	rb->name = ydoc_get_str(L->y, root, "name");
	if (rb->name && !util_valid_slug(rb->name))
		ydoc_error(L->y, ydoc_get(L->y, root, "name"), "name '%s' must match [a-z0-9-]+", rb->name);
	check_name_matches_file(L, ydoc_get(L->y, root, "name"));
	rb->title = ydoc_get_str(L->y, root, "title");
	if (loader_check_enum(L, root, "runbook", "subsystem", &e))
		rb->subsystem = xstrdup(schema_subsystems[e]);
	rb->summary = ydoc_get_str(L->y, root, "summary");
	if ((n = ydoc_get(L->y, root, "trigger")) != NULL)
		parse_trigger(L, n);
	parse_params(L, ydoc_get(L->y, root, "params"));
	if ((n = ydoc_get(L->y, root, "guard")) != NULL)
		parse_guard(L, n);
	rb->max_attempts = 1;
	if ((n = ydoc_get(L->y, root, "max_attempts")) != NULL &&
	    ydoc_int(L->y, n, "max_attempts", 1, 10, &v))
		rb->max_attempts = (int)v;
	if (loader_check_enum(L, root, "runbook", "on_success", &e))
		rb->keep_cordoned = e == 1;
	for (e = 0; e < PHASE_COUNT; e++)
		runbook_parse_phase(L, root, (enum phase)e);
	rb->relies_on = ydoc_strings(L->y, ydoc_get(L->y, root, "relies_on"), "relies_on",
				     &rb->nrelies_on);
	rb->references = ydoc_strings(L->y, ydoc_get(L->y, root, "references"), "references",
				     &rb->nreferences);
	rb->related = ydoc_strings(L->y, ydoc_get(L->y, root, "related"), "related", &rb->nrelated);
	check_template_names(L);
}

struct runbook *
runbook_load_string(const char *path, const char *text, size_t len, struct diags *d)
{
	struct ydoc y;
	struct loader L = {&y, NULL};
	size_t before = d->nerrors;

	if (ydoc_load(&y, path, text, len, d) < 0) {
		ydoc_release(&y);
		return NULL;
	}
	L.rb = xcalloc(1, sizeof(*L.rb));
	L.rb->path = xstrdup(path);
	decode(&L, ydoc_root(&y));
	ydoc_release(&y);
	if (d->nerrors > before) {
		runbook_free(L.rb);
		return NULL;
	}
	return L.rb;
}

struct runbook *
runbook_load(const char *path, struct diags *d)
{
	struct rbx_err err;
	struct runbook *rb;
	size_t len;
	char *text = util_read_file(path, RUNBOOK_MAX_BYTES, &len, &err);

	if (!text) {
		struct srcpos p = {0, 0};
		diags_add(d, DIAG_ERROR, path, p, "cannot read: %s", err.msg);
		return NULL;
	}
	rb = runbook_load_string(path, text, len, d);
	free(text);
	return rb;
}

void
runbook_free(struct runbook *rb)
{
	size_t i, j;
	int p;

	if (!rb)
		return;
	free(rb->path);
	free(rb->name);
	free(rb->title);
	free(rb->subsystem);
	free(rb->summary);
	free(rb->trigger.summary);
	free(rb->trigger.node_label);
	for (i = 0; i < rb->trigger.nalerts; i++) {
		for (j = 0; j < rb->trigger.alerts[i].n; j++) {
			free(rb->trigger.alerts[i].keys[j]);
			free(rb->trigger.alerts[i].values[j]);
		}
		free(rb->trigger.alerts[i].keys);
		free(rb->trigger.alerts[i].values);
	}
	free(rb->trigger.alerts);
	runbook_rules_free(&rb->trigger);
	for (i = 0; i < rb->nparams; i++) {
		free(rb->params[i].name);
		free(rb->params[i].description);
		free(rb->params[i].def);
		if (rb->params[i].pattern) {
			regfree(&rb->params[i].re);
			free(rb->params[i].pattern);
		}
	}
	free(rb->params);
	free(rb->guard.none);
	free(rb->guard.keep_running);
	ydoc_strings_free(rb->guard.blocking_alerts, rb->guard.nblocking);
	for (p = 0; p < PHASE_COUNT; p++) {
		for (i = 0; i < rb->nsteps[p]; i++)
			runbook_step_free(rb->steps[p][i]);
		free(rb->steps[p]);
	}
	ydoc_strings_free(rb->relies_on, rb->nrelies_on);
	ydoc_strings_free(rb->references, rb->nreferences);
	ydoc_strings_free(rb->related, rb->nrelated);
	free(rb);
}

bool
runbook_mutates(const struct runbook *rb)
{
	size_t i;
	int p;

	for (p = 0; p < PHASE_COUNT; p++)
		for (i = 0; i < rb->nsteps[p]; i++)
			if (rb->steps[p][i]->mutates ||
			    (rb->steps[p][i]->undo && rb->steps[p][i]->undo->mutates))
				return true;
	return false;
}
