/* scenario.c - the scenario file's loader: a key table per level, every fault reported at
 * file:line:col, faults and stubs checked against the simulation and the runbook. */
#define _GNU_SOURCE
#include "app/scenario.h"

#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "io/ydoc.h"

static const char *const file_keys[] = {"runbook", "scenarios", "coverage", NULL};
static const char *const scenario_keys[] = {"name",   "node",	 "node_type", "faults",
					    "params", "yes",	 "answers",   "format",
					    "stubs",  "timeout", "expect",    NULL};
static const char *const expect_keys[] = {"exit",   "state",	  "node",	    "reason",
					  "ran",    "skipped",	  "output",	    "node_state",
					  "node_state_has", "node_state_lacks", "files", NULL};
static const char *const answer_keys[] = {"stdout", "stderr", "exit", NULL};
static const char *const waiver_keys[] = {"step", "when", "why", NULL};

/* Every key of map is one of keys; each other one is an error at its position. */
static void
check_keys(struct ydoc *y, yaml_node_t *map, const char *const *keys, const char *where)
{
	size_t i, k;

	for (i = 0; i < ydoc_len(map); i++) {
		const char *key = ydoc_scalar(ydoc_key(y, map, i));
		for (k = 0; keys[k] && (!key || strcmp(keys[k], key)); k++)
			;
		if (!keys[k])
			ydoc_error(y, ydoc_key(y, map, i), "unknown key '%s' in %s", key ? key : "?",
				   where);
	}
}

/* A YAML value as JSON: plain scalars typed as YAML 1.2's core schema reads them. */
static json_t *
to_json(struct ydoc *y, yaml_node_t *n)
{
	const char *s = ydoc_scalar(n);
	json_t *out;
	size_t i;
	char *end;

	if (ydoc_is_seq(n)) {
		out = json_array();
		for (i = 0; i < ydoc_len(n); i++)
			json_array_append_new(out, to_json(y, ydoc_item(y, n, i)));
		return out;
	}
	if (ydoc_is_map(n)) {
		out = json_object();
		for (i = 0; i < ydoc_len(n); i++)
			json_object_set_new(out, ydoc_scalar(ydoc_key(y, n, i)) ?: "",
					    to_json(y, ydoc_value(y, n, i)));
		return out;
	}
	if (!s)
		return json_null();
	if (ydoc_quoted(n))
		return json_string(s);
	if (!strcmp(s, "true") || !strcmp(s, "false"))
		return json_boolean(!strcmp(s, "true"));
	if (!strcmp(s, "null") || !strcmp(s, "~"))
		return json_null();
	if (*s && (isdigit((unsigned char)*s) || *s == '-')) {
		long long v = strtoll(s, &end, 10);
		if (!*end)
			return json_integer(v);
	}
	return json_string(s);
}

static bool
has_step(const struct runbook *rb, const char *name)
{
	size_t p, i;

	for (p = 0; p < PHASE_COUNT; p++)
		for (i = 0; i < rb->nsteps[p]; i++)
			if (!strcmp(rb->steps[p][i]->name, name) ||
			    (rb->steps[p][i]->undo && !strcmp(rb->steps[p][i]->undo->name, name)))
				return true;
	return false;
}

/* Whether text calls cmd: the name as a word of its own, not part of another. */
static bool
text_calls(const char *text, const char *cmd)
{
	size_t n = strlen(cmd);
	const char *p;

	for (p = text ? strstr(text, cmd) : NULL; p; p = strstr(p + 1, cmd)) {
		char before = p == text ? ' ' : p[-1], after = p[n];
		/* strchr finds the terminator too: a NUL "after" is an end, never a match. */
		if (!isalnum((unsigned char)before) && !strchr("_-./", before) &&
		    !isalnum((unsigned char)after) && (!after || !strchr("_-./", after)))
			return true;
	}
	return false;
}

static bool
runbook_calls(const struct runbook *rb, const char *cmd)
{
	size_t p, i;

	for (p = 0; p < PHASE_COUNT; p++)
		for (i = 0; i < rb->nsteps[p]; i++)
			if (text_calls(rb->steps[p][i]->text, cmd) ||
			    (rb->steps[p][i]->undo && text_calls(rb->steps[p][i]->undo->text, cmd)))
				return true;
	return false;
}

