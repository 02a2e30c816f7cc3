/* term.h - the terminal front end of a run: an app_ui over report.c and the TTY. */
#ifndef RBX_TERM_H
#define RBX_TERM_H

#include "app/ui.h"
#include "cli/report.h"

struct term {
	struct app_ui ui;
	struct report rep;
	enum report_mode mode;
};

/* Fill t for output in format ("text" or "json") and return its ui. */
const struct app_ui *term_ui(struct term *t, const char *format);

#endif
