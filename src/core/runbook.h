/* runbook.h - the typed runbook model, loaded from YAML with source positions.
 * The loader validates against the schema table (schema.h) and reports every
 * error of a file in one pass as file:line:col: message. */
#ifndef RBX_RUNBOOK_H
#define RBX_RUNBOOK_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"

enum phase { PHASE_PRE_CHECKS, PHASE_PROCEDURE, PHASE_VERIFY, PHASE_ROLLBACK, PHASE_COUNT };

enum step_kind { STEP_SSH, STEP_RUN, STEP_HTTP, STEP_ACTION, STEP_CONFIRM };

enum step_action {
	ACTION_CORDON,
	ACTION_DRAIN,
	ACTION_UNCORDON,
	ACTION_SLEEP,
	ACTION_WAIT_SSH,
	ACTION_REBOOT,
};

enum when_kind { WHEN_TEST, WHEN_NOT, WHEN_ANY, WHEN_ALL };
enum when_op { WHEN_EQUALS, WHEN_IN, WHEN_MATCHES };

/* A declarative condition: {capture|param: X, equals|in|matches: V}, not/any/all. */
struct when {
	enum when_kind kind;
	bool is_param;
	char *name;
	enum when_op op;
	char **values;
	size_t nvalues;
	regex_t re;
	bool has_re;
	struct when **subs;
	size_t nsubs;
	struct srcpos pos;
};

struct capture {
	char *name;
	char *pattern; /* NULL: the whole trimmed stdout */
	regex_t re;
	struct srcpos pos;
};

struct expect {
	int *exits; /* default {0} */
	size_t nexits;
	char *stdout_re;
	regex_t out_re;
	char *stdout_not;
	regex_t not_re;
};

struct http_spec {
	char *method;
	char *url;
	char *body;
	char **headers; /* "Name: value" templates */
	size_t nheaders;
	int *status; /* default: any 2xx */
	size_t nstatus;
};

struct step {
	char *name;
	struct srcpos pos;
	enum phase phase;
	int index; /* 1-based within its phase; 0 for an undo step */
	int undo_of; /* an undo step: its step's index */
	enum step_kind kind;
	char *text; /* ssh/run command or confirm question (templates) */
	struct srcpos text_pos;
	enum step_action action;
	struct http_spec *http;
	long long timeout_ms;
	int retries;
	long long retry_delay_ms;
	long long duration_ms; /* for action: sleep */
	struct expect expect;
	struct capture *captures;
	size_t ncaptures;
	struct when *when;
	bool mutates;
	bool cluster; /* mutates: cluster: it changes a job, a deployment or a label, not the node */
	bool idempotent;
	bool keep_cordoned; /* on_success: keep_cordoned */
	struct step *undo;
};

struct param {
	char *name;
	char *description;
	char *def; /* NULL: required */
	char *pattern;
	regex_t re;
	bool secret;
	struct srcpos pos;
};

struct matcher {
	char **keys;
	char **values;
	size_t n;
};

/* A Prometheus alerting rule the runbook owns: `rbx rules` renders it, with its tests. */
struct alert_rule {
	char *alert, *expr, *for_, *severity, *summary, *description;
	char **firing, **healthy; /* "SERIES VALUES" lines for promtool's unit tests */
	size_t nfiring, nhealthy;
	struct matcher labels; /* the labels the expression gives the firing alert */
};

struct trigger {
	char *summary;
	struct matcher *alerts;
	size_t nalerts;
	char *node_label;
	struct alert_rule *rules;
	size_t nrules;
};

struct guard {
	char *none; /* reason, when the runbook declares guard: {none: ...} */
	bool cordon;
	bool drain;
	long long drain_timeout_ms;
	char *keep_running; /* drain: false: why running work may stay while the procedure runs */
	char **blocking_alerts; /* alert names that hold the guard back while they fire */
	size_t nblocking;
};

struct runbook {
	char *path;
	char *name;
	char *title;
	char *subsystem;
	char *summary;
	struct trigger trigger;
	struct param *params;
	size_t nparams;
	struct guard guard;
	int max_attempts;
	bool keep_cordoned; /* on_success: keep_cordoned */
	struct step **steps[PHASE_COUNT];
	size_t nsteps[PHASE_COUNT];
	char **relies_on; /* facts about the real tools, each with its source */
	size_t nrelies_on;
	char **references;
	size_t nreferences;
	char **related;
	size_t nrelated;
};

/* Default step timeouts per phase, in ms. */
extern const long long phase_default_timeout_ms[PHASE_COUNT];
const char *phase_name(enum phase p);
const char *phase_title(enum phase p);
const char *step_action_name(enum step_action a);
const char *step_kind_name(enum step_kind k);

/* Load a runbook file. Returns NULL when there is any error; every error goes to d. */
struct runbook *runbook_load(const char *path, struct diags *d);
/* Load from memory; `path` only names the source in messages. */
struct runbook *runbook_load_string(const char *path, const char *text, size_t len,
				    struct diags *d);
void runbook_free(struct runbook *rb);

/*
 * Resolve NAME to a file: a path (contains '/' or ends in .yaml) is taken as
 * is; a name is looked for as NAME.yaml along the search path: ./runbooks,
 * each dir of $RBX_RUNBOOKS, /etc/rbx/runbooks, the installed share dir.
 * Returns an allocated path or NULL with a message in err.
 */
struct rbx_err;
char *runbook_find(const char *name, struct rbx_err *err);
/* The search path as a NULL-terminated array (allocated; free with runbook_path_free). */
char **runbook_search_path(void);
void runbook_path_free(char **dirs);
/*
 * Every *.yaml of dir, loaded and sorted by name, into *out (runbooks_free them). Load
 * errors go to d; -1 with err when the directory cannot be read.
 */
int runbook_load_dir(const char *dir, struct runbook ***out, size_t *n, struct diags *d,
		     struct rbx_err *err);
void runbooks_free(struct runbook **rbs, size_t n);
/* Every runbook on the search path, the first of each name winning (as runbook_find). */
void runbook_load_catalogue(struct runbook ***out, size_t *n, struct diags *d);
/*
 * A fingerprint of the catalogue's files (search path, names, inode, size, mtime): equal
 * stamps mean a loaded catalogue is still what runbook_load_catalogue would load.
 */
unsigned long long runbook_catalogue_stamp(void);

const struct param *runbook_param(const struct runbook *rb, const char *name);
/* True when any step of the runbook (or an undo) mutates the node. */
bool runbook_mutates(const struct runbook *rb);



/* A `when` in words, for plans, docs and graphs: "capture xid in [13, 31]". */
struct buf;
void runbook_when_text(const struct when *w, struct buf *b);
/* Whether any step (or undo) says `mutates: cluster`. */
bool runbook_changes_cluster(const struct runbook *rb);
#endif