/* A list of step names, each one of the runbook's. */
static char **
step_list(struct ydoc *y, yaml_node_t *n, const char *key, const struct runbook *rb, size_t *count)
{
	char **v = ydoc_strings(y, n, key, count);
	size_t i;

	if (n && !v)
		ydoc_error(y, n, "'%s' is a list of step names", key);
	for (i = 0; v && i < *count; i++)
		if (!has_step(rb, v[i]))
			ydoc_error(y, ydoc_item(y, n, i), "%s: '%s' is no step of %s", key, v[i],
				   rb->name);
	return v;
}

/* A list of extended regular expressions, each compiled once here to find its faults. */
static char **
regex_list(struct ydoc *y, yaml_node_t *n, const char *key, size_t *count)
{
	char **v = ydoc_strings(y, n, key, count);
	size_t i;

	if (n && !v)
		ydoc_error(y, n, "'%s' is a list of patterns", key);
	for (i = 0; v && i < *count; i++) {
		regex_t re;
		if (regcomp(&re, v[i], REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0)
			ydoc_error(y, ydoc_item(y, n, i), "%s: '%s' is not an extended regular "
				   "expression", key, v[i]);
		else
			regfree(&re);
	}
	return v;
}

static char **
string_list(struct ydoc *y, yaml_node_t *n, const char *key, size_t *count)
{
	char **v = ydoc_strings(y, n, key, count);

	if (n && !v)
		ydoc_error(y, n, "'%s' is a list of strings", key);
	return v;
}

static void
load_expect(struct ydoc *y, yaml_node_t *n, const struct runbook *rb, struct scenario_expect *e)
{
	yaml_node_t *v;
	long code;

	e->exit = -1;
	if (!n)
		return;
	if (!ydoc_is_map(n))
		return ydoc_error(y, n, "'expect' is a mapping (exit, state, node, ...)");
	check_keys(y, n, expect_keys, "expect");
	if ((v = ydoc_get(y, n, "exit")) && ydoc_int(y, v, "exit", 0, 255, &code))
		e->exit = (int)code;
	e->state = ydoc_get_str(y, n, "state");
	if ((v = ydoc_get(y, n, "node"))) {
		const char *s = ydoc_scalar(v) ?: "";
		if (!strcmp(s, "in-service"))
			e->node = SCEN_NODE_IN_SERVICE;
		else if (!strcmp(s, "cordoned"))
			e->node = SCEN_NODE_CORDONED;
		else
			ydoc_error(y, v, "'node' is in-service or cordoned, not '%s'", s);
	}
	if ((v = ydoc_get(y, n, "reason"))) {
		char *pat = ydoc_get_str(y, n, "reason");
		regex_t re;
		if (!pat || regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) != 0)
			ydoc_error(y, v, "'reason' is an extended regular expression");
		else
			regfree(&re);
		e->reason = pat;
	}
	e->ran = step_list(y, ydoc_get(y, n, "ran"), "ran", rb, &e->nran);
	e->skipped = step_list(y, ydoc_get(y, n, "skipped"), "skipped", rb, &e->nskipped);
	e->output = regex_list(y, ydoc_get(y, n, "output"), "output", &e->noutput);
	e->state_has = string_list(y, ydoc_get(y, n, "node_state_has"), "node_state_has",
				   &e->nstate_has);
	e->state_lacks = string_list(y, ydoc_get(y, n, "node_state_lacks"), "node_state_lacks",
				     &e->nstate_lacks);
	e->files = string_list(y, ydoc_get(y, n, "files"), "files", &e->nfiles);
	if ((v = ydoc_get(y, n, "node_state"))) {
		if (!ydoc_is_map(v))
			ydoc_error(y, v, "'node_state' maps a path (gpus.3.remap_pending) to a value");
		else
			e->node_state = to_json(y, v);
	}
}

