/* ui.h - what a run tells its user and asks of them. cli/ provides it: app/ and the
 * layers below never print, so another front end can drive the same runs. */
#ifndef RBX_UI_H
#define RBX_UI_H

#include <jansson.h>
#include <stddef.h>

#include "core/engine.h"

/* What to do with a step that started and has no end, when it is not idempotent. */
enum in_doubt_choice { IN_DOUBT_ASK, IN_DOUBT_DONE, IN_DOUBT_RERUN };

enum ui_level {
	UI_INFO,    /* a line of the run's own output (batches, tables, where to look next) */
	UI_STATUS,  /* what rbx is waiting for */
	UI_WARNING, /* something went wrong that the run survives */
	UI_ERROR,   /* something went wrong in a part of the work (a roll's node) */
	UI_DIAG,    /* file:line:col diagnostics, as they are (several lines) */
	UI_FLUSH,   /* no text: write out what is buffered (a child process is about to fork) */
};

struct app_ui {
	void *arg;
	/* A run of rb is about to start; note describes a simulated target, else NULL. */
	void (*begin)(void *arg, const struct runbook *rb, const char *note);
	/* Each journal record, as it is written. */
	void (*event)(void *arg, json_t *rec);
	/* A step's output as it comes. */
	void (*output)(void *arg, const struct step *s, enum exec_stream st, const char *data,
		       size_t len);
	/* A yes/no question: 1 yes, 0 no, -1 no answer. NULL: nobody to ask. */
	int (*confirm)(void *arg, const char *question);
	/* Did a step in doubt finish? NULL: nobody to ask. */
	enum in_doubt_choice (*in_doubt)(void *arg, const struct step *s);
	/* One line for the user; UI_INFO lines are left out of JSON output. */
	void (*notice)(void *arg, enum ui_level level, const char *text);
};

/* ui->notice with a printf format; nothing when ui or its notice is NULL. */
void ui_notice(const struct app_ui *ui, enum ui_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
