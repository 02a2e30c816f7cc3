/* serve.c - the HTTP side of rbx serve: libmicrohttpd's daemon on one address, a route
 * table, the viewer token, and headers that keep a browser from running anything sent. */
#define _GNU_SOURCE
#include "app/serve.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct server {
	struct serve_opts opts; /* the caller's, with the state dir */
	const struct serve_opts *o;
	char *token;	      /* NULL: none asked */
	char *receiver_token; /* NULL: no receiver */
	char *operator_token; /* NULL: no reset over HTTP */
	bool client_ca;	      /* a client certificate it signed stands for the viewer token */
};

/* A request body being received (POST /alertmanager, /runs), capped at UPLOAD_MAX. */
struct upload {
	struct buf body;
	bool too_big;
	bool web_run; /* POST /runs, not the receiver */
};

#define UPLOAD_MAX (10u * 1024 * 1024)

/* Constant time, so a wrong token's length and prefix are not timed. */
static bool
token_ok(const char *want, const char *auth)
{
	size_t n = strlen(want), m, i;
	unsigned char diff = 0;

	if (!auth || strncmp(auth, "Bearer ", 7) != 0)
		return false;
	auth += 7;
	m = strlen(auth);
	for (i = 0; i < n; i++)
		diff |= (unsigned char)want[i] ^ (unsigned char)(i < m ? auth[i] : 0);
	return diff == 0 && n == m;
}

/*
 * The client certificate of this TLS connection, verified by GnuTLS against --client-ca
 * (signature chain, validity dates) and for client use: a server certificate the same CA
 * signed is no viewer's.
 */
static bool
client_cert_ok(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
					 (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0};
	unsigned int status = 1, n = 0;

	if (!ci || !ci->tls_session || !gnutls_certificate_get_peers(ci->tls_session, &n) || !n)
		return false;
	return gnutls_certificate_verify_peers(ci->tls_session, &purpose, 1, &status) ==
		       GNUTLS_E_SUCCESS &&
	       status == 0;
}

/* Every page but the receiver's and the operator's wants the viewer's token or cert. */
static bool
viewer_ok(const struct server *S, struct MHD_Connection *c)
{
	if (!S->token && !S->client_ca)
		return true;
	if (S->client_ca && client_cert_ok(c))
		return true;
	return S->token &&
	       token_ok(S->token, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"));
}

static enum MHD_Result
send_reply(struct MHD_Connection *c, struct serve_reply *r)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		r->body.len, r->body.data ? r->body.data : (void *)"", MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	MHD_add_response_header(resp, "Content-Type", r->type);
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; "
				"frame-ancestors 'none'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	rc = MHD_queue_response(c, r->status, resp);
	MHD_destroy_response(resp);
	buf_release(&r->body);
	return rc;
}

static void
plain(struct serve_reply *r, unsigned status, const char *text)
{
	r->status = status;
	r->type = "text/plain; charset=utf-8";
	buf_adds(&r->body, text);
	buf_adds(&r->body, "\n");
}

static bool
wants_json(struct MHD_Connection *c)
{
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
	return accept && strstr(accept, "application/json") != NULL;
}

/* POST /alertmanager: its own token (Alertmanager's http_config.authorization), the body
 * gathered up to the cap, then read as a notification. */