/* stubs: {COMMAND: [{stdout, stderr, exit}...]} (or one answer for every call). */
static json_t *
load_stubs(struct ydoc *y, yaml_node_t *n, const struct runbook *rb, const struct sim_ops *sim)
{
	json_t *out = json_object();
	size_t i, k;

	if (!n)
		return out;
	if (!ydoc_is_map(n)) {
		ydoc_error(y, n, "'stubs' maps a command to its answers");
		return out;
	}
	for (i = 0; i < ydoc_len(n); i++) {
		yaml_node_t *key = ydoc_key(y, n, i), *v = ydoc_value(y, n, i);
		const char *cmd = ydoc_scalar(key) ?: "";
		struct rbx_err err;
		json_t *calls = json_array();
		if (sim->check_stub(cmd, &err) < 0)
			ydoc_error(y, key, "%s", err.msg);
		else if (!runbook_calls(rb, cmd))
			ydoc_error(y, key, "stub '%s': %s never calls it", cmd, rb->name);
		for (k = 0; k < (ydoc_is_seq(v) ? ydoc_len(v) : 1); k++) {
			yaml_node_t *a = ydoc_is_seq(v) ? ydoc_item(y, v, k) : v;
			json_t *ans;
			long code = 0;
			if (!ydoc_is_map(a)) {
				ydoc_error(y, a, "a stub's answer is a mapping: {stdout, stderr, exit}");
				continue;
			}
			check_keys(y, a, answer_keys, "a stub's answer");
			if (ydoc_get(y, a, "exit"))
				ydoc_int(y, ydoc_get(y, a, "exit"), "exit", 0, 255, &code);
			ans = json_pack("{s:s, s:s, s:i}", "stdout",
					ydoc_scalar(ydoc_get(y, a, "stdout")) ?: "", "stderr",
					ydoc_scalar(ydoc_get(y, a, "stderr")) ?: "", "exit", (int)code);
			json_array_append_new(calls, ans);
		}
		if (!json_array_size(calls))
			ydoc_error(y, v, "stub '%s' has no answers", cmd);
		json_object_set_new(out, cmd, calls);
	}
	return out;
}

static void
load_faults(struct ydoc *y, yaml_node_t *n, struct scenario *s, const struct sim_ops *sim)
{
	yaml_node_t *faults = ydoc_get(y, n, "faults"), *type = ydoc_get(y, n, "node_type");
	size_t nf = 0, i;
	char **given = faults ? ydoc_strings(y, faults, "faults", &nf) : NULL;
	struct rbx_err err;

	if (faults && !given)
		ydoc_error(y, faults, "'faults' is a list (xid=48, gpu=3)");
	s->faults = xcalloc(nf + 2, sizeof(char *));
	if (type)
		s->faults[s->nfaults++] = xasprintf("type=%s", ydoc_scalar(type) ?: "");
	for (i = 0; given && i < nf; i++)
		s->faults[s->nfaults++] = given[i];
	free(given);
	/* Each fault on its own for its position, then all together (gpu= binds to others). */
	for (i = 0; i < nf; i++)
		if (strncmp(s->faults[i + (type != NULL)], "gpu=", 4) &&
		    sim->check_faults(1, &s->faults[i + (type != NULL)], &err) < 0) {
			err.msg[strcspn(err.msg, "\n")] = 0;
			ydoc_error(y, ydoc_item(y, faults, i), "%s", err.msg);
		}
	if (type && sim->check_faults(1, s->faults, &err) < 0)
		ydoc_error(y, type, "node_type: %s", err.msg);
}

/* A confirm step of the runbook by its name, or NULL. */
static const struct step *
confirm_step(const struct runbook *rb, const char *name)
{
	size_t p, i;

	for (p = 0; p < PHASE_COUNT; p++)
		for (i = 0; i < rb->nsteps[p]; i++)
			if (rb->steps[p][i]->kind == STEP_CONFIRM && !strcmp(rb->steps[p][i]->name, name))
				return rb->steps[p][i];
	return NULL;
}

/* answers: {CONFIRM STEP: yes|no}, each step one of the runbook's confirmations. */
static void
load_answers(struct ydoc *y, yaml_node_t *n, const struct runbook *rb, struct scenario *s)
{
	size_t i;

	if (!n)
		return;
	if (!ydoc_is_map(n))
		return ydoc_error(y, n, "'answers' maps a confirm step's name to yes or no");
	s->answers = xcalloc(ydoc_len(n) + 1, sizeof(char *));
	for (i = 0; i < ydoc_len(n); i++) {
		yaml_node_t *k = ydoc_key(y, n, i), *v = ydoc_value(y, n, i);
		const char *step = ydoc_scalar(k) ?: "", *a = ydoc_scalar(v) ?: "";
		if (!confirm_step(rb, step))
			ydoc_error(y, k, "answers: '%s' is no confirm step of %s", step, rb->name);
		else if (strcmp(a, "yes") && strcmp(a, "no"))
			ydoc_error(y, v, "answers: '%s' is yes or no", a);
		else
			s->answers[s->nanswers++] = xasprintf("%s=%s", step, a);
	}
}

