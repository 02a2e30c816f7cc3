/* test_cover.c - what a runbook's scenarios exercised, read from their journals: each step
 * run, each `when` seen both ways, each undo run, the end states reached; gaps and waivers. */
#include "app/test_run.h"

#include <string.h>

/* Whether any journal of this file's runs has a record of type for the step. */
static bool
seen(const struct scenario_file *f, const struct test_result *r, size_t n, const char *type,
     const char *phase, int index)
{
	size_t i, k;
	json_t *rec;

	for (i = 0; i < n; i++) {
		if (r[i].file != f)
			continue;
		json_array_foreach(r[i].records, k, rec) {
			const char *t = json_string_value(json_object_get(rec, "type")) ?: "";
			const char *p = json_string_value(json_object_get(rec, "phase")) ?: "";
			int idx = (int)json_integer_value(
				json_object_get(rec, strcmp(phase, "undo") ? "index" : "of"));
			/* A confirmation is journaled as its question, not as a step_start. */
			if ((!strcmp(t, type) || (!strcmp(type, "step_start") && !strcmp(t, "confirm"))) &&
			    !strcmp(p, phase) && idx == index)
				return true;
		}
	}
	return false;
}

static const struct scenario_waiver *
waiver_for(const struct scenario_file *f, const char *step, int side)
{
	size_t i;

	for (i = 0; i < f->nwaivers; i++)
		if (!strcmp(f->waivers[i].step ?: "", step) && f->waivers[i].side == side)
			return &f->waivers[i];
	return NULL;
}

/* A gap, waived or not; returns 1 when it is not waived. */
static int
gap(json_t *gaps, const struct scenario_file *f, const char *step, const char *phase,
    const char *missing, int side)
{
	const struct scenario_waiver *w = waiver_for(f, step, side);
	json_t *g = json_pack("{s:s, s:s, s:s}", "step", step, "phase", phase, "missing", missing);

	if (w)
		json_object_set_new(g, "waived", json_string(w->why));
	json_array_append_new(gaps, g);
	return !w;
}

struct tally {
	int steps, ran, whens, both, undos, undone, rollback, rolled;
};

static int
cover_step(const struct scenario_file *f, const struct test_result *r, size_t n,
	   const struct step *s, enum phase p, struct tally *t, json_t *gaps)
{
	const char *ph = phase_name(p);
	bool ran = seen(f, r, n, "step_start", ph, s->index);
	bool skipped = s->when && seen(f, r, n, "step_skip", ph, s->index);
	int open = 0;

	t->steps++;
	t->ran += ran;
	if (p == PHASE_ROLLBACK) {
		t->rollback++;
		t->rolled += ran;
	}
	if (!ran)
		open += gap(gaps, f, s->name, ph, s->when ? "its when never held" : "never ran",
			    s->when ? 1 : -1);
	if (s->when) {
		t->whens++;
		t->both += ran && skipped;
		if (!skipped)
			open += gap(gaps, f, s->name, ph, "its when never failed", 0);
	}
	if (s->undo) {
		bool undone = seen(f, r, n, "step_start", "undo", s->index);
		t->undos++;
		t->undone += undone;
		if (!undone)
			open += gap(gaps, f, s->undo->name, ph, "its undo never ran", -1);
	}
	return open;
}

static json_t *
cover_file(const struct scenario_file *f, const struct test_result *r, size_t n, size_t *open)
{
	struct tally t = {0};
	json_t *gaps = json_array(), *ends = json_array();
	size_t p, i, unwaived = 0;

	for (p = 0; p < PHASE_COUNT; p++)
		for (i = 0; i < f->rb->nsteps[p]; i++)
			unwaived += (size_t)cover_step(f, r, n, f->rb->steps[p][i], (enum phase)p, &t, gaps);
	for (i = 0; i < n; i++) {
		size_t k;
		bool dup = false;
		if (r[i].file != f || !*r[i].end_state)
			continue;
		for (k = 0; k < json_array_size(ends); k++)
			dup |= !strcmp(json_string_value(json_array_get(ends, k)), r[i].end_state);
		if (!dup)
			json_array_append_new(ends, json_string(r[i].end_state));
	}
	*open += unwaived;
	return json_pack("{s:s, s:s, s:i, s:{s:i, s:i}, s:{s:i, s:i}, s:{s:i, s:i}, s:{s:i, s:i}, "
			 "s:o, s:o, s:i}",
			 "runbook", f->rb->name, "file", f->path, "scenarios", (int)f->n, "steps",
			 "total", t.steps, "ran", t.ran, "whens", "total", t.whens, "both", t.both,
			 "undos", "total", t.undos, "ran", t.undone, "rollback", "total", t.rollback,
			 "ran", t.rolled, "end_states", ends, "gaps", gaps, "unwaived", (int)unwaived);
}

json_t *
test_coverage(struct scenario_file **files, size_t nfiles, const struct test_result *r, size_t n)
{
	json_t *list = json_array();
	size_t i, open = 0;

	for (i = 0; i < nfiles; i++)
		json_array_append_new(list, cover_file(files[i], r, n, &open));
	return json_pack("{s:o, s:b}", "runbooks", list, "complete", open == 0);
}