static enum MHD_Result
receive(struct server *S, struct MHD_Connection *c, bool web_run, const char *data, size_t *size,
	void **con_cls)
{
	struct upload *u = *con_cls;
	struct serve_reply r = {0};
	const char *cl, *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const char *by = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Rbx-Operator");
	const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");

	buf_init(&r.body, 0);
	if (!u && web_run) {
		/* Off unless asked for; a bearer token and a JSON body, which no cookie or
		 * cross-site form can supply: no CSRF. */
		if (!S->o->allow_web_runs)
			plain(&r, MHD_HTTP_FORBIDDEN, "starting runs from the web is off (--allow-web-runs)");
		else if (!S->operator_token || !token_ok(S->operator_token, auth))
			plain(&r, MHD_HTTP_UNAUTHORIZED, "the operator's token is needed");
		else if (!by || !util_valid_node_name(by))
			plain(&r, MHD_HTTP_BAD_REQUEST, "say who asks: X-Rbx-Operator: NAME");
		else if (!type || strncmp(type, "application/json", 16) != 0)
			plain(&r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "send application/json");
		if (r.status)
			return send_reply(c, &r);
	}
	if (!u) {
		if (!web_run && (!S->receiver_token || !token_ok(S->receiver_token, auth))) {
			plain(&r, MHD_HTTP_UNAUTHORIZED, "the receiver's token is needed");
			serve_count_webhook(r.status);
			return send_reply(c, &r);
		}
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > UPLOAD_MAX) {
			plain(&r, MHD_HTTP_CONTENT_TOO_LARGE, "the notification is over 10 MB");
			if (!web_run)
				serve_count_webhook(r.status);
			return send_reply(c, &r);
		}
		u = xcalloc(1, sizeof(*u));
		buf_init(&u->body, 0);
		u->web_run = web_run;
		*con_cls = u;
		buf_release(&r.body); /* no reply yet: the body comes in the next calls */
		return MHD_YES;
	}
	if (*size) {
		if (u->body.len + *size > UPLOAD_MAX)
			u->too_big = true; /* read and dropped: memory stays bounded */
		else
			buf_add(&u->body, data, *size);
		*size = 0;
		buf_release(&r.body);
		return MHD_YES;
	}
	if (u->too_big)
		plain(&r, MHD_HTTP_CONTENT_TOO_LARGE, "the body is over 10 MB");
	else if (u->web_run)
		serve_web_run(S->o, by, u->body.data ? u->body.data : "", u->body.len, &r);
	else
		serve_receive(S->o, u->body.data ? u->body.data : "", u->body.len, &r);
	if (!u->web_run)
		serve_count_webhook(r.status);
	return send_reply(c, &r);
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (u) {
		buf_release(&u->body);
		free(u);
		*con_cls = NULL;
	}
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
       const char *upload, size_t *upload_size, void **con_cls)
{
	struct server *S = cls;
	struct serve_reply r = {0};

	(void)version;
	if (!strcmp(method, "POST") && (!strcmp(url, "/alertmanager") || !strcmp(url, "/runs")))
		return receive(S, c, !strcmp(url, "/runs"), upload, upload_size, con_cls);
	buf_init(&r.body, 0);
	if (!strcmp(method, "POST") && !strcmp(url, "/breaker/reset")) {
		/* A bearer token, which no cookie carries: no cross-site request can do this. */
		const char *by = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Rbx-Operator");
		if (*upload_size) {
			*upload_size = 0;
			return MHD_YES;
		}
		if (!S->operator_token || !token_ok(S->operator_token, MHD_lookup_connection_value(
									      c, MHD_HEADER_KIND, "Authorization")))
			plain(&r, MHD_HTTP_UNAUTHORIZED, "the operator's token is needed");
		else if (!by || !util_valid_node_name(by))
			plain(&r, MHD_HTTP_BAD_REQUEST, "say who resets it: X-Rbx-Operator: NAME");
		else
			serve_breaker_reset(by, &r);
		return send_reply(c, &r);
	}
	if (*upload_size) { /* no other page takes a body */
		*upload_size = 0;
		return MHD_YES;
	}
	if (!viewer_ok(S, c)) {
		plain(&r, MHD_HTTP_UNAUTHORIZED, S->client_ca ? "a viewer token (Authorization: Bearer ...) "
								"or client certificate is needed"
							      : "a viewer token is needed (Authorization: Bearer ...)");
		return send_reply(c, &r);
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		plain(&r, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET here");
		return send_reply(c, &r);
	}
	if (!strcmp(url, "/favicon.ico")) { /* browsers ask; an empty answer keeps consoles clean */
		r.status = MHD_HTTP_NO_CONTENT;
		r.type = "image/x-icon";
	} else if (!strcmp(url, "/")) {
		serve_page_home(S->o, wants_json(c), &r);
	} else if (!strcmp(url, "/healthz")) {
		plain(&r, MHD_HTTP_OK, "ok");
	} else if (!strncmp(url, "/runs/", 6)) {
		serve_page_run(url + 6, wants_json(c), &r);
	} else if (!strncmp(url, "/nodes/", 7)) {
		serve_page_node(url + 7, wants_json(c), &r);
	} else if (!strcmp(url, "/metrics")) {
		serve_page_metrics(&r);
	} else if (!strncmp(url, "/runbooks/", 10)) {
		serve_page_runbook(S->o, url + 10,
				   MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "node"),
				   wants_json(c), &r);
	} else {
		plain(&r, MHD_HTTP_NOT_FOUND, "no such page");
	}
	return send_reply(c, &r);
}

static bool
loopback(const struct sockaddr_in *sa)
{
	return (ntohl(sa->sin_addr.s_addr) >> 24) == 127;
}

