/* serve.h - rbx serve: one small HTTP process (libmicrohttpd) over the state dir the CLI
 * uses, answering the runbook link an alert carries: the runbook, the plan for the node. */
#ifndef RBX_SERVE_H
#define RBX_SERVE_H

#include <stdbool.h>

#include <jansson.h>
#include <stddef.h>

#include "app/ui.h"
#include "base/status.h"
#include "base/util.h"
#include "core/alert.h"

struct serve_opts {
	const char *listen;	/* ADDR:PORT; loopback unless insecure_http */
	bool insecure_http;	/* plain HTTP on a non-loopback address, said out loud */
	const char *tls_cert, *tls_key; /* PEM files: serve HTTPS (libmicrohttpd's own TLS) */
	const char *token_file; /* the viewer token every request must bear (NULL: none) */
	const char *client_ca;	/* PEM CA: a client certificate it signed stands for the token */
	const char *via;	/* a simulated transport named instead of the inventory */
	const char *inventory;
	const char *run_flags;	/* what the shown rbx run line adds: " --inventory F" or so */
	const char *run_args[3]; /* the same as arguments, for the runs it starts */
	const char *receiver_token_file; /* POST /alertmanager's bearer token (NULL: no receiver) */
	const char *operator_token_file; /* POST /breaker/reset's and /runs' bearer token */
	bool allow_web_runs;		 /* POST /runs starts a run (off by default) */
	char **auto_runbooks;		 /* runbooks an incident runs at once */
	size_t nauto;
	int breaker_nodes;		 /* auto runs per pool within the window before it trips */
	int breaker_failures;		 /* failed auto runs per pool within it before it trips */
	long long breaker_window_ms;
	char *state_dir; /* set by serve_run */
	const struct app_ui *ui;
};

/* Serve until *stop; RBX_USAGE with err on a bad listen address or missing token. */
enum rbx_status serve_run(const struct serve_opts *o, rbx_flag *stop, struct rbx_err *err);

/* What a page answers: a status, a body and its type. */
struct serve_reply {
	unsigned status;
	const char *type;
	struct buf body;
};

/* The pages (serve_pages.c): path is below "/runbooks/", query values already decoded. */
void serve_page_runbook(const struct serve_opts *o, const char *name, const char *node, bool json,
			struct serve_reply *r);
/* POST /alertmanager (serve_incidents.c): each alert recorded as an incident. */
void serve_receive(const struct serve_opts *o, const char *body, size_t len, struct serve_reply *r);
/* Frees the catalogue serve_receive keeps between posts (at shutdown). */
void serve_catalogue_release(void);
/* Incidents recorded firing (serve_incidents.c). */
size_t serve_incidents_open(void);
/* GET /: the incidents, newest first. */
void serve_page_home(const struct serve_opts *o, bool json, struct serve_reply *r);
/*
 * An incident's runbook on the auto list (serve_auto.c): started as an `rbx run` of its
 * own unless the breaker holds it. Returns the incident's action ("started", "held",
 * "handled", "refused"), or NULL when it waits for an operator; why says more.
 */
const char *serve_auto_consider(const struct serve_opts *o, const struct alert_item *it,
				const char *rb, const char *node, const char *pool, char *why,
				size_t whylen);
/* POST /runs: an operator's run (--allow-web-runs), journaled with who asked. */
void serve_web_run(const struct serve_opts *o, const char *by, const char *body, size_t len,
		   struct serve_reply *r);
/* Collect the auto runs that ended; a failed one may trip the breaker at once. */
void serve_auto_reap(const struct serve_opts *o);
/* The breaker: {"tripped": bool, "reason", "since"...} (new reference). */
json_t *serve_breaker_state(void);
/* An operator's reset, recorded with who. */
void serve_breaker_reset(const char *by, struct serve_reply *r);
/* GET /runs/ID and GET /nodes/N (serve_runs.c). */
/* What a run's journal says of it: {run, runbook, node, requested_by, started, end (its
 * end state; RUNNING or UNFINISHED without one), exit (-1 without one), in_service}. */
json_t *serve_run_summary(const char *state_dir, const char *id);
/* The runs, newest first, of one node (NULL: all), at most max (new reference). */
json_t *serve_runs_list(const char *state_dir, const char *node, size_t max);
/* Answer doc (stolen) as indented JSON. */
void serve_reply_json(struct serve_reply *r, json_t *doc);
void serve_page_run(const char *id, bool json, struct serve_reply *r);
void serve_page_node(const char *node, bool json, struct serve_reply *r);
/* GET /metrics (serve_metrics.c). */
void serve_page_metrics(struct serve_reply *r);
/* Count a webhook answer by its status (one thread answers: no lock). */
void serve_count_webhook(unsigned status);
/* HTML text with <, >, &, " and ' escaped. */
void serve_html(struct buf *b, const char *s);

#endif
