/* lint.c - the catalogue's safety rules, checked on the loaded model so each
 * finding names file:line:col: guard before mutation, undo or rollback, read-only checks. */
#define _GNU_SOURCE
#include "core/lint.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "core/runbook.h"

/* Subcommands that change cluster state; every other one (show, get, status) reads. */
static const struct {
	const char *tool;
	const char *const *verbs; /* NULL: every use of the tool changes the cluster */
} cluster_tools[] = {
	{"scontrol", (const char *const[]){"update", "requeue", "requeuehold", "hold", "uhold",
					    "release", "suspend", "resume", "reboot", "create",
					    "delete", "top", NULL}},
	{"sbatch", NULL},
	{"scancel", NULL},
	{"kubectl", (const char *const[]){"rollout", "scale", "patch", "label", "annotate",
					   "delete", "apply", "create", "replace", "set", "taint",
					   "cordon", "uncordon", "drain", "edit", NULL}},
	{"helm", (const char *const[]){"install", "upgrade", "rollback", "uninstall", NULL}},
};

/* kubectl/helm options whose value is the next word: "-n ns", "--context c". */
static bool
takes_value(const char *opt)
{
	static const char *const opts[] = {"-n", "--namespace", "--context", "--kubeconfig",
					   "--cluster", "--user", "-s", "--server", NULL};
	size_t i;

	for (i = 0; opts[i]; i++)
		if (!strcmp(opt, opts[i]))
			return true;
	return false;
}

/* `kubectl rollout status` reads; `kubectl rollout undo` changes. */
static bool
rollout_reads(const char *verb, const char *next)
{
	return !strcmp(verb, "rollout") && next &&
	       (!strcmp(next, "status") || !strcmp(next, "history"));
}

/* The first cluster-changing command in a shell text ("scontrol requeue"), into out. */
static bool
cluster_command(const char *text, char *out, size_t n)
{
	char *copy = xstrdup(text ? text : ""), *save = NULL, *w[64];
	size_t nw = 0, i, k, t;
	bool hit = false;

	for (char *tok = strtok_r(copy, " \t\n;|&()`'\"", &save); tok && nw < 64;
	     tok = strtok_r(NULL, " \t\n;|&()`'\"", &save))
		w[nw++] = tok;
	for (i = 0; i < nw && !hit; i++)
		for (t = 0; t < sizeof(cluster_tools) / sizeof(cluster_tools[0]) && !hit; t++) {
			const char *base = strrchr(w[i], '/') ? strrchr(w[i], '/') + 1 : w[i];
			if (strcmp(base, cluster_tools[t].tool) != 0)
				continue;
			if (!cluster_tools[t].verbs) {
				snprintf(out, n, "%s", base);
				hit = true;
				break;
			}
			for (k = i + 1; k < nw && w[k][0] == '-'; k++)
				if (takes_value(w[k]))
					k++;
			for (size_t v = 0; k < nw && cluster_tools[t].verbs[v] && !hit; v++)
				if (!strcmp(w[k], cluster_tools[t].verbs[v]) &&
				    !rollout_reads(w[k], k + 1 < nw ? w[k + 1] : NULL)) {
					snprintf(out, n, "%s %s", base, w[k]);
					hit = true;
				}
		}
	free(copy);
	return hit;
}

static void
lint_cluster_change(const struct runbook *rb, const struct step *s, struct diags *d)
{
	char what[64];

	if ((s->kind != STEP_SSH && s->kind != STEP_RUN) || !cluster_command(s->text, what, sizeof(what)))
		return;
	if (!s->mutates)
		diags_add(d, DIAG_ERROR, rb->path, s->pos,
			  "step '%s' runs '%s', which changes the cluster, but says 'mutates: false': "
			  "say 'mutates: cluster', so a resume never repeats it without asking",
			  s->name, what);
	else if (!s->cluster && rb->guard.none)
		diags_add(d, DIAG_ERROR, rb->path, s->pos,
			  "step '%s' runs '%s', which changes the cluster, not the node: say "
			  "'mutates: cluster'",
			  s->name, what);
}

/*
 * `... | awk '{exit !($1 < 1)}'`: an awk that decides in its main rule never runs it
 * on empty input, and exits 0. A check fed nothing (a metric nobody exports, a tool
 * that printed nothing) then passes. Deciding in END, with a flag for "seen", cannot.
 */
