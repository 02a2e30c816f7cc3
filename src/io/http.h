/* http.h - the http: step action over libcurl: one request, bounded body, status.
 * A request may be held to loopback addresses (a simulated target's). */
#ifndef RBX_HTTP_H
#define RBX_HTTP_H

#include <stdbool.h>

#include "base/util.h"

struct http_request {
	const char *method;
	const char *url;
	const char *const *headers; /* "Name: value", NULL-terminated */
	const char *body;	    /* NULL: none */
	long long timeout_ms;
	/* Loopback addresses only (127.0.0.0/8, ::1, localhost), never through a proxy. */
	bool loopback_only;
	const char *shown_url; /* the URL as errors may show it (secrets hidden); NULL: none */
	/* Client TLS (a kubeconfig's): files, or PEM text in memory; NULL: none. */
	const char *ca_file, *cert_file, *key_file;
	const char *ca_pem, *cert_pem, *key_pem;
	/* Once **cancel is non-zero the transfer stops (Ctrl-C); NULL: never. */
	rbx_flag *const *cancel;
	size_t max_body; /* bytes kept of the body; 0: 1 MiB */
};

struct http_response {
	long status;
	struct buf body; /* capped at 1 MiB */
};

/* 0 when a response came back (any status), -1 with err otherwise; release rs either way. */
int http_perform(const struct http_request *rq, struct http_response *rs, struct rbx_err *err);
void http_response_release(struct http_response *rs);

#endif
