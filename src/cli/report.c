/* report.c - renders run records for people (TTY or plain lines) or machines
 * (JSON lines identical to the journal). */
#define _GNU_SOURCE
#include "cli/report.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/runbook.h"

void
report_init(struct report *r, enum report_mode mode, FILE *fp, const struct runbook *rb)
{
	const char *nc = getenv("NO_COLOR");

	memset(r, 0, sizeof(*r));
	r->mode = mode;
	r->fp = fp;
	r->rb = rb;
	r->color = mode == REPORT_TTY && !(nc && *nc);
}

static const char *
js(json_t *rec, const char *k)
{
	const char *s = json_string_value(json_object_get(rec, k));
	return s ? s : "";
}

static long long
ji(json_t *rec, const char *k)
{
	return (long long)json_integer_value(json_object_get(rec, k));
}

static const char *
col(const struct report *r, const char *code)
{
	return r->color ? code : "";
}

static size_t
phase_count(const struct report *r, const char *phase)
{
	int p;

	for (p = 0; p < PHASE_COUNT; p++)
		if (!strcmp(phase_name((enum phase)p), phase))
			return r->rb ? r->rb->nsteps[p] : 0;
	return 0;
}

static void
step_label(const struct report *r, json_t *rec, char *out, size_t n)
{
	const char *phase = js(rec, "phase");

	if (!strcmp(phase, "undo"))
		snprintf(out, n, "undo  %s", js(rec, "name"));
	else
		snprintf(out, n, "%-10s %lld/%zu  %s", phase, ji(rec, "index"), phase_count(r, phase),
			 js(rec, "name"));
}

static bool
is_final(const char *state)
{
	return !strcmp(state, "SUCCEEDED") || !strcmp(state, "ABORTED") || !strcmp(state, "FAILED") ||
	       !strcmp(state, "FAILED_UNSAFE") || !strcmp(state, "INTERRUPTED");
}

static void
end_pending_line(struct report *r)
{
	if (r->mid_line) {
		fputc('\n', r->fp);
		r->mid_line = false;
	}
}

/* The last lines a failed step wrote: what an operator reads first. */
static void
print_tail(FILE *fp, const char *what, const char *text)
{
	const char *p = text + strlen(text);
	int lines = 0;

	while (p > text && (p[-1] == '\n'))
		p--;
	while (p > text && lines < 8) {
		p--;
		if (*p == '\n')
			lines++;
	}
	if (*p == '\n')
		p++;
	if (!*p)
		return;
	fprintf(fp, "     %s:\n", what);
	while (*p) {
		size_t n = strcspn(p, "\n");
		fprintf(fp, "       %.*s\n", (int)n, p);
		p += n;
		if (*p)
			p++;
	}
}

static void
print_tails(FILE *fp, json_t *rec)
{
	print_tail(fp, "stdout (tail)", js(rec, "stdout_tail"));
	print_tail(fp, "stderr (tail)", js(rec, "stderr_tail"));
}

static void
resume_line(FILE *fp, json_t *rec)
{
	json_t *d = json_object_get(rec, "in_doubt");

	fprintf(fp, "resumed in %s (attempt %lld) by %s@%s%s\n", js(rec, "state"), ji(rec, "attempt"),
		js(rec, "user"), js(rec, "host"),
		json_is_true(json_object_get(rec, "torn")) ? "; a torn last journal line was cut" : "");
	if (d)
		fprintf(fp, "  in doubt: %s/%lld \"%s\" -> %s\n", js(d, "phase"), ji(d, "index"),
			js(d, "name"), js(d, "decision"));
}

