/* serve.h - rbx serve: one small HTTP process (libmicrohttpd) over the state dir the CLI
 * uses, answering the runbook link an alert carries: the runbook, the plan for the node. */
#ifndef RBX_SERVE_H
#define RBX_SERVE_H

#include <stdbool.h>

#include "app/ui.h"
#include "base/status.h"
#include "base/util.h"

struct serve_opts {
	const char *listen;	/* ADDR:PORT; loopback unless insecure_http */
	bool insecure_http;	/* plain HTTP on a non-loopback address, said out loud */
	const char *token_file; /* the viewer token every request must bear (NULL: none) */
	const char *via;	/* a simulated transport named instead of the inventory */
	const char *inventory;
	const char *run_flags;	/* what the shown rbx run line adds: " --inventory F" or so */
	const char *receiver_token_file; /* POST /alertmanager's bearer token (NULL: no receiver) */
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
/* GET /: the incidents, newest first. */
void serve_page_home(const struct serve_opts *o, bool json, struct serve_reply *r);
/* GET /metrics (serve_metrics.c). */
void serve_page_metrics(struct serve_reply *r);
/* HTML text with <, >, &, " and ' escaped. */
void serve_html(struct buf *b, const char *s);

#endif
