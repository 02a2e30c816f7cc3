/* runbook.c - loads a YAML runbook (libyaml) into the typed model of runbook.h.
 * Structure is checked against the schema table; meaning is checked here. */
#define _GNU_SOURCE
#include "rbx/runbook.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "rbx/schema.h"
#include "rbx/template.h"
#include "rbx/util.h"

#ifndef RBX_SHARE_DIR
#define RBX_SHARE_DIR "/usr/local/share/rbx"
#endif

#define RUNBOOK_MAX_BYTES (4u << 20)

const long long phase_default_timeout_ms[PHASE_COUNT] = {
	5 * 60 * 1000LL, 30 * 60 * 1000LL, 60 * 60 * 1000LL, 30 * 60 * 1000LL,
};

static const char *const phase_names[PHASE_COUNT] = {"pre_checks", "procedure", "verify",
						     "rollback"};
static const char *const phase_titles[PHASE_COUNT] = {"Pre-checks", "Procedure", "Verify",
						      "Rollback"};

const char *
phase_name(enum phase p)
{
	return p < PHASE_COUNT ? phase_names[p] : "?";
}

const char *
phase_title(enum phase p)
{
	return p < PHASE_COUNT ? phase_titles[p] : "?";
}

const char *
step_action_name(enum step_action a)
{
	return schema_actions[a];
}

const char *
step_kind_name(enum step_kind k)
{
	static const char *const names[] = {"ssh", "run", "http", "action", "confirm"};
	return names[k];
}

/* ---- loader state and small helpers ------------------------------------ */

struct loader {
	const char *file;
	yaml_document_t *doc;
	struct diags *d;
	struct runbook *rb;
};

static struct srcpos
node_pos(const yaml_node_t *n)
{
	struct srcpos p = {0, 0};

	if (n) {
		p.line = (int)n->start_mark.line + 1;
		p.col = (int)n->start_mark.column + 1;
	}
	return p;
}

static void __attribute__((format(printf, 3, 4)))
error_at(struct loader *L, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	diags_add(L->d, DIAG_ERROR, L->file, node_pos(n), "%s", msg ? msg : fmt);
	free(msg);
}

static yaml_node_t *
node_at(struct loader *L, int idx)
{
	return yaml_document_get_node(L->doc, idx);
}

static const char *
scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *
node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

/* The value node under key in a mapping (NULL if absent). */
static yaml_node_t *
map_get(struct loader *L, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node_at(L, p->key));
		if (k && strcmp(k, key) == 0)
			return node_at(L, p->value);
	}
	return NULL;
}

static size_t
seq_len(const yaml_node_t *n)
{
	return n && n->type == YAML_SEQUENCE_NODE
		       ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start)
		       : 0;
}

static yaml_node_t *
seq_item(struct loader *L, yaml_node_t *n, size_t i)
{
	return node_at(L, n->data.sequence.items.start[i]);
}

static bool
shape_ok(struct loader *L, const struct field *f, yaml_node_t *v, const char *where)
{
	yaml_node_type_t want;

	switch (f->type) {
	case FT_STRINGS:
	case FT_OBJECTS:
		want = YAML_SEQUENCE_NODE;
		break;
	case FT_MAP:
	case FT_OBJECT:
		want = YAML_MAPPING_NODE;
		break;
	case FT_MIXED:
		return true;
	default:
		want = YAML_SCALAR_NODE;
		break;
	}
	if (v->type == want)
		return true;
	error_at(L, v, "'%s' in %s must be %s, not %s", f->key, where,
		 want == YAML_SEQUENCE_NODE ? "a list"
		 : want == YAML_MAPPING_NODE ? "a mapping"
					     : "a scalar",
		 node_kind(v));
	return false;
}

/*
 * Check a mapping against its schema: known keys (with a suggestion), no
 * duplicates, required keys present, each value of the right shape. Returns
 * false if the mapping is unusable or any value has the wrong shape.
 */