static void
load_params(struct ydoc *y, yaml_node_t *n, struct scenario *s)
{
	size_t i;

	if (!n)
		return;
	if (!ydoc_is_map(n))
		return ydoc_error(y, n, "'params' maps a parameter to its value");
	s->params = xcalloc(ydoc_len(n) + 1, sizeof(char *));
	for (i = 0; i < ydoc_len(n); i++)
		s->params[s->nparams++] = xasprintf("%s=%s", ydoc_scalar(ydoc_key(y, n, i)) ?: "",
						    ydoc_scalar(ydoc_value(y, n, i)) ?: "");
}

static void
load_scenario(struct ydoc *y, yaml_node_t *n, const struct runbook *rb, const struct sim_ops *sim,
	      struct scenario *s)
{
	yaml_node_t *v;

	s->pos = ydoc_pos(n);
	s->timeout_ms = 120000;
	if (!ydoc_is_map(n))
		return ydoc_error(y, n, "a scenario is a mapping (name, faults, expect, ...)");
	check_keys(y, n, scenario_keys, "a scenario");
	s->name = ydoc_get_str(y, n, "name");
	if (!s->name)
		ydoc_error(y, n, "a scenario needs a 'name'");
	s->node = ydoc_get_str(y, n, "node");
	if (!s->node)
		s->node = xstrdup("n42");
	else if (!util_valid_node_name(s->node))
		ydoc_error(y, ydoc_get(y, n, "node"), "'%s' is not a node name", s->node);
	load_faults(y, n, s, sim);
	load_params(y, ydoc_get(y, n, "params"), s);
	s->yes = ydoc_bool(y, ydoc_get(y, n, "yes"), "yes", false);
	load_answers(y, ydoc_get(y, n, "answers"), rb, s);
	if ((v = ydoc_get(y, n, "format"))) {
		const char *f = ydoc_scalar(v) ?: "";
		s->json = !strcmp(f, "json");
		if (!s->json && strcmp(f, "text"))
			ydoc_error(y, v, "'format' is text or json, not '%s'", f);
	}
	s->stubs = load_stubs(y, ydoc_get(y, n, "stubs"), rb, sim);
	if ((v = ydoc_get(y, n, "timeout")))
		s->timeout_ms = ydoc_duration(y, v, "timeout", s->timeout_ms);
	load_expect(y, ydoc_get(y, n, "expect"), rb, &s->expect);
}

static void
load_waivers(struct ydoc *y, yaml_node_t *cov, struct scenario_file *f)
{
	yaml_node_t *list = ydoc_get(y, cov, "waive");
	size_t i;

	if (!cov)
		return;
	if (!ydoc_is_map(cov) || (list && !ydoc_is_seq(list)))
		return ydoc_error(y, cov, "'coverage' holds 'waive': a list of {step, when, why}");
	check_keys(y, cov, (const char *const[]){"waive", NULL}, "coverage");
	f->waivers = xcalloc(ydoc_len(list) + 1, sizeof(*f->waivers));
	for (i = 0; i < ydoc_len(list); i++) {
		yaml_node_t *w = ydoc_item(y, list, i);
		struct scenario_waiver *wv = &f->waivers[f->nwaivers++];
		wv->pos = ydoc_pos(w);
		wv->side = -1;
		if (!ydoc_is_map(w)) {
			ydoc_error(y, w, "a waiver is a mapping: {step, when, why}");
			continue;
		}
		check_keys(y, w, waiver_keys, "a waiver");
		wv->step = ydoc_get_str(y, w, "step");
		wv->why = ydoc_get_str(y, w, "why");
		if (ydoc_get(y, w, "when"))
			wv->side = ydoc_bool(y, ydoc_get(y, w, "when"), "when", false);
		if (!wv->step || !has_step(f->rb, wv->step))
			ydoc_error(y, w, "a waiver names a step of %s ('step')", f->rb->name);
		if (!wv->why || strlen(wv->why) < 10)
			ydoc_error(y, w, "a waiver says why ('why'), in a sentence");
	}
}

