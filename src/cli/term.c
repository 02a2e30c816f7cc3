/* term.c - the terminal's side of a run: the app_ui that cli/ gives run, resume and
 * roll, printing through report.c and asking at the TTY when there is one. */
#include "cli/term.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool
have_tty(void)
{
	return isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
}

static void
term_begin(void *arg, const struct runbook *rb, const char *note)
{
	struct term *t = arg;

	report_init(&t->rep, t->mode, stdout, rb);
	if (note && t->mode != REPORT_JSON)
		printf("LAB  %s\n", note);
}

static void
term_event(void *arg, json_t *rec)
{
	struct term *t = arg;

	report_event(&t->rep, rec);
}

static void
term_output(void *arg, const struct step *s, enum exec_stream st, const char *data, size_t len)
{
	struct term *t = arg;

	report_output(&t->rep, s, st, data, len);
}

static int
term_confirm(void *arg, const char *question)
{
	char line[64];

	(void)arg;
	fprintf(stderr, "\n  ?? %s [y/N] ", question);
	fflush(stderr);
	/* End of input or Ctrl-C is no answer, not the operator's "no". */
	if (!fgets(line, sizeof(line), stdin))
		return -1;
	return line[0] == 'y' || line[0] == 'Y';
}

static enum in_doubt_choice
term_in_doubt(void *arg, const struct step *s)
{
	char line[64];

	(void)arg;
	fprintf(stderr,
		"\n  ?? step '%s' started before the run stopped, and the journal has no end for "
		"it.\n     Did it finish? [d]one (do not run it again) / [r]erun / [q]uit: ",
		s->name);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return IN_DOUBT_ASK;
	return line[0] == 'd' ? IN_DOUBT_DONE : line[0] == 'r' ? IN_DOUBT_RERUN : IN_DOUBT_ASK;
}

static void
term_notice(void *arg, enum ui_level level, const char *text)
{
	struct term *t = arg;

	switch (level) {
	case UI_INFO:
		if (t->mode != REPORT_JSON) {
			printf("%s\n", text);
			fflush(stdout); /* a line at a time into a pipe or the journal, as it happens */
		}
		break;
	case UI_STATUS:
		fprintf(stderr, "rbx: %s\n", text);
		break;
	case UI_WARNING:
		fprintf(stderr, "rbx: warning: %s\n", text);
		break;
	case UI_ERROR:
		fprintf(stderr, "rbx: error: %s\n", text);
		break;
	case UI_DIAG:
		fputs(text, stderr);
		break;
	case UI_FLUSH:
		fflush(stdout);
		fflush(stderr);
		break;
	}
}

const struct app_ui *
term_ui(struct term *t, const char *format)
{
	memset(t, 0, sizeof(*t));
	t->mode = format && !strcmp(format, "json") ? REPORT_JSON
		  : isatty(STDOUT_FILENO)	    ? REPORT_TTY
						    : REPORT_PLAIN;
	t->ui.arg = t;
	t->ui.begin = term_begin;
	t->ui.event = term_event;
	t->ui.output = term_output;
	t->ui.confirm = have_tty() ? term_confirm : NULL;
	t->ui.in_doubt = have_tty() ? term_in_doubt : NULL;
	t->ui.notice = term_notice;
	return &t->ui;
}