static void
tty_event(struct report *r, json_t *rec)
{
	const char *type = js(rec, "type");
	char label[512], d[32];

	if (!strcmp(type, "state")) {
		end_pending_line(r);
		if (json_object_get(rec, "to") && is_final(js(rec, "to")))
			return; /* run_end says it, with the exit code */
		fprintf(r->fp, "%s== %s%s", col(r, "\033[1m"), js(rec, "to"), col(r, "\033[0m"));
		if (!strcmp(js(rec, "to"), "PROCEDURE") && ji(rec, "attempt") > 1)
			fprintf(r->fp, " (attempt %lld)", ji(rec, "attempt"));
		fputc('\n', r->fp);
	} else if (!strcmp(type, "step_start")) {
		end_pending_line(r);
		step_label(r, rec, label, sizeof(label));
		snprintf(r->label, sizeof(r->label), "%.250s", label);
		if (ji(rec, "try") > 1)
			fprintf(r->fp, "  .. %s (try %lld)", label, ji(rec, "try"));
		else
			fprintf(r->fp, "  .. %s", label);
		r->mid_line = true;
		r->cur_len = 0;
		r->last[0] = 0;
	} else if (!strcmp(type, "step_end")) {
		bool ok = !strcmp(js(rec, "status"), "ok") ||
			  !strcmp(js(rec, "status"), "assumed_done");
		step_label(r, rec, label, sizeof(label));
		util_format_duration(ji(rec, "duration_ms"), d, sizeof(d));
		if (r->mid_line)
			fputs("\r\033[K", r->fp);
		fprintf(r->fp, "  %s%s%s %s  %s%s %s%s\n", col(r, ok ? "\033[32m" : "\033[31m"),
			ok ? "ok" : "!!", col(r, "\033[0m"), label, col(r, "\033[2m"), js(rec, "status"),
			d, col(r, "\033[0m"));
		if (!ok && *js(rec, "error"))
			fprintf(r->fp, "     %s%s%s\n", col(r, "\033[31m"), js(rec, "error"),
				col(r, "\033[0m"));
		if (!ok)
			print_tails(r->fp, rec);
		r->mid_line = false;
	} else if (!strcmp(type, "step_skip")) {
		end_pending_line(r);
		step_label(r, rec, label, sizeof(label));
		fprintf(r->fp, "  %s-- %s  skipped (when)%s\n", col(r, "\033[2m"), label,
			col(r, "\033[0m"));
	} else if (!strcmp(type, "step_refused")) {
		end_pending_line(r);
		fprintf(r->fp, "  !! %s\n", js(rec, "error"));
	} else if (!strcmp(type, "confirm")) {
		end_pending_line(r);
		fprintf(r->fp, "  ?? %s -> %s (%s)\n", js(rec, "question"), js(rec, "answer"),
			js(rec, "by"));
	} else if (!strcmp(type, "resume")) {
		end_pending_line(r);
		resume_line(r->fp, rec);
	} else if (!strcmp(type, "guard") && !strcmp(js(rec, "op"), "found")) {
		return; /* the cordon's own line says what happened */
	} else if (!strcmp(type, "guard") && strcmp(js(rec, "status"), "start")) {
		end_pending_line(r);
		if (*js(rec, "status"))
			fprintf(r->fp, "  guard: %s %s%s%s\n", js(rec, "op"), js(rec, "status"),
				*js(rec, "error") ? ": " : "", js(rec, "error"));
		else
			fprintf(r->fp, "  guard: %s (%s)\n", js(rec, "op"), js(rec, "reason"));
	} else if (!strcmp(type, "run_end")) {
		end_pending_line(r);
		util_format_duration(ji(rec, "duration_ms"), d, sizeof(d));
		fprintf(r->fp, "%s%s%s  exit %lld, %s, node %s\n",
			col(r, !strcmp(js(rec, "state"), "SUCCEEDED") ? "\033[1;32m" : "\033[1;31m"),
			js(rec, "state"), col(r, "\033[0m"), ji(rec, "exit"), d,
			json_is_true(json_object_get(rec, "node_in_service")) ? "back in service"
									     : "out of service");
		if (*js(rec, "error"))
			fprintf(r->fp, "  why: %s\n", js(rec, "error"));
	}
	fflush(r->fp);
}

