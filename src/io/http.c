/* http.c - one HTTP request with libcurl for http: steps, with a deadline, a
 * capped body and, for a simulated target, a refusal of anything but loopback. */
#include "io/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/*
 * libcurl is set up on the first request, not at every start: `rbx version`,
 * `lint` and `plan` never make one and should not pay for it (TLS set-up reads
 * OpenSSL's configuration). Once, even from rbx serve's threads.
 */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void
global_cleanup(void)
{
	curl_global_cleanup();
}

static void
global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
		atexit(global_cleanup);
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	buf_add(arg, data, size * n);
	return size * n;
}

/*
 * A literal loopback address, or "localhost" (which libcurl resolves to loopback
 * itself): "127.0.0.1.nip.io" is a name, and names go to a resolver.
 */
static bool
is_loopback_url(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	unsigned char a[16];
	bool ok = false;

	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		size_t n = strlen(host);
		if (!strcmp(host, "localhost"))
			ok = true;
		else if (inet_pton(AF_INET, host, a) == 1)
			ok = a[0] == 127;
		else if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
			host[n - 1] = 0;
			ok = inet_pton(AF_INET6, host + 1, a) == 1 && !memcmp(a, &in6addr_loopback, 16);
		}
	}
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/* Stop the transfer once the caller's cancel flag is set (Ctrl-C during a drain). */
static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	rbx_flag *const *cancel = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return cancel && *cancel && **cancel;
}

/* PEM text handed to libcurl in memory: no key or certificate touches the disk. */
static void
set_pem(CURL *c, CURLoption opt, const char *pem)
{
	struct curl_blob blob;

	blob = (struct curl_blob){(void *)pem, strlen(pem), CURL_BLOB_COPY};
	curl_easy_setopt(c, opt, &blob);
}

static void
set_tls(CURL *c, const struct http_request *rq)
{
	if (rq->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, rq->ca_file);
	if (rq->ca_pem)
		set_pem(c, CURLOPT_CAINFO_BLOB, rq->ca_pem);
	if (rq->cert_file)
		curl_easy_setopt(c, CURLOPT_SSLCERT, rq->cert_file);
	if (rq->cert_pem) {
		set_pem(c, CURLOPT_SSLCERT_BLOB, rq->cert_pem);
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (rq->key_file)
		curl_easy_setopt(c, CURLOPT_SSLKEY, rq->key_file);
	if (rq->key_pem) {
		set_pem(c, CURLOPT_SSLKEY_BLOB, rq->key_pem);
		curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	}
}

int
http_perform(const struct http_request *rq, struct http_response *rs, struct rbx_err *err)
{
	struct curl_slist *hdrs = NULL;
	CURL *c = NULL;
	CURLcode rc;
	size_t i;
	int r = -1;

	pthread_once(&global_once, global_init);
	buf_init(&rs->body, rq->max_body ? rq->max_body : 1u << 20);
	rs->status = 0;
	if (rq->loopback_only && !is_loopback_url(rq->url))
		return err_set(err, "a simulated target reaches only loopback addresses, not '%s'",
			       rq->shown_url ? rq->shown_url : "the URL");
	c = curl_easy_init();
	if (!c)
		return err_set(err, "cannot start libcurl");
	for (i = 0; rq->headers && rq->headers[i]; i++)
		hdrs = curl_slist_append(hdrs, rq->headers[i]);
	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)rq->timeout_ms);
	if (rq->loopback_only) {
		/* No proxy variable may carry a loopback-only request off this machine. */
		curl_easy_setopt(c, CURLOPT_PROXY, "");
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &rs->body);
	if (!strcmp(rq->method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (rq->body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
	if (rq->cancel) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)rq->cancel);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	set_tls(c, rq);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		/* The URL may hold a secret: only the caller's shown form goes in a message. */
		err_set(err, "%s %s: %s", rq->method, rq->shown_url ? rq->shown_url : "(url)",
			curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
	r = 0;
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return r;
}

void
http_response_release(struct http_response *rs)
{
	buf_release(&rs->body);
}