static bool
check_object(struct loader *L, yaml_node_t *map, const char *schema_name, const char *where)
{
	const struct schema *s = schema_get(schema_name);
	const struct field *f;
	yaml_node_pair_t *p, *q;
	bool ok = true;

	if (!map || map->type != YAML_MAPPING_NODE) {
		error_at(L, map, "%s must be a mapping, not %s", where,
			 map ? node_kind(map) : "nothing");
		return false;
	}
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node_at(L, p->key);
		const char *k = scalar(kn);

		if (!k) {
			error_at(L, kn, "keys in %s must be scalars", where);
			ok = false;
			continue;
		}
		for (q = map->data.mapping.pairs.start; q < p; q++) {
			const char *k2 = scalar(node_at(L, q->key));
			if (k2 && strcmp(k, k2) == 0) {
				error_at(L, kn, "duplicate key '%s' in %s", k, where);
				break;
			}
		}
		f = schema_field(s, k);
		if (!f) {
			const char *hint = schema_suggest(s, k);
			if (hint)
				error_at(L, kn, "unknown key '%s' in %s (did you mean '%s'?)", k,
					 where, hint);
			else
				error_at(L, kn, "unknown key '%s' in %s", k, where);
			continue;
		}
		if (!shape_ok(L, f, node_at(L, p->value), where))
			ok = false;
	}
	for (f = s->fields; f->key; f++)
		if ((f->flags & F_REQUIRED) && !map_get(L, map, f->key))
			error_at(L, map, "%s is missing required key '%s'", where, f->key);
	return ok;
}

static char *
get_str(struct loader *L, yaml_node_t *map, const char *key)
{
	const char *s = scalar(map_get(L, map, key));
	(void)L;
	return s ? xstrdup(s) : NULL;
}

static bool
parse_bool(struct loader *L, yaml_node_t *n, const char *key, bool def)
{
	const char *s = scalar(n);

	if (!n)
		return def;
	if (s && strcmp(s, "true") == 0)
		return true;
	if (s && strcmp(s, "false") == 0)
		return false;
	error_at(L, n, "'%s' must be true or false, not '%s'", key, s ? s : "?");
	return def;
}

static bool
parse_int(struct loader *L, yaml_node_t *n, const char *key, long lo, long hi, long *out)
{
	const char *s = scalar(n);
	char *end;
	long v;

	if (!s || !*s)
		goto bad;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end)
		goto bad;
	if (v < lo || v > hi) {
		error_at(L, n, "'%s' must be between %ld and %ld, not %ld", key, lo, hi, v);
		return false;
	}
	*out = v;
	return true;
bad:
	error_at(L, n, "'%s' must be an integer, not '%s'", key, s ? s : "?");
	return false;
}

static long long
parse_duration_node(struct loader *L, yaml_node_t *n, const char *key, long long def)
{
	const char *s = scalar(n);
	long long v;

	if (!n)
		return def;
	v = util_parse_duration(s);
	if (v < 0) {
		error_at(L, n, "'%s' is not a duration: '%s' (use 90s, 10m, 2h)", key,
			 s ? s : "?");
		return def;
	}
	if (v == 0) {
		error_at(L, n, "'%s' must be longer than zero", key);
		return def;
	}
	return v;
}

/* Compile an extended regex; on failure report it at n. */
static bool
compile_re(struct loader *L, yaml_node_t *n, const char *key, const char *pattern, regex_t *re)
{
	/* ^ and $ match at line ends, as in grep: step output is read line by line. */
	int rc = regcomp(re, pattern, REG_EXTENDED | REG_NEWLINE);
	char msg[256];

	if (rc == 0)
		return true;
	regerror(rc, re, msg, sizeof(msg));
	error_at(L, n, "'%s' is not a valid regex: %s", key, msg);
	return false;
}

static int
enum_index(const char *const *choices, const char *s)
{
	int i;

	for (i = 0; s && choices[i]; i++)
		if (strcmp(choices[i], s) == 0)
			return i;
	return -1;
}

static bool
check_enum(struct loader *L, yaml_node_t *map, const char *schema_name, const char *key,
	   int *out)
{
	const struct field *f = schema_field(schema_get(schema_name), key);
	yaml_node_t *n = map_get(L, map, key);
	const char *s = scalar(n);
	int i;

	if (!n)
		return false;
	i = enum_index(f->choices, s);
	if (i < 0) {
		struct buf b;
		const char *const *c;

		buf_init(&b, 0);
		for (c = f->choices; *c; c++)
			buf_addf(&b, "%s%s", c == f->choices ? "" : ", ", *c);
		error_at(L, n, "'%s' must be one of %s, not '%s'", key, b.data, s ? s : "?");
		buf_release(&b);
		return false;
	}
	*out = i;
	return true;
}