static bool
awk_passes_on_nothing(const char *text)
{
	const char *p = text;

	while (text && (p = strstr(p, "awk ")) != NULL) {
		const char *q = p + 4, *end;

		p += 4;
		/* Past blanks and "-v NAME=VALUE" assignments, to the program. */
		for (;;) {
			q += strspn(q, " \t");
			if (q[0] != '-' || q[1] != 'v')
				break;
			q += 2;
			q += strspn(q, " \t");
			q += strcspn(q, " \t");
		}
		if (*q != '\'')
			continue;
		end = strchr(q + 1, '\'');
		if (!end)
			return false;
		q++;
		while (*q == ' ')
			q++;
		/* A main rule with no pattern that exits, and no END block to decide instead. */
		if (*q == '{' && memmem(q, (size_t)(end - q), "exit", 4) &&
		    !memmem(q, (size_t)(end - q), "END", 3))
			return true;
	}
	return false;
}

static void
lint_step(const struct runbook *rb, const struct step *s, struct diags *d)
{
	const char *file = rb->path;

	if ((s->kind == STEP_SSH || s->kind == STEP_RUN) && awk_passes_on_nothing(s->text))
		diags_add(d, DIAG_WARNING, file, s->pos,
			  "step '%s' decides in awk's main rule ('{exit ...}'), which never runs on "
			  "empty input: awk exits 0 and the step passes on nothing; decide in END "
			  "(NR == 1 {v = $1; seen = 1} END {exit !(seen && ...)})",
			  s->name);

	lint_cluster_change(rb, s, d);
	if (s->undo)
		lint_cluster_change(rb, s->undo, d);
	if (s->mutates && !s->cluster && rb->guard.none)
		diags_add(d, DIAG_ERROR, file, s->pos,
			  "step '%s' mutates the node, but the runbook declares 'guard: {none}' "
			  "(a runbook without a guard may only read)",
			  s->name);
	if (s->phase == PHASE_PRE_CHECKS && s->mutates)
		diags_add(d, DIAG_ERROR, file, s->pos,
			  "pre-check '%s' is marked mutating; pre-checks run before the guard and "
			  "must only read",
			  s->name);
	if (s->phase == PHASE_PRE_CHECKS && s->kind == STEP_CONFIRM)
		diags_add(d, DIAG_ERROR, file, s->pos,
			  "pre-check '%s' asks for confirmation; ask in the procedure", s->name);
	if (s->phase == PHASE_VERIFY && s->mutates)
		diags_add(d, DIAG_WARNING, file, s->pos,
			  "verify step '%s' is marked mutating; a proof should only observe", s->name);
	if (s->phase == PHASE_PROCEDURE && s->mutates && !s->cluster && !s->undo &&
	    rb->nsteps[PHASE_ROLLBACK] == 0)
		diags_add(d, DIAG_ERROR, file, s->pos,
			  "mutating step '%s' has no 'undo', and the runbook has no 'rollback'", s->name);
	if (s->kind == STEP_ACTION && !rb->guard.none &&
	    (s->action == ACTION_CORDON || s->action == ACTION_UNCORDON) &&
	    s->phase == PHASE_PROCEDURE)
		diags_add(d, DIAG_WARNING, file, s->pos,
			  "step '%s' uses 'action: %s'; the engine's guard already cordons and "
			  "restores the node",
			  s->name, step_action_name(s->action));
	if (s->keep_cordoned && rb->guard.none)
		diags_add(d, DIAG_ERROR, file, s->pos,
			  "step '%s' keeps the node cordoned, but the runbook has no guard", s->name);
}

/* A command that only prints, or does nothing: not an action and not a proof. */
static bool
is_placeholder(const char *cmd)
{
	static const char *const words[] = {"echo", "printf", "true", ":", NULL};
	size_t i, n;

	while (isspace((unsigned char)*cmd))
		cmd++;
	if (strpbrk(cmd, "|;&$`<>\n"))
		return false; /* a pipeline or a script: it does something */
	for (i = 0; words[i]; i++) {
		n = strlen(words[i]);
		if (!strncmp(cmd, words[i], n) && (!cmd[n] || isspace((unsigned char)cmd[n])))
			return true;
	}
	return false;
}