/* "/3" for a numbered step, "" for an undo (it has no number of its own). */
/* The values a command's references stand for: "  [RBX_P_gpu=3]", one line. */
/* The node's alerts silenced, or seen again: what on-call is told about a run. */
static void
silence_line(FILE *fp, json_t *rec)
{
	const char *op = js(rec, "op");
	json_t *ids = json_object_get(rec, "ids"), *failed = json_object_get(rec, "failed");

	if (!strcmp(op, "create"))
		fprintf(fp, "silence the node's alerts in %s until %s\n", js(rec, "alertmanager"),
			js(rec, "until"));
	else if (!strcmp(op, "created"))
		fprintf(fp, "silence created: %zu silences\n", json_array_size(ids));
	else if (!strcmp(op, "skipped"))
		fprintf(fp, "silence skipped (optional): %s\n", js(rec, "error"));
	else if (!strcmp(op, "expire"))
		fprintf(fp, "silence expire %zu silences: the node's alerts page again\n", json_array_size(ids));
	else
		fprintf(fp, "silence expired%s\n", json_array_size(failed) ? " (some could not be: they end at their deadline)" : "");
}

static void
print_env(FILE *fp, json_t *env)
{
	const char *k;
	json_t *v;
	bool first = true;

	json_object_foreach(env, k, v) {
		const char *val = json_string_value(v) ? json_string_value(v) : "(bytes)";
		int n = (int)strcspn(val, "\n");
		fprintf(fp, "%s%s=%.*s%s", first ? "  [" : " ", k, n > 60 ? 60 : n, val,
			(val[n] || n > 60) ? "..." : "");
		first = false;
	}
	if (!first)
		fputc(']', fp);
}

static const char *
step_no(json_t *rec)
{
	static char no[32];

	if (ji(rec, "index") > 0)
		snprintf(no, sizeof(no), "/%lld", ji(rec, "index"));
	else
		no[0] = 0;
	return no;
}