static char **
get_strings(struct loader *L, yaml_node_t *n, const char *key, size_t *count)
{
	char **v;
	size_t i, len = seq_len(n);

	*count = 0;
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return NULL;
	v = xcalloc(len + 1, sizeof(*v));
	for (i = 0; i < len; i++) {
		yaml_node_t *item = seq_item(L, n, i);
		const char *s = scalar(item);
		if (!s) {
			error_at(L, item, "items of '%s' must be scalars", key);
			s = "";
		}
		v[(*count)++] = xstrdup(s);
	}
	return v;
}

static void
free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool
valid_ident(const char *s)
{
	if (!s || !(islower((unsigned char)*s) || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

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

	if (!check_object(L, n, "when", "'when'"))
		return NULL;
	w = xcalloc(1, sizeof(*w));
	w->pos = node_pos(n);
	for (i = 0; i < 3; i++)
		ncomb += map_get(L, n, combinators[i]) != NULL;
	nsrc = (map_get(L, n, "capture") != NULL) + (map_get(L, n, "param") != NULL);
	nop = (map_get(L, n, "equals") != NULL) + (map_get(L, n, "in") != NULL) +
	      (map_get(L, n, "matches") != NULL);
	if (ncomb) {
		if (ncomb > 1 || nsrc || nop) {
			error_at(L, n, "a 'when' holds exactly one of not/any/all, alone");
			goto fail;
		}
		if ((src = map_get(L, n, "not")) != NULL) {
			w->kind = WHEN_NOT;
			w->subs = xcalloc(1, sizeof(*w->subs));
			w->subs[0] = parse_when(L, src);
			w->nsubs = 1;
			if (!w->subs[0])
				goto fail;
			return w;
		}
		src = map_get(L, n, "any");
		w->kind = src ? WHEN_ANY : WHEN_ALL;
		if (!src)
			src = map_get(L, n, "all");
		if (seq_len(src) == 0) {
			error_at(L, src, "'%s' needs at least one condition",
				 w->kind == WHEN_ANY ? "any" : "all");
			goto fail;
		}
		w->subs = xcalloc(seq_len(src), sizeof(*w->subs));
		for (i = 0; i < seq_len(src); i++) {
			w->subs[i] = parse_when(L, seq_item(L, src, i));
			w->nsubs++;
			if (!w->subs[i])
				goto fail;
		}
		return w;
	}
	if (nsrc != 1 || nop != 1) {
		error_at(L, n, "a 'when' needs exactly one of capture/param and exactly one of "
			       "equals/in/matches");
		goto fail;
	}
	w->kind = WHEN_TEST;
	w->is_param = map_get(L, n, "param") != NULL;
	src = map_get(L, n, w->is_param ? "param" : "capture");
	w->name = xstrdup(scalar(src));
	if ((op = map_get(L, n, "equals")) != NULL) {
		w->op = WHEN_EQUALS;
		w->values = xcalloc(1, sizeof(*w->values));
		w->values[0] = xstrdup(scalar(op));
		w->nvalues = 1;
	} else if ((op = map_get(L, n, "in")) != NULL) {
		w->op = WHEN_IN;
		w->values = get_strings(L, op, "in", &w->nvalues);
	} else {
		op = map_get(L, n, "matches");
		w->op = WHEN_MATCHES;
		w->values = xcalloc(1, sizeof(*w->values));
		w->values[0] = xstrdup(scalar(op));
		w->nvalues = 1;
		w->has_re = compile_re(L, op, "matches", scalar(op), &w->re);
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
	free_strings(w->values, w->nvalues);
	if (w->has_re)
		regfree(&w->re);
	free(w);
}

/* ---- steps ----------------------------------------------------------------- */

static void step_free(struct step *s);

static void
parse_expect(struct loader *L, yaml_node_t *n, struct step *s)
{
	yaml_node_t *ex, *re;

	if (n && check_object(L, n, "expect", "'expect'")) {
		ex = map_get(L, n, "exit");
		if (ex && ex->type == YAML_SCALAR_NODE) {
			long v;
			if (parse_int(L, ex, "exit", 0, 255, &v)) {
				s->expect.exits = xcalloc(1, sizeof(int));
				s->expect.exits[0] = (int)v;
				s->expect.nexits = 1;
			}
		} else if (ex && ex->type == YAML_SEQUENCE_NODE && seq_len(ex) > 0) {
			size_t i;
			s->expect.exits = xcalloc(seq_len(ex), sizeof(int));
			for (i = 0; i < seq_len(ex); i++) {
				long v;
				if (parse_int(L, seq_item(L, ex, i), "exit", 0, 255, &v))
					s->expect.exits[s->expect.nexits++] = (int)v;
			}
		} else if (ex) {
			error_at(L, ex, "'exit' must be an exit status or a non-empty list of them");
		}
		if ((re = map_get(L, n, "stdout")) != NULL) {
			s->expect.stdout_re = xstrdup(scalar(re));
			if (!compile_re(L, re, "stdout", s->expect.stdout_re, &s->expect.out_re)) {
				free(s->expect.stdout_re);
				s->expect.stdout_re = NULL;
			}
		}
		if ((re = map_get(L, n, "stdout_not")) != NULL) {
			s->expect.stdout_not = xstrdup(scalar(re));
			if (!compile_re(L, re, "stdout_not", s->expect.stdout_not,
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
		if (!valid_ident(scalar(n))) {
			error_at(L, n, "capture name '%s' must match [a-z_][a-z0-9_]*", scalar(n));
			return;
		}
		s->captures = xcalloc(1, sizeof(*s->captures));
		s->captures[0].name = xstrdup(scalar(n));
		s->captures[0].pos = node_pos(n);
		s->ncaptures = 1;
		return;
	}
	if (n->type != YAML_MAPPING_NODE) {
		error_at(L, n, "'capture' must be a name or a mapping of names to regexes");
		return;
	}
	s->captures = xcalloc((size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start) + 1,
			      sizeof(*s->captures));
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(L, p->key), *v = node_at(L, p->value);
		struct capture *c = &s->captures[s->ncaptures];

		if (!valid_ident(scalar(k))) {
			error_at(L, k, "capture name '%s' must match [a-z_][a-z0-9_]*",
				 scalar(k) ? scalar(k) : "?");
			continue;
		}
		if (!scalar(v)) {
			error_at(L, v, "capture '%s' must be a regex", scalar(k));
			continue;
		}
		if (!compile_re(L, v, "capture", scalar(v), &c->re))
			continue;
		c->name = xstrdup(scalar(k));
		c->pattern = xstrdup(scalar(v));
		c->pos = node_pos(k);
		s->ncaptures++;
	}
}

static struct http_spec *
parse_http(struct loader *L, yaml_node_t *n)
{
	struct http_spec *h;
	yaml_node_t *hd, *st;
	int m;

	if (!check_object(L, n, "http", "'http'"))
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->method = check_enum(L, n, "http", "method", &m) ? xstrdup(scalar(map_get(L, n, "method")))
							 : xstrdup("GET");
	h->url = get_str(L, n, "url");
	h->body = get_str(L, n, "body");
	if ((hd = map_get(L, n, "headers")) != NULL && hd->type == YAML_MAPPING_NODE) {
		yaml_node_pair_t *p;
		h->headers = xcalloc((size_t)(hd->data.mapping.pairs.top - hd->data.mapping.pairs.start) + 1,
				     sizeof(char *));
		for (p = hd->data.mapping.pairs.start; p < hd->data.mapping.pairs.top; p++) {
			const char *k = scalar(node_at(L, p->key)), *v = scalar(node_at(L, p->value));
			if (!k || !v) {
				error_at(L, node_at(L, p->key), "headers must map names to values");
				continue;
			}
			h->headers[h->nheaders++] = xasprintf("%s: %s", k, v);
		}
	}
	st = map_get(L, n, "expect_status");
	if (st && st->type == YAML_SCALAR_NODE) {
		long v;
		if (parse_int(L, st, "expect_status", 100, 599, &v)) {
			h->status = xcalloc(1, sizeof(int));
			h->status[0] = (int)v;
			h->nstatus = 1;
		}
	} else if (st && st->type == YAML_SEQUENCE_NODE) {
		size_t i;
		h->status = xcalloc(seq_len(st) + 1, sizeof(int));
		for (i = 0; i < seq_len(st); i++) {
			long v;
			if (parse_int(L, seq_item(L, st, i), "expect_status", 100, 599, &v))
				h->status[h->nstatus++] = (int)v;
		}
	} else if (st) {
		error_at(L, st, "'expect_status' must be a status code or a list of them");
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

	if (!check_object(L, n, "step", is_undo ? "an 'undo' step" : "a step"))
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->pos = node_pos(n);
	s->phase = phase;
	s->index = index;
	s->name = get_str(L, n, "name");
	if (!s->name)
		s->name = xstrdup("(unnamed)");
	for (f = sch->fields; f->key; f++) {
		if (!(f->flags & F_ACTION) || !(v = map_get(L, n, f->key)))
			continue;
		nactions++;
		if (!action_node)
			action_node = v;
		else
			error_at(L, v, "step '%s' has more than one action ('%s' and another); "
				       "give each its own step",
				 s->name, f->key);
	}
	if (nactions == 0)
		error_at(L, n, "step '%s' has no action: give it one of ssh, run, http, action, "
			       "confirm",
			 s->name);
	if ((v = map_get(L, n, "ssh")) != NULL) {
		s->kind = STEP_SSH;
	} else if ((v = map_get(L, n, "run")) != NULL) {
		s->kind = STEP_RUN;
	} else if ((v = map_get(L, n, "confirm")) != NULL) {
		s->kind = STEP_CONFIRM;
	} else if ((v = map_get(L, n, "http")) != NULL) {
		s->kind = STEP_HTTP;
		s->http = parse_http(L, v);
	} else if ((v = map_get(L, n, "action")) != NULL) {
		s->kind = STEP_ACTION;
		if (check_enum(L, n, "step", "action", &e))
			s->action = (enum step_action)e;
	}
	if (v && v->type == YAML_SCALAR_NODE && s->kind != STEP_ACTION) {
		s->text = xstrdup(scalar(v));
		s->text_pos = node_pos(v);
		if (v->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		    v->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
			s->text_pos.col++; /* template offsets count from inside the quote */
		if (!*s->text)
			error_at(L, v, "step '%s' has an empty command", s->name);
	}
	s->timeout_ms = parse_duration_node(L, map_get(L, n, "timeout"), "timeout",
					    phase_default_timeout_ms[phase]);
	s->retry_delay_ms =
		parse_duration_node(L, map_get(L, n, "retry_delay"), "retry_delay", 5000);
	s->duration_ms = parse_duration_node(L, map_get(L, n, "duration"), "duration", 0);
	if (s->kind == STEP_ACTION && s->action == ACTION_SLEEP && !s->duration_ms)
		error_at(L, n, "'action: sleep' needs a 'duration'");
	if ((v = map_get(L, n, "retries")) != NULL && parse_int(L, v, "retries", 0, 100, &lv))
		s->retries = (int)lv;
	parse_expect(L, map_get(L, n, "expect"), s);
	parse_capture(L, map_get(L, n, "capture"), s);
	if ((v = map_get(L, n, "when")) != NULL)
		s->when = parse_when(L, v);
	if (s->kind == STEP_CONFIRM)
		s->mutates = false;
	else if (s->kind == STEP_ACTION)
		s->mutates = action_mutates(s->action);
	else if (is_undo)
		s->mutates = parent_mutates; /* an undo touches what its step touched */
	else
		s->mutates = phase == PHASE_PROCEDURE || phase == PHASE_ROLLBACK;
	s->mutates = parse_bool(L, map_get(L, n, "mutates"), "mutates", s->mutates);
	s->idempotent = parse_bool(L, map_get(L, n, "idempotent"), "idempotent", !s->mutates);
	if (check_enum(L, n, "step", "on_success", &e))
		s->keep_cordoned = e == 1;
	if ((v = map_get(L, n, "undo")) != NULL) {
		if (is_undo)
			error_at(L, v, "an 'undo' step cannot have its own 'undo'");
		else
			s->undo = parse_step(L, v, phase, 0, true, s->mutates);
		if (s->undo)
			s->undo->undo_of = index;
		if (s->undo && s->undo->when)
			error_at(L, v, "an 'undo' step cannot have a 'when'");
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
	free_strings(h->headers, h->nheaders);
	free(h->status);
	free(h);
}

static void
step_free(struct step *s)
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
	step_free(s->undo);
	free(s);
}

static void
parse_phase(struct loader *L, yaml_node_t *root, enum phase p)
{
	yaml_node_t *n = map_get(L, root, phase_name(p));
	size_t i;

	if (!n || n->type != YAML_SEQUENCE_NODE)
		return;
	if (seq_len(n) == 0 && (p == PHASE_PROCEDURE || p == PHASE_VERIFY))
		error_at(L, n, "'%s' needs at least one step", phase_name(p));
	L->rb->steps[p] = xcalloc(seq_len(n) + 1, sizeof(struct step *));
	for (i = 0; i < seq_len(n); i++) {
		struct step *s = parse_step(L, seq_item(L, n, i), p, (int)i + 1, false, false);
		if (s)
			L->rb->steps[p][L->rb->nsteps[p]++] = s;
	}
}

/* ---- top level ------------------------------------------------------------- */

static void
parse_params(struct loader *L, yaml_node_t *n)
{
	yaml_node_pair_t *p;
	size_t cap;

	if (!n)
		return;
	if (n->type != YAML_MAPPING_NODE) {
		error_at(L, n, "'params' must be a mapping of parameter names to definitions");
		return;
	}
	cap = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	L->rb->params = xcalloc(cap + 1, sizeof(struct param));
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(L, p->key), *v = node_at(L, p->value), *pat;
		struct param *pr = &L->rb->params[L->rb->nparams];

		if (!valid_ident(scalar(k))) {
			error_at(L, k, "parameter name '%s' must match [a-z_][a-z0-9_]*",
				 scalar(k) ? scalar(k) : "?");
			continue;
		}
		if (!check_object(L, v, "param", "a parameter"))
			continue;
		pr->name = xstrdup(scalar(k));
		pr->pos = node_pos(k);
		pr->description = get_str(L, v, "description");
		pr->def = get_str(L, v, "default");
		pr->secret = parse_bool(L, map_get(L, v, "secret"), "secret", false);
		L->rb->nparams++;
		if ((pat = map_get(L, v, "pattern")) != NULL) {
			pr->pattern = xstrdup(scalar(pat));
			if (!compile_re(L, pat, "pattern", pr->pattern, &pr->re)) {
				free(pr->pattern);
				pr->pattern = NULL;
			} else if (pr->def && regexec(&pr->re, pr->def, 0, NULL, 0) != 0) {
				error_at(L, map_get(L, v, "default"),
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

	if (!check_object(L, n, "trigger", "'trigger'"))
		return;
	t->summary = get_str(L, n, "summary");
	t->node_label = get_str(L, n, "node_label");
	if (!t->node_label)
		t->node_label = xstrdup("Hostname");
	al = map_get(L, n, "alerts");
	if (!al)
		return;
	if (al->type != YAML_SEQUENCE_NODE) {
		error_at(L, al, "'alerts' must be a list of label matchers");
		return;
	}
	t->alerts = xcalloc(seq_len(al) + 1, sizeof(*t->alerts));
	for (i = 0; i < seq_len(al); i++) {
		yaml_node_t *m = seq_item(L, al, i);
		struct matcher *mt = &t->alerts[t->nalerts];
		yaml_node_pair_t *p;

		if (m->type != YAML_MAPPING_NODE) {
			error_at(L, m, "an alert matcher must be a mapping of label to value");
			continue;
		}
		mt->keys = xcalloc((size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start) + 1,
				   sizeof(char *));
		mt->values = xcalloc((size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start) + 1,
				     sizeof(char *));
		for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
			const char *k = scalar(node_at(L, p->key)), *v = scalar(node_at(L, p->value));
			if (!k || !v) {
				error_at(L, node_at(L, p->key), "alert labels and values must be scalars");
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
	if (!check_object(L, n, "guard", "'guard'"))
		return;
	g->none = get_str(L, n, "none");
	if (g->none) {
		if (map_get(L, n, "cordon") || map_get(L, n, "drain") ||
		    map_get(L, n, "drain_timeout"))
			error_at(L, n, "'guard: {none: ...}' stands alone: no cordon, drain or "
				       "drain_timeout with it");
		if (!*g->none)
			error_at(L, map_get(L, n, "none"), "'guard: none' needs a reason");
		g->cordon = g->drain = false;
		return;
	}
	g->cordon = parse_bool(L, map_get(L, n, "cordon"), "cordon", true);
	g->drain = parse_bool(L, map_get(L, n, "drain"), "drain", true);
	g->drain_timeout_ms = parse_duration_node(L, map_get(L, n, "drain_timeout"),
						  "drain_timeout", g->drain_timeout_ms);
	if (g->drain && !g->cordon)
		error_at(L, n, "a guard that drains must also cordon");
	if (!g->cordon)
		error_at(L, n, "a guard must cordon; a runbook that changes nothing declares "
			       "'guard: {none: REASON}'");
}

static void
check_name_matches_file(struct loader *L, yaml_node_t *n)
{
	const char *base = strrchr(L->file, '/');
	size_t len;

	base = base ? base + 1 : L->file;
	len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".yaml") == 0)
		len -= 5;
	else if (len > 4 && strcmp(base + len - 4, ".yml") == 0)
		len -= 4;
	else
		return;
	if (L->rb->name && (strlen(L->rb->name) != len || strncmp(L->rb->name, base, len) != 0))
		error_at(L, n, "name '%s' must equal the file stem '%.*s'", L->rb->name, (int)len,
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
			diags_add(c->L->d, DIAG_ERROR, c->L->file, p,
				  "unknown parameter '%s' in template (declare it under params)",
				  name + 7);
	} else if (strncmp(name, "captures.", 9) == 0) {
		if (!strmap_get(c->known, name + 9))
			diags_add(c->L->d, DIAG_ERROR, c->L->file, p,
				  "capture '%s' is not set by any earlier step", name + 9);
	} else {
		diags_add(c->L->d, DIAG_ERROR, c->L->file, p,
			  "unknown template name '%s' (known: node, params.X, captures.X, run.id, "
			  "attempt)",
			  name);
	}
	if (c->shell && (why = template_shell_context_error(c->text, off)) != NULL)
		diags_add(c->L->d, DIAG_ERROR, c->L->file, p, "%s", why);
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
		diags_add(L->d, DIAG_ERROR, L->file, pos, "%s", err.msg);
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
		diags_add(L->d, DIAG_ERROR, L->file, w->pos, "'when' tests unknown parameter '%s'",
			  w->name);
	if (!w->is_param && !strmap_get(known, w->name))
		diags_add(L->d, DIAG_ERROR, L->file, w->pos,
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

	if (!check_object(L, root, "runbook", "the runbook"))
		return;
	rb->name = get_str(L, root, "name");
	if (rb->name && !util_valid_slug(rb->name))
		error_at(L, map_get(L, root, "name"), "name '%s' must match [a-z0-9-]+", rb->name);
	check_name_matches_file(L, map_get(L, root, "name"));
	rb->title = get_str(L, root, "title");
	if (check_enum(L, root, "runbook", "subsystem", &e))
		rb->subsystem = xstrdup(schema_subsystems[e]);
	rb->summary = get_str(L, root, "summary");
	if ((n = map_get(L, root, "trigger")) != NULL)
		parse_trigger(L, n);
	parse_params(L, map_get(L, root, "params"));
	if ((n = map_get(L, root, "guard")) != NULL)
		parse_guard(L, n);
	rb->max_attempts = 1;
	if ((n = map_get(L, root, "max_attempts")) != NULL &&
	    parse_int(L, n, "max_attempts", 1, 10, &v))
		rb->max_attempts = (int)v;
	if (check_enum(L, root, "runbook", "on_success", &e))
		rb->keep_cordoned = e == 1;
	for (e = 0; e < PHASE_COUNT; e++)
		parse_phase(L, root, (enum phase)e);
	rb->references = get_strings(L, map_get(L, root, "references"), "references",
				     &rb->nreferences);
	rb->related = get_strings(L, map_get(L, root, "related"), "related", &rb->nrelated);
	check_template_names(L);
}

struct runbook *
runbook_load_string(const char *path, const char *text, size_t len, struct diags *d)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct loader L = {path, &doc, d, NULL};
	size_t before = d->nerrors;
	yaml_node_t *root;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		struct srcpos p = {(int)parser.problem_mark.line + 1,
				   (int)parser.problem_mark.column + 1};
		diags_add(d, DIAG_ERROR, path, p, "YAML: %s%s%s",
			  parser.problem ? parser.problem : "cannot parse",
			  parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return NULL;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		struct srcpos p = {1, 1};
		diags_add(d, DIAG_ERROR, path, p, "the file is empty");
		yaml_document_delete(&doc);
		yaml_parser_delete(&parser);
		return NULL;
	}
	L.rb = xcalloc(1, sizeof(*L.rb));
	L.rb->path = xstrdup(path);
	decode(&L, root);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
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
	for (p = 0; p < PHASE_COUNT; p++) {
		for (i = 0; i < rb->nsteps[p]; i++)
			step_free(rb->steps[p][i]);
		free(rb->steps[p]);
	}
	free_strings(rb->references, rb->nreferences);
	free_strings(rb->related, rb->nrelated);
	free(rb);
}

const struct param *
runbook_param(const struct runbook *rb, const char *name)
{
	size_t i;

	for (i = 0; i < rb->nparams; i++)
		if (strcmp(rb->params[i].name, name) == 0)
			return &rb->params[i];
	return NULL;
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

/* ---- finding runbooks ---------------------------------------------------------- */

/* BIN/../share/rbx/runbooks of the running binary: right wherever `make install` put it. */
static char *
installed_share_dir(void)
{
	char exe[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	return xasprintf("%s/../share/rbx/runbooks", exe);
}

/* A real directory that only this user or root can write to. */
static bool
trusted_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	       (st.st_uid == geteuid() || st.st_uid == 0) && !(st.st_mode & 022);
}

char **
runbook_search_path(void)
{
	const char *env = getenv("RBX_RUNBOOKS");
	char *exe;
	char **dirs = xcalloc(64, sizeof(char *));
	size_t n = 0;

	/* ./runbooks only where no one else can have put a runbook (cf. git's safe.directory). */
	if (trusted_dir(".") && trusted_dir("./runbooks"))
		dirs[n++] = xstrdup("./runbooks");
	if (env && *env) {
		char *copy = xstrdup(env), *save = NULL, *tok;
		for (tok = strtok_r(copy, ":", &save); tok && n < 60; tok = strtok_r(NULL, ":", &save))
			dirs[n++] = xstrdup(tok);
		free(copy);
	}
	dirs[n++] = xstrdup("/etc/rbx/runbooks");
	if ((exe = installed_share_dir()) != NULL)
		dirs[n++] = exe;
	dirs[n++] = xstrdup(RBX_SHARE_DIR "/runbooks");
	return dirs;
}

void
runbook_path_free(char **dirs)
{
	size_t i;

	if (!dirs)
		return;
	for (i = 0; dirs[i]; i++)
		free(dirs[i]);
	free(dirs);
}

char *
runbook_find(const char *name, struct rbx_err *err)
{
	char **dirs;
	size_t i, len = strlen(name);
	char *found = NULL;

	if (strchr(name, '/') || (len > 5 && strcmp(name + len - 5, ".yaml") == 0) ||
	    (len > 4 && strcmp(name + len - 4, ".yml") == 0)) {
		if (access(name, R_OK) != 0) {
			err_set(err, "cannot read runbook '%s': %s", name, strerror(errno));
			return NULL;
		}
		return xstrdup(name);
	}
	if (!util_valid_slug(name)) {
		err_set(err, "'%s' is not a runbook name ([a-z0-9-]+) or a path", name);
		return NULL;
	}
	dirs = runbook_search_path();
	for (i = 0; dirs[i] && !found; i++) {
		char *p = xasprintf("%s/%s.yaml", dirs[i], name);
		if (access(p, R_OK) == 0)
			found = p;
		else
			free(p);
	}
	if (!found) {
		struct buf b;
		buf_init(&b, 0);
		for (i = 0; dirs[i]; i++)
			buf_addf(&b, "%s%s", i ? ":" : "", dirs[i]);
		err_set(err, "no runbook named '%s' (searched %s)", name, b.data);
		buf_release(&b);
	}
	runbook_path_free(dirs);
	return found;
}

void
runbook_when_text(const struct when *w, struct buf *b)
{
	size_t i;

	switch (w->kind) {
	case WHEN_NOT:
		buf_adds(b, "not (");
		runbook_when_text(w->subs[0], b);
		buf_adds(b, ")");
		return;
	case WHEN_ANY:
	case WHEN_ALL:
		for (i = 0; i < w->nsubs; i++) {
			if (i)
				buf_adds(b, w->kind == WHEN_ANY ? " or " : " and ");
			buf_adds(b, "(");
			runbook_when_text(w->subs[i], b);
			buf_adds(b, ")");
		}
		return;
	case WHEN_TEST:
		break;
	}
	buf_addf(b, "%s %s ", w->is_param ? "param" : "capture", w->name);
	if (w->op == WHEN_MATCHES) {
		buf_addf(b, "matches /%s/", w->values[0]);
		return;
	}
	if (w->op == WHEN_EQUALS) {
		buf_addf(b, "= '%s'", w->values[0]);
		return;
	}
	buf_adds(b, "in [");
	for (i = 0; i < w->nvalues; i++)
		buf_addf(b, "%s%s", i ? ", " : "", w->values[i]);
	buf_adds(b, "]");
}