static int
parse_listen(const char *s, struct sockaddr_in *sa, struct rbx_err *err)
{
	const char *colon = strrchr(s, ':');
	char host[64];
	long port;
	char *end;

	memset(sa, 0, sizeof(*sa));
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return err_set(err, "--listen '%s': give ADDR:PORT (127.0.0.1:9095)", s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return err_set(err, "--listen '%s': give an IPv4 ADDR:PORT (127.0.0.1:9095)", s);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

static int
read_token(const char *path, char **out, struct rbx_err *err)
{
	size_t len;
	char *t = util_read_file(path, 4096, &len, err);

	if (!t)
		return -1;
	t[strcspn(t, "\r\n")] = 0;
	if (strlen(t) < 16) {
		free(t);
		return err_set(err, "%s: a token of 16 characters or more", path);
	}
	*out = t;
	return 0;
}

enum rbx_status
serve_run(const struct serve_opts *o, rbx_flag *stop, struct rbx_err *err)
{
	struct sockaddr_in sa;
	struct server S = {*o, NULL, NULL, NULL, NULL, o->client_ca != NULL};
	struct MHD_Daemon *d;
	char *cert = NULL, *key = NULL, *ca = NULL;
	enum rbx_status rc = RBX_USAGE;
	size_t n;

	S.opts.state_dir = NULL; /* serve_run's own, freed at out */
	if (parse_listen(o->listen, &sa, err) < 0)
		return RBX_USAGE;
	if (!o->tls_cert != !o->tls_key)
		return err_set(err, "TLS needs both --tls-cert and --tls-key"), RBX_USAGE;
	if (o->client_ca && !o->tls_cert)
		return err_set(err, "--client-ca needs TLS (--tls-cert, --tls-key)"), RBX_USAGE;
	if (!loopback(&sa) && !o->insecure_http && !o->tls_cert)
		return err_set(err, "%s is not a loopback address: rbx serve answers other hosts only "
				    "over TLS (--tls-cert, --tls-key) or with --insecure-http, and with a "
				    "--token-file or --client-ca (journals hold step output)",
			       o->listen),
		       RBX_USAGE;
	if (!loopback(&sa) && !o->token_file && !o->client_ca)
		return err_set(err, "off loopback every request must bear a viewer token or client "
				    "certificate: give --token-file FILE or --client-ca FILE"),
		       RBX_USAGE;
	/* One cleanup: every token, path and PEM below is freed at out, set or not. */
	if ((o->token_file && read_token(o->token_file, &S.token, err) < 0) ||
	    (o->receiver_token_file && read_token(o->receiver_token_file, &S.receiver_token, err) < 0) ||
	    (o->operator_token_file && read_token(o->operator_token_file, &S.operator_token, err) < 0))
		goto out;
	S.opts.state_dir = util_state_dir();
	S.o = &S.opts;
	rc = RBX_FAILED;
	if (util_state_dir_ready(S.opts.state_dir, err) < 0)
		goto out;
	rc = RBX_USAGE;
	if (o->tls_cert && (!(cert = util_read_file(o->tls_cert, 1u << 20, &n, err)) ||
			    !(key = util_read_file(o->tls_key, 1u << 20, &n, err))))
		goto out;
	if (o->client_ca && !(ca = util_read_file(o->client_ca, 1u << 20, &n, err)))
		goto out;
	{
		/* TLS options only when TLS is asked for: MHD refuses a trust store without it. */
		struct MHD_OptionItem tls[] = {
			{cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert},
			{MHD_OPTION_HTTPS_MEM_KEY, 0, key},
			{ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, ca},
			{MHD_OPTION_END, 0, NULL},
		};
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | (cert ? MHD_USE_TLS : 0), 0, NULL,
				     NULL, handle, &S, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
				     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_ARRAY, tls,
				     MHD_OPTION_END);
	}
	if (!d) {
		err_set(err, "cannot listen on %s (in use?)", o->listen);
		rc = RBX_FAILED;
		goto out;
	}
	{
		/* Port 0 asks the kernel for a free one: say which, so a script can find it. */
		const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		char host[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &sa.sin_addr, host, sizeof(host));
		ui_notice(o->ui, UI_INFO, "rbx serve: %s://%s:%u/ (Ctrl-C stops it)",
			  cert ? "https" : "http", host, di ? (unsigned)di->port : ntohs(sa.sin_port));
	}
	while (!*stop) {
		util_sleep_ms(100);
		serve_auto_reap(S.o);
	}
	MHD_stop_daemon(d);
	serve_catalogue_release();
	rc = RBX_OK;
out:
	free(cert);
	free(key);
	free(ca);
	free(S.token);
	free(S.receiver_token);
	free(S.operator_token);
	free(S.opts.state_dir);
	return rc;
}
