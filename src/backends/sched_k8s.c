/* sched_k8s.c - the guard on Kubernetes, straight to the API server with libcurl
 * and the kubeconfig's credentials: cordon by merge patch, drain by Eviction API. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "backends/sched.h"

#define ANNOTATION "rbx.dev/run"

struct k8s {
	char *server;
	char *ca_file, *ca_data;
	char *cert_file, *cert_data;
	char *key_file, *key_data;
	char *token;
	long long poll_ms;
	rbx_flag *const *cancel; /* the owning sched's cancel flag */
};

/* libcurl's progress callback: a non-zero return aborts the transfer (Ctrl-C). */
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

/* ---- kubeconfig ------------------------------------------------------------------------ */

static yaml_node_t *
ymap(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *p;

	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		if (k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static const char *
ystr(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The entry named `name` in a list like clusters: [{name: x, cluster: {...}}]; returns its `inner`. */
static yaml_node_t *
named(yaml_document_t *d, yaml_node_t *list, const char *name, const char *inner)
{
	yaml_node_item_t *it;

	if (!list || list->type != YAML_SEQUENCE_NODE || !name)
		return NULL;
	for (it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(d, *it);
		const char *n = ystr(ymap(d, e, "name"));
		if (n && !strcmp(n, name))
			return ymap(d, e, inner);
	}
	return NULL;
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* A file named in a kubeconfig: a relative path is relative to the kubeconfig, as kubectl reads it. */
static char *
beside(const char *kubeconfig, const char *file)
{
	const char *slash;

	if (!file)
		return NULL;
	if (file[0] == '/' || !(slash = strrchr(kubeconfig, '/')))
		return xstrdup(file);
	return xasprintf("%.*s/%s", (int)(slash - kubeconfig), kubeconfig, file);
}

static int
load_kubeconfig(struct k8s *k, const char *path, struct rbx_err *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *ctx, *cluster, *user;
	size_t len;
	char *text = util_read_file(path, 1u << 20, &len, err);
	const char *cur;
	int rc = -1;

	if (!text)
		return -1;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		err_set(err, "%s: not a kubeconfig (YAML error at line %zu)", path,
			parser.problem_mark.line + 1);
		yaml_parser_delete(&parser);
		free(text);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	cur = ystr(ymap(&doc, root, "current-context"));
	ctx = named(&doc, ymap(&doc, root, "contexts"), cur, "context");
	cluster = named(&doc, ymap(&doc, root, "clusters"), ystr(ymap(&doc, ctx, "cluster")), "cluster");
	user = named(&doc, ymap(&doc, root, "users"), ystr(ymap(&doc, ctx, "user")), "user");
	if (!ctx || !cluster || !ystr(ymap(&doc, cluster, "server"))) {
		err_set(err, "%s: the current context '%s' names no cluster with a server", path,
			cur ? cur : "(none)");
		goto out;
	}
	k->server = xstrdup(ystr(ymap(&doc, cluster, "server")));
	k->ca_file = beside(path, ystr(ymap(&doc, cluster, "certificate-authority")));
	k->ca_data = dup_or_null(ystr(ymap(&doc, cluster, "certificate-authority-data")));
	k->cert_file = beside(path, ystr(ymap(&doc, user, "client-certificate")));
	k->cert_data = dup_or_null(ystr(ymap(&doc, user, "client-certificate-data")));
	k->key_file = beside(path, ystr(ymap(&doc, user, "client-key")));
	k->key_data = dup_or_null(ystr(ymap(&doc, user, "client-key-data")));
	k->token = dup_or_null(ystr(ymap(&doc, user, "token")));
	rc = 0;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(text);
	return rc;
}

/* ---- requests ----------------------------------------------------------------------------- */

static char *
b64decode(const char *in, size_t *outlen)
{
	static const char *tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), o = 0;
	char *out = xmalloc(n * 3 / 4 + 4);
	unsigned v = 0;
	int bits = 0;

	for (; *in; in++) {
		const char *p = strchr(tbl, *in);
		if (*in == '=' || !p)
			continue;
		v = (v << 6) | (unsigned)(p - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((v >> bits) & 0xff);
		}
	}
	out[o] = 0;
	*outlen = o;
	return out;
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	buf_add(arg, data, size * n);
	return size * n;
}

/* A kubeconfig *-data field (base64 PEM) handed to libcurl in memory; false if absent. */
static bool
set_blob(CURL *c, CURLoption opt, const char *b64)
{
	struct curl_blob blob;
	size_t len;
	char *pem;

	if (!b64)
		return false;
	pem = b64decode(b64, &len);
	blob = (struct curl_blob){pem, len, CURL_BLOB_COPY};
	curl_easy_setopt(c, opt, &blob);
	free(pem);
	return true;
}

/* One API call. Returns the HTTP status (>= 100), or -1 with err when no answer came. */
static long
api(struct k8s *k, const char *method, const char *path, const char *ctype, const char *body,
    json_t **resp, struct rbx_err *err)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct buf out;
	char *url = xasprintf("%s%s", k->server, path), *auth = NULL;
	long status = -1;
	CURLcode rc;

	buf_init(&out, 8u << 20);
	h = curl_slist_append(h, "Accept: application/json");
	if (ctype) {
		char *ct = xasprintf("Content-Type: %s", ctype);
		h = curl_slist_append(h, ct);
		free(ct);
	}
	if (k->token) {
		/* The token goes in a header, never in a URL, a log or the journal. */
		auth = xasprintf("Authorization: Bearer %s", k->token);
		h = curl_slist_append(h, auth);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)k->cancel);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (k->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, k->ca_file);
	set_blob(c, CURLOPT_CAINFO_BLOB, k->ca_data);
	if (k->cert_file)
		curl_easy_setopt(c, CURLOPT_SSLCERT, k->cert_file);
	if (set_blob(c, CURLOPT_SSLCERT_BLOB, k->cert_data))
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
	if (k->key_file)
		curl_easy_setopt(c, CURLOPT_SSLKEY, k->key_file);
	if (set_blob(c, CURLOPT_SSLKEY_BLOB, k->key_data))
		curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		err_set(err, "%s %s: %s", method, url, curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (resp)
		*resp = json_loads(out.data, 0, NULL);
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	buf_release(&out);
	free(url);
	free(auth);
	return status;
}

static int
api_error(long status, json_t *resp, const char *what, struct rbx_err *err)
{
	const char *msg = json_string_value(json_object_get(resp, "message"));

	return err_set(err, "%s: HTTP %ld%s%s", what, status, msg ? ": " : "", msg ? msg : "");
}

/* ---- the backend ----------------------------------------------------------------------------- */

static int
k8s_state(struct sched *s, struct sched_state *st, struct rbx_err *err)
{
	struct k8s *k = s->priv;
	char *path = xasprintf("/api/v1/nodes/%s", s->node);
	json_t *node = NULL;
	long status = api(k, "GET", path, NULL, NULL, &node, err);
	int rc = -1;
	const char *reason;

	free(path);
	if (status < 0)
		goto out;
	if (status != 200) {
		api_error(status, node, "reading the node", err);
		goto out;
	}
	memset(st, 0, sizeof(*st));
	st->cordoned = json_is_true(json_object_get(json_object_get(node, "spec"), "unschedulable"));
	reason = json_string_value(json_object_get(
		json_object_get(json_object_get(node, "metadata"), "annotations"), ANNOTATION));
	snprintf(st->reason, sizeof(st->reason), "%s",
		 reason ? reason : st->cordoned ? "cordoned (no rbx annotation)" : "");
	rc = 0;
out:
	json_decref(node);
	return rc;
}

static int
patch_node(struct sched *s, bool unschedulable, const char *reason, struct rbx_err *err)
{
	struct k8s *k = s->priv;
	char *path = xasprintf("/api/v1/nodes/%s", s->node), *body;
	json_t *patch, *resp = NULL;
	long status;
	int rc = 0;

	/* A merge patch: null removes the field and the annotation on uncordon. */
	patch = json_pack("{s:{s:o}, s:{s:{s:o}}}", "spec", "unschedulable",
			  unschedulable ? json_true() : json_null(), "metadata", "annotations", ANNOTATION,
			  reason ? json_string(reason) : json_null());
	body = json_dumps(patch, JSON_COMPACT);
	status = api(k, "PATCH", path, "application/merge-patch+json", body, &resp, err);
	if (status < 0)
		rc = -1;
	else if (status != 200)
		rc = api_error(status, resp, unschedulable ? "cordoning the node" : "uncordoning the node", err);
	json_decref(patch);
	json_decref(resp);
	free(body);
	free(path);
	return rc;
}

static int
k8s_cordon(struct sched *s, const char *reason, struct rbx_err *err)
{
	return patch_node(s, true, reason, err);
}

static int
k8s_uncordon(struct sched *s, struct rbx_err *err)
{
	return patch_node(s, false, NULL, err);
}

/* DaemonSet pods stay (they would come straight back); mirror pods belong to the kubelet. */
static bool
must_stay(json_t *pod)
{
	json_t *meta = json_object_get(pod, "metadata"), *o;
	size_t i;

	if (json_object_get(json_object_get(meta, "annotations"), "kubernetes.io/config.mirror"))
		return true;
	json_array_foreach(json_object_get(meta, "ownerReferences"), i, o)
		if (!strcmp(json_string_value(json_object_get(o, "kind")) ?: "", "DaemonSet"))
			return true;
	return false;
}

static json_t *
list_pods(struct sched *s, struct rbx_err *err)
{
	struct k8s *k = s->priv;
	char *path = xasprintf("/api/v1/pods?fieldSelector=spec.nodeName%%3D%s", s->node);
	json_t *list = NULL;
	long status = api(k, "GET", path, NULL, NULL, &list, err);

	free(path);
	if (status == 200)
		return list;
	if (status > 0)
		api_error(status, list, "listing the node's pods", err);
	json_decref(list);
	return NULL;
}

static int
evict(struct sched *s, json_t *pod, struct rbx_err *err)
{
	struct k8s *k = s->priv;
	json_t *meta = json_object_get(pod, "metadata"), *ev, *resp = NULL;
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	char *path = xasprintf("/api/v1/namespaces/%s/pods/%s/eviction", ns, name), *body;
	long status;

	ev = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "policy/v1", "kind", "Eviction",
		       "metadata", "name", name, "namespace", ns);
	body = json_dumps(ev, JSON_COMPACT);
	status = api(k, "POST", path, "application/json", body, &resp, err);
	json_decref(ev);
	free(body);
	free(path);
	json_decref(resp);
	/* 201 evicted, 404 already gone, 429 a PodDisruptionBudget says not yet. */
	if (status == 201 || status == 200 || status == 404)
		return 0;
	if (status == 429)
		return 1;
	return status < 0 ? -1 : err_set(err, "evicting %s/%s: HTTP %ld", ns, name, status);
}

static int
k8s_drain(struct sched *s, const char *reason, long long timeout_ms, struct rbx_err *err)
{
	struct k8s *k = s->priv;
	int64_t end = util_now_ms() + timeout_ms;

	(void)reason;
	for (;;) {
		json_t *list = list_pods(s, err), *pod;
		size_t i, left = 0, blocked = 0;

		if (!list)
			return -1;
		json_array_foreach(json_object_get(list, "items"), i, pod) {
			int r;
			if (must_stay(pod))
				continue;
			left++;
			r = evict(s, pod, err);
			if (r < 0) {
				json_decref(list);
				return -1;
			}
			blocked += r == 1;
		}
		json_decref(list);
		if (!left)
			return 0;
		if (util_now_ms() >= end)
			return err_set(err, "node %s: %zu pod(s) left at the drain deadline (%zu held by a "
					    "PodDisruptionBudget)", s->node, left, blocked);
		if (sched_sleep(s, k->poll_ms, err) < 0)
			return -1;
	}
}

static int
k8s_set_reason(struct sched *s, const char *reason, struct rbx_err *err)
{
	return patch_node(s, true, reason, err);
}

static void
k8s_describe(struct sched *s, const char *reason, struct buf *out)
{
	struct k8s *k = s->priv;

	buf_addf(out, "cordon: PATCH %s/api/v1/nodes/%s (merge patch: spec.unschedulable=true, "
		      "annotation %s=\"%s\")\n", k->server, s->node, ANNOTATION, reason);
	buf_addf(out, "drain: GET %s/api/v1/pods?fieldSelector=spec.nodeName=%s, then POST "
		      ".../pods/NAME/eviction for every pod but DaemonSet and mirror pods (429: retry)\n",
		 k->server, s->node);
	buf_addf(out, "restore: PATCH %s/api/v1/nodes/%s (unschedulable and the annotation removed)\n",
		 k->server, s->node);
}

static void
k8s_free(struct sched *s)
{
	struct k8s *k = s->priv;

	free(k->server);
	free(k->ca_file);
	free(k->ca_data);
	free(k->cert_file);
	free(k->cert_data);
	free(k->key_file);
	free(k->key_data);
	free(k->token);
	free(k);
}

static const struct sched_ops k8s_ops = {
	"kubernetes", k8s_state, k8s_cordon, k8s_drain, k8s_uncordon, k8s_set_reason, k8s_free,
	k8s_describe,
};

struct sched *
sched_k8s_new(const char *node, const char *kubeconfig, struct rbx_err *err)
{
	struct k8s *k = xcalloc(1, sizeof(*k));
	struct sched *s;
	const char *home = getenv("HOME"), *env = getenv("KUBECONFIG"), *p;
	char *path;

	if (kubeconfig)
		path = xstrdup(kubeconfig);
	else if (env && *env)
		path = xstrndup(env, strcspn(env, ":")); /* the first file of the list */
	else
		path = xasprintf("%s/.kube/config", home ? home : "/root");
	if (load_kubeconfig(k, path, err) < 0) {
		free(path);
		k8s_free(&(struct sched){&k8s_ops, NULL, k, NULL});
		return NULL;
	}
	free(path);
	p = getenv("RBX_K8S_POLL_MS");
	k->poll_ms = p && atoll(p) > 0 ? atoll(p) : 2000;
	s = xcalloc(1, sizeof(*s));
	s->ops = &k8s_ops;
	s->node = xstrdup(node);
	s->priv = k;
	k->cancel = &s->cancel; /* read at each transfer: the engine sets it later */
	return s;
}
