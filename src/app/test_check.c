/* test_check.c - what a scenario expects, checked after its run: exit and end state, the
 * node in service or cordoned (asked of the scheduler), steps, output, the node's state. */
#define _GNU_SOURCE
#include "app/test_run.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "backends/registry.h"

static bool
matches(const char *pattern, const char *text)
{
	regex_t re;
	bool m;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0)
		return false;
	m = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return m;
}

/* Whether the journal shows the named step with this record type (step_start, step_skip). */
static bool
journal_has(json_t *recs, const char *type, const char *name)
{
	json_t *rec;
	size_t i;

	json_array_foreach(recs, i, rec) {
		const char *t = json_string_value(json_object_get(rec, "type")) ?: "";
		/* A confirmation is journaled as its question, not as a step_start. */
		if ((!strcmp(t, type) || (!strcmp(type, "step_start") && !strcmp(t, "confirm"))) &&
		    !strcmp(json_string_value(json_object_get(rec, "name")) ?: "", name))
			return true;
	}
	return false;
}

/* The first segment of a dotted path into key ("\." is a dot of the key); the rest or NULL. */
static const char *
segment(const char *path, char *key, size_t size)
{
	size_t n = 0;

	for (; *path && *path != '.'; path++) {
		if (*path == '\\' && path[1] == '.')
			path++;
		if (n + 1 < size)
			key[n++] = *path;
	}
	key[n] = 0;
	return *path == '.' ? path + 1 : NULL;
}

/*
 * A value at a dotted path: a key, a list index, '#' for a length, '*' for every item
 * of a list or value of a mapping (gpus.0.gis.*.profile). A new reference, or NULL.
 */
static json_t *
path_get(json_t *v, const char *path)
{
	char key[256];
	const char *rest = segment(path, key, sizeof(key)), *k;
	json_t *next, *out, *item;
	size_t i;

	if (!v)
		return NULL;
	if (!strcmp(key, "#"))
		return json_is_array(v) ? json_integer((json_int_t)json_array_size(v))
		       : json_is_object(v) ? json_integer((json_int_t)json_object_size(v))
					   : NULL;
	if (!strcmp(key, "*")) {
		out = json_array();
		if (json_is_array(v))
			json_array_foreach(v, i, item)
				json_array_append_new(out, rest ? path_get(item, rest) : json_incref(item));
		else
			json_object_foreach(v, k, item)
				json_array_append_new(out, rest ? path_get(item, rest) : json_incref(item));
		return out;
	}
	if (json_is_array(v)) {
		char *end;
		long idx = strtol(key, &end, 10);
		next = *end || !*key || idx < 0 ? NULL : json_array_get(v, (size_t)idx);
	} else {
		next = json_object_get(v, key);
	}
	if (!next)
		return NULL;
	return rest ? path_get(next, rest) : json_incref(next);
}

/* want is a value (null: absent, or null), or {">=": N} (also <=, >, <, !=). */
static bool
value_holds(json_t *have, json_t *want)
{
	static const char *const ops[] = {">=", "<=", ">", "<", "!=", NULL};
	const char *op;
	json_t *arg;
	double a, b;
	int i;

	if (json_is_object(want) && json_object_size(want) == 1) {
		json_object_foreach(want, op, arg)
			for (i = 0; ops[i]; i++) {
				if (strcmp(ops[i], op))
					continue;
				if (i == 4)
					return !json_equal(have, arg);
				if (!json_is_number(have) || !json_is_number(arg))
					return false;
				a = json_number_value(have);
				b = json_number_value(arg);
				return i == 0 ? a >= b : i == 1 ? a <= b : i == 2 ? a > b : a < b;
			}
	}
	if (json_is_null(want))
		return !have || json_is_null(have);
	return have && json_equal(have, want);
}

static void
check_node(const struct test_opts *o, const char *dir, const struct scenario *s,
	   struct test_result *r)
{
	const struct transport_entry *te = registry_transport(o->via);
	const struct sched_entry *se = te ? registry_sched(te->default_sched) : NULL;
	struct backend_ctx ctx = {dir, NULL, s->node, s->node, NULL, false};
	struct sched_state st = {0};
	struct rbx_err err;
	struct sched *sc;