void
report_record_line(FILE *fp, json_t *rec)
{
	const char *type = js(rec, "type");

	fprintf(fp, "%s ", js(rec, "ts"));
	if (!strcmp(type, "run_start")) {
		const char *via = json_string_value(json_object_get(rec, "via"));
		fprintf(fp, "run %s: %s on %s (%s, scheduler %s)%s%s%s\n", js(rec, "run"),
			js(rec, "runbook"), js(rec, "node"), js(rec, "transport"), js(rec, "scheduler"),
			via ? " [" : "", via ? via : "", via ? "]" : "");
	}
	else if (!strcmp(type, "state"))
		fprintf(fp, "state %s -> %s (attempt %lld)\n", js(rec, "from"), js(rec, "to"),
			ji(rec, "attempt"));
	else if (!strcmp(type, "step_start")) {
		const char *cmd = js(rec, "cmd");
		int n = (int)strcspn(cmd, "\n");
		fprintf(fp, "step %s%s \"%s\" start%s%.*s%s", js(rec, "phase"), step_no(rec),
			js(rec, "name"), *cmd ? ": " : "", n, cmd, cmd[n] ? " ..." : "");
		print_env(fp, json_object_get(rec, "env"));
		fputc('\n', fp);
	}
	else if (!strcmp(type, "step_end"))
		fprintf(fp, "step %s%s \"%s\" %s exit=%lld %lldms%s%s\n", js(rec, "phase"),
			step_no(rec), js(rec, "name"), js(rec, "status"), ji(rec, "exit"),
			ji(rec, "duration_ms"), *js(rec, "error") ? " error: " : "", js(rec, "error"));
	else if (!strcmp(type, "step_skip"))
		fprintf(fp, "step %s/%lld \"%s\" skipped (when)\n", js(rec, "phase"), ji(rec, "index"),
			js(rec, "name"));
	else if (!strcmp(type, "resume"))
		resume_line(fp, rec);
	else if (!strcmp(type, "transport"))
		fprintf(fp, "transport %s %s%s%s\n", js(rec, "target"), js(rec, "status"),
			*js(rec, "error") ? ": " : "", js(rec, "error"));
	else if (!strcmp(type, "fleet") && !strcmp(js(rec, "op"), "acquired"))
		fprintf(fp, "fleet slot %s held (lease %s)\n",
			json_string_value(json_object_get(json_object_get(rec, "slots"), "keys")) ?: "?",
			json_string_value(json_object_get(json_object_get(rec, "slots"), "lease")) ?: "?");
	else if (!strcmp(type, "fleet"))
		fprintf(fp, "fleet %s%s%s\n", js(rec, "op"), *js(rec, "error") ? ": " : "",
			js(rec, "error"));
	else if (!strcmp(type, "guard") && !strcmp(js(rec, "op"), "found"))
		fprintf(fp, "guard found the node %s%s%s\n",
			json_is_true(json_object_get(rec, "cordoned")) ? "cordoned" : "in service",
			*js(rec, "reason") ? ": " : "", js(rec, "reason"));
	else if (!strcmp(type, "guard"))
		fprintf(fp, "guard %s %s%s%s\n", js(rec, "op"),
			*js(rec, "status") ? js(rec, "status") : js(rec, "reason"),
			*js(rec, "error") ? ": " : "", js(rec, "error"));
	else if (!strcmp(type, "confirm"))
		fprintf(fp, "confirm \"%s\" -> %s (%s)\n", js(rec, "question"), js(rec, "answer"),
			js(rec, "by"));
	else if (!strcmp(type, "silence"))
		silence_line(fp, rec);
	else if (!strcmp(type, "gate") && !strcmp(js(rec, "op"), "wait"))
		fprintf(fp, "gate: waiting while %s fires on the node or its pool (until %s)\n",
			json_string_value(json_object_get(json_array_get(json_object_get(rec, "alerts"), 0),
							  "alertname")) ?: "?",
			js(rec, "until"));
	else if (!strcmp(type, "gate"))
		fprintf(fp, "gate %s%s%s\n", js(rec, "op"), *js(rec, "error") ? ": " : "", js(rec, "error"));
	else if (!strcmp(type, "run_end"))
		fprintf(fp, "end %s exit=%lld%s%s\n", js(rec, "state"), ji(rec, "exit"),
			*js(rec, "error") ? " why: " : "", js(rec, "error"));
	else
		fprintf(fp, "%s %s\n", type, js(rec, "error"));
}

void
report_event(void *arg, json_t *rec)
{
	struct report *r = arg;

	if (r->broken)
		return;
	if (r->mode == REPORT_JSON) {
		char *line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fprintf(r->fp, "%s\n", line);
		free(line);
		fflush(r->fp);
	} else if (r->mode == REPORT_TTY) {
		tty_event(r, rec);
	} else {
		report_record_line(r->fp, rec);
		if (!strcmp(js(rec, "type"), "step_end") && strcmp(js(rec, "status"), "ok"))
			print_tails(r->fp, rec);
		fflush(r->fp);
	}
	if (ferror(r->fp))
		r->broken = true;
}

/* The last complete (or partial) line of output, shown beside the running step. */
static void
remember_line(struct report *r, const char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (data[i] == '\n') {
			if (r->cur_len) {
				memcpy(r->last, r->cur, r->cur_len);
				r->last[r->cur_len] = 0;
			}
			r->cur_len = 0;
		} else if (r->cur_len + 1 < sizeof(r->cur) && (unsigned char)data[i] >= ' ') {
			r->cur[r->cur_len++] = data[i];
		}
	}
}

void
report_output(void *arg, const struct step *s, enum exec_stream st, const char *data, size_t len)
{
	struct report *r = arg;

	(void)s;
	(void)st;
	if (r->mode != REPORT_TTY || !r->mid_line || r->broken)
		return;
	remember_line(r, data, len);
	if (!r->last[0])
		return;
	/* A live tail: redraw the step's line with the newest output beside it. */
	fprintf(r->fp, "\r\033[K  .. %.60s %s| %.60s%s", r->label, col(r, "\033[2m"), r->last,
		col(r, "\033[0m"));
	fflush(r->fp);
}
