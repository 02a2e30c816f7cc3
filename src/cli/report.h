/* report.h - how a run looks to its user: TTY lines with live output, plain
 * timestamped lines, or JSON lines (the journal's records). */
#ifndef RBX_REPORT_H
#define RBX_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "core/engine.h"

enum report_mode { REPORT_TTY, REPORT_PLAIN, REPORT_JSON };

struct report {
	enum report_mode mode;
	FILE *fp;
	bool color;
	bool mid_line; /* a step's start line waits for its end */
	bool broken;   /* the reader went away (EPIPE): report no more, the journal goes on */
	char label[256];
	char cur[256]; /* the output line being written */
	size_t cur_len;
	char last[256]; /* the newest complete output line */
	const struct runbook *rb;
};

void report_init(struct report *r, enum report_mode mode, FILE *fp, const struct runbook *rb);
void report_event(void *arg, json_t *rec);
void report_output(void *arg, const struct step *s, enum exec_stream st, const char *data,
		   size_t len);
/* One record, as `rbx log` shows it. */
void report_record_line(FILE *fp, json_t *rec);

#endif