static bool
mentions_todo(const char *s)
{
	return s && (strstr(s, "TODO") || strstr(s, "FIXME") || strstr(s, "XXX") ||
		     strcasestr(s, "placeholder"));
}

/* "RMA" as a word, not inside "PERFORMANCE". */
static bool
has_word(const char *s, const char *w)
{
	size_t n = strlen(w);
	const char *p;

	for (p = s; s && (p = strstr(p, w)) != NULL; p++)
		if ((p == s || !isalnum((unsigned char)p[-1])) && !isalnum((unsigned char)p[n]))
			return true;
	return false;
}

static bool
is_rma_step(const struct step *s)
{
	return has_word(s->name, "RMA") || has_word(s->text, "RMA");
}

/* Whether a step before `until` (in phase order) captures a name starting with "xid". */
static bool
xid_classified_before(const struct runbook *rb, const struct step *until)
{
	size_t i, k;
	int p;

	for (p = 0; p < PHASE_COUNT; p++)
		for (i = 0; i < rb->nsteps[p]; i++) {
			const struct step *s = rb->steps[p][i];
			if (s == until)
				return false;
			for (k = 0; k < s->ncaptures; k++)
				if (!strncmp(s->captures[k].name, "xid", 3))
					return true;
		}
	return false;
}

static void
lint_catalogue_rules(const struct runbook *rb, const struct step *s, struct diags *d)
{
	const char *file = rb->path;

	/*
	 * Content rules: warnings, so a test runbook may still run, while the shipped
	 * catalogue is held to `rbx lint --strict` (t0010). Safety rules are errors,
	 * and what lint calls an error never runs.
	 */
	if ((s->kind == STEP_SSH || s->kind == STEP_RUN) && is_placeholder(s->text) &&
	    s->phase != PHASE_PRE_CHECKS)
		diags_add(d, DIAG_WARNING, file, s->text_pos,
			  "step '%s' only prints or does nothing: give it a real action%s", s->name,
			  s->phase == PHASE_VERIFY ? " (a verify step needs a real proof)" : "");
	if (s->phase == PHASE_VERIFY && s->text && !strncmp(s->text, "ping ", 5))
		diags_add(d, DIAG_WARNING, file, s->text_pos,
			  "verify step '%s' only pings the node; \"it answers\" proves nothing about the "
			  "repair", s->name);
	if (mentions_todo(s->text) || mentions_todo(s->name))
		diags_add(d, DIAG_WARNING, file, s->pos, "step '%s' holds a TODO or a placeholder",
			  s->name);
	if (is_rma_step(s) && !xid_classified_before(rb, s))
		diags_add(d, DIAG_ERROR, file, s->pos,
			  "RMA step '%s' comes before any step classifies the XID (capture xid...)", s->name);
}

void
lint_runbook(const struct runbook *rb, struct diags *d)
{
	struct srcpos top = {1, 1};
	size_t i;
	int p;

	for (p = 0; p < PHASE_COUNT; p++)
		for (i = 0; i < rb->nsteps[p]; i++) {
			lint_step(rb, rb->steps[p][i], d);
			lint_catalogue_rules(rb, rb->steps[p][i], d);
		}
	if (rb->guard.none && rb->keep_cordoned)
		diags_add(d, DIAG_ERROR, rb->path, top,
			  "'on_success: keep_cordoned' needs a guard that cordons");
	if (rb->nreferences == 0)
		diags_add(d, DIAG_WARNING, rb->path, top,
			  "no 'references': say which public docs the commands rest on");
}

struct runbook *
lint_load_runbook(const char *name, struct diags *d, struct rbx_err *err)
{
	struct runbook *rb;
	char *path = runbook_find(name, err);

	if (!path)
		return NULL;
	rb = runbook_load(path, d);
	/* What lint refuses never runs (nor is planned): the same rules, as errors. */
	if (rb)
		lint_runbook(rb, d);
	if (!rb || d->nerrors) {
		err_set(err, "runbook '%s' is invalid (%zu error%s); 'rbx lint %s' shows them", name,
			d->nerrors, d->nerrors == 1 ? "" : "s", path);
		runbook_free(rb);
		rb = NULL;
	}
	free(path);
	return rb;
}