	if (s->expect.node == SCEN_NODE_ANY && !s->expect.reason)
		return;
	sc = se ? se->open(&ctx, &err) : NULL;
	if (!sc || sc->ops->state(sc, &st, &err) < 0) {
		buf_addf(&r->why, "node: could not ask the scheduler: %s\n", sc || se ? err.msg : "none");
		sched_free(sc);
		return;
	}
	sched_free(sc);
	if (s->expect.node == SCEN_NODE_IN_SERVICE && st.cordoned)
		buf_addf(&r->why, "node: expected in-service, was cordoned (%s)\n", st.reason);
	if (s->expect.node == SCEN_NODE_CORDONED && !st.cordoned)
		buf_addf(&r->why, "node: expected cordoned, was in service\n");
	if (s->expect.reason && !matches(s->expect.reason, st.reason))
		buf_addf(&r->why, "reason: expected /%s/, was '%s'\n", s->expect.reason, st.reason);
}

static void
check_state(const struct test_opts *o, const char *dir, const struct scenario *s,
	    struct test_result *r)
{
	const struct scenario_expect *e = &s->expect;
	const struct transport_entry *te = registry_transport(o->via);
	struct rbx_err err;
	json_t *st, *want;
	const char *path;
	char *text;
	size_t i;

	if (!e->node_state && !e->nstate_has && !e->nstate_lacks && !e->nfiles)
		return;
	st = te && te->sim ? te->sim->state(dir, s->node, &err) : NULL;
	if (!st) {
		buf_addf(&r->why, "node_state: could not read it: %s\n", te ? err.msg : "no simulation");
		return;
	}
	json_object_foreach(e->node_state, path, want) {
		json_t *have = path_get(st, path);
		if (!value_holds(have, want)) {
			char *h = have ? json_dumps(have, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
			char *w = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
			buf_addf(&r->why, "node_state %s: expected %s, was %.200s\n", path, w,
				 h ? h : "(absent)");
			free(h);
			free(w);
		}
		json_decref(have);
	}
	/* The state as indented JSON, "key": "value": what a reader of the node sees. */
	text = json_dumps(st, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	for (i = 0; i < e->nstate_has; i++)
		if (!strstr(text, e->state_has[i]))
			buf_addf(&r->why, "node_state_has: no '%s' in the node's state\n", e->state_has[i]);
	for (i = 0; i < e->nstate_lacks; i++)
		if (strstr(text, e->state_lacks[i]))
			buf_addf(&r->why, "node_state_lacks: '%s' is in the node's state\n",
				 e->state_lacks[i]);
	for (i = 0; i < e->nfiles; i++)
		if (!te->sim->has_file(dir, s->node, e->files[i]))
			buf_addf(&r->why, "files: nothing matches '%s' on the node\n", e->files[i]);
	free(text);
	json_decref(st);
}

void
test_check(const struct test_opts *o, const char *dir, struct test_result *r)
{
	const struct scenario *s = r->s;
	const struct scenario_expect *e = &s->expect;
	struct rbx_err err;
	char *path = xasprintf("%s/output.txt", dir), *out;
	size_t len, i;

	out = util_read_file(path, 16u << 20, &len, &err);
	free(path);
	if (e->exit >= 0 && r->exit != e->exit)
		buf_addf(&r->why, "exit: expected %d, was %d\n", e->exit, r->exit);
	if (e->state && strcmp(e->state, r->end_state))
		buf_addf(&r->why, "state: expected %s, was %s\n", e->state, r->end_state);
	for (i = 0; i < e->nran; i++)
		if (!journal_has(r->records, "step_start", e->ran[i]))
			buf_addf(&r->why, "ran: '%s' did not run\n", e->ran[i]);
	for (i = 0; i < e->nskipped; i++)
		if (!journal_has(r->records, "step_skip", e->skipped[i]))
			buf_addf(&r->why, "skipped: '%s' was not skipped\n", e->skipped[i]);
	for (i = 0; i < e->noutput; i++)
		if (!out || !matches(e->output[i], out))
			buf_addf(&r->why, "output: nothing matches /%s/\n", e->output[i]);
	check_node(o, dir, s, r);
	check_state(o, dir, s, r);
	free(out);
	r->pass = r->why.len == 0;
}
