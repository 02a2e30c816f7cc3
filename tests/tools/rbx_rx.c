/* rbx_rx.c - a test tool: reads a command's stdout the way the engine reads a step's
 * (core/reading.c), so the conformance test judges real and lab output with rbx's own regexes.
 * Usage: rbx-rx RUNBOOK PHASE INDEX [undo] STATUS < stdout   -> one JSON line */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/util.h"
#include "core/lint.h"
#include "core/reading.h"
#include "core/runbook.h"

static const struct step *
find(const struct runbook *rb, const char *phase, int index, int undo)
{
	int p;

	for (p = 0; p < PHASE_COUNT; p++)
		if (!strcmp(phase_name((enum phase)p), phase) && index >= 1 &&
		    (size_t)index <= rb->nsteps[p])
			return undo ? rb->steps[p][index - 1]->undo : rb->steps[p][index - 1];
	return NULL;
}

int
main(int argc, char **argv)
{
	struct diags d;
	struct rbx_err err;
	struct runbook *rb;
	const struct step *s;
	struct buf in;
	char why[512] = "", chunk[4096];
	size_t n, i;
	json_t *o, *caps;
	int undo = argc == 6 && !strcmp(argv[4], "undo");

	if (argc != 5 && !undo) {
		fprintf(stderr, "usage: rbx-rx RUNBOOK PHASE INDEX [undo] STATUS < stdout\n");
		return 2;
	}
	diags_init(&d);
	rb = lint_load_runbook(argv[1], &d, &err);
	if (!rb) {
		fprintf(stderr, "rbx-rx: %s\n", err.msg);
		return 2;
	}
	s = find(rb, argv[2], atoi(argv[3]), undo);
	if (!s) {
		fprintf(stderr, "rbx-rx: %s has no step %s/%s\n", argv[1], argv[2], argv[3]);
		return 2;
	}
	buf_init(&in, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		buf_add(&in, chunk, n);
	caps = json_object();
	for (i = 0; i < s->ncaptures; i++) {
		char *v = reading_capture(&s->captures[i], in.data);
		json_object_set_new(caps, s->captures[i].name, json_string(v));
		free(v);
	}
	o = json_pack("{s:b, s:s, s:o}", "ok",
		      reading_output_ok(s, atoi(argv[argc - 1]), in.data, why, sizeof(why)), "why",
		      why, "captures", caps);
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
	buf_release(&in);
	runbook_free(rb);
	diags_release(&d);
	return 0;
}