char *
scenario_path_for(const char *runbook_path)
{
	const char *slash = strrchr(runbook_path, '/'), *base = slash ? slash + 1 : runbook_path;
	size_t n = strlen(base);

	if (n > 5 && !strcmp(base + n - 5, ".yaml"))
		n -= 5;
	return xasprintf("%.*stests/%.*s.yaml", (int)(base - runbook_path), runbook_path, (int)n,
			 base);
}

/* The runbook a scenario file tests: `runbook:` (beside tests/), else its own name. */
static char *
runbook_path_of(const char *path, const char *named)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/'), *out;
	const char *base = slash ? slash + 1 : path;
	size_t n = strlen(base);

	if (n > 5 && !strcmp(base + n - 5, ".yaml"))
		n -= 5;
	if (slash)
		*slash = 0;
	else
		strcpy(dir, ".");
	if (named)
		out = xasprintf("%s/../%s.yaml", dir, named);
	else
		out = xasprintf("%s/../%.*s.yaml", dir, (int)n, base);
	free(dir);
	return out;
}

struct scenario_file *
scenario_file_load(const char *path, const struct sim_ops *sim, struct diags *d)
{
	struct scenario_file *f = xcalloc(1, sizeof(*f));
	struct ydoc y = {0};
	struct rbx_err err;
	yaml_node_t *root, *list;
	char *text = NULL, *named = NULL;
	size_t len, before = d->nerrors, i;

	f->path = xstrdup(path);
	text = util_read_file(path, 1u << 20, &len, &err);
	if (!text) {
		diags_add(d, DIAG_ERROR, path, (struct srcpos){0, 0}, "%s", err.msg);
		goto out;
	}
	if (ydoc_load(&y, path, text, len, d) < 0)
		goto out;
	root = ydoc_root(&y);
	if (!ydoc_is_map(root)) {
		ydoc_error(&y, root, "a scenario file is a mapping: runbook, scenarios, coverage");
		goto out;
	}
	check_keys(&y, root, file_keys, "a scenario file");
	named = ydoc_get_str(&y, root, "runbook");
	if (named && !util_valid_slug(named)) {
		ydoc_error(&y, ydoc_get(&y, root, "runbook"), "'runbook' names a runbook beside tests/");
		goto out;
	}
	f->runbook_path = runbook_path_of(path, named);
	f->rb = runbook_load(f->runbook_path, d);
	if (!f->rb)
		goto out;
	list = ydoc_get(&y, root, "scenarios");
	if (!ydoc_is_seq(list) || !ydoc_len(list)) {
		ydoc_error(&y, list ? list : root, "'scenarios' is a list of one or more scenarios");
		goto out;
	}
	f->items = xcalloc(ydoc_len(list), sizeof(*f->items));
	for (i = 0; i < ydoc_len(list); i++)
		load_scenario(&y, ydoc_item(&y, list, i), f->rb, sim, &f->items[f->n++]);
	load_waivers(&y, ydoc_get(&y, root, "coverage"), f);
out:
	ydoc_release(&y);
	free(text);
	free(named);
	if (d->nerrors > before) {
		scenario_file_free(f);
		return NULL;
	}
	return f;
}

static void
expect_release(struct scenario_expect *e)
{
	free(e->state);
	free(e->reason);
	ydoc_strings_free(e->ran, e->nran);
	ydoc_strings_free(e->skipped, e->nskipped);
	ydoc_strings_free(e->output, e->noutput);
	ydoc_strings_free(e->state_has, e->nstate_has);
	ydoc_strings_free(e->state_lacks, e->nstate_lacks);
	ydoc_strings_free(e->files, e->nfiles);
	json_decref(e->node_state);
}

void
scenario_file_free(struct scenario_file *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++) {
		struct scenario *s = &f->items[i];
		free(s->name);
		free(s->node);
		ydoc_strings_free(s->faults, s->nfaults);
		ydoc_strings_free(s->params, s->nparams);
		ydoc_strings_free(s->answers, s->nanswers);
		json_decref(s->stubs);
		expect_release(&s->expect);
	}
	for (i = 0; i < f->nwaivers; i++) {
		free(f->waivers[i].step);
		free(f->waivers[i].why);
	}
	free(f->waivers);
	free(f->items);
	runbook_free(f->rb);
	free(f->runbook_path);
	free(f->path);
	free(f);
}
