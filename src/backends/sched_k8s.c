/* sched_k8s.c - the guard on Kubernetes, straight to the API server through io/http.c
 * and the kubeconfig's credentials: cordon by merge patch, drain by Eviction API. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/sched.h"
#include "io/http.h"
#include "io/ydoc.h"

#define ANNOTATION "rbx.dev/run"

struct k8s {
	char *server;
	char *ca_file, *ca_data;
	char *cert_file, *cert_data;
	char *key_file, *key_data;
	char *token;
	long long poll_ms;
	long long timeout_ms; /* one try of one call */
	rbx_flag *const *cancel; /* the owning sched's cancel flag */
};

/* ---- kubeconfig ------------------------------------------------------------------------ */

/* The entry named `name` in a list like clusters: [{name: x, cluster: {...}}]; returns its `inner`. */
static yaml_node_t *
named(struct ydoc *y, yaml_node_t *list, const char *name, const char *inner)
{
	size_t i;

	for (i = 0; name && i < ydoc_len(list) && ydoc_is_seq(list); i++) {
		yaml_node_t *e = ydoc_item(y, list, i);
		const char *n = ydoc_scalar(ydoc_get(y, e, "name"));
		if (n && !strcmp(n, name))
			return ydoc_get(y, e, inner);
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

/* A kubeconfig *-data field holds base64 of PEM text: decoded once, here. */
static int
decode_pem(char **field, const char *what, struct rbx_err *err)
{
	char *pem;

	if (!*field)
		return 0;
	pem = util_base64_decode(*field, NULL);
	free(*field);
	*field = pem;
	return pem ? 0 : err_set(err, "the kubeconfig's %s is not base64", what);
}

static int
load_kubeconfig(struct k8s *k, const char *path, struct rbx_err *err)
{
	struct ydoc y;
	struct diags d;
	yaml_node_t *root, *ctx, *cluster, *user;
	size_t len;
	char *text = util_read_file(path, 1u << 20, &len, err);
	const char *cur;
	int rc = -1;

	if (!text)
		return -1;
	diags_init(&d);
	if (ydoc_load(&y, path, text, len, &d) < 0) {
		char *why = diags_text(&d);
		err_set(err, "not a kubeconfig: %s", why);
		free(why);
		goto out;
	}
#define Y(node, key) ydoc_scalar(ydoc_get(&y, (node), (key)))
	root = ydoc_root(&y);
	cur = Y(root, "current-context");
	ctx = named(&y, ydoc_get(&y, root, "contexts"), cur, "context");
	cluster = named(&y, ydoc_get(&y, root, "clusters"), Y(ctx, "cluster"), "cluster");
	user = named(&y, ydoc_get(&y, root, "users"), Y(ctx, "user"), "user");
	if (!ctx || !cluster || !Y(cluster, "server")) {
		err_set(err, "%s: the current context '%s' names no cluster with a server", path,
			cur ? cur : "(none)");
		goto out;
	}
	k->server = xstrdup(Y(cluster, "server"));
	k->ca_file = beside(path, Y(cluster, "certificate-authority"));
	k->ca_data = dup_or_null(Y(cluster, "certificate-authority-data"));
	k->cert_file = beside(path, Y(user, "client-certificate"));
	k->cert_data = dup_or_null(Y(user, "client-certificate-data"));
	k->key_file = beside(path, Y(user, "client-key"));
	k->key_data = dup_or_null(Y(user, "client-key-data"));
	k->token = dup_or_null(Y(user, "token"));
#undef Y
	if (decode_pem(&k->ca_data, "certificate-authority-data", err) == 0 &&
	    decode_pem(&k->cert_data, "client-certificate-data", err) == 0 &&
	    decode_pem(&k->key_data, "client-key-data", err) == 0)
		rc = 0;
out:
	ydoc_release(&y);
	diags_release(&d);
	free(text);
	return rc;
}

/* ---- requests ----------------------------------------------------------------------------- */

static long api_once(struct k8s *k, const char *method, const char *path, const char *ctype,
		     const char *body, json_t **resp, struct rbx_err *err);

#define API_TRIES 4

/*
 * One API call, tried up to API_TRIES times while no answer comes (a timeout, a reset)
 * or the server answers 5xx (its etcd away, a restart), 250 ms, 500 ms, 1 s apart. Every
 * call rbx makes is safe to repeat: reads, merge patches, evictions. Returns the HTTP
 * status, or -1 with err once the tries are spent (or the run is cancelled).
 */
static long
api(struct k8s *k, const char *method, const char *path, const char *ctype, const char *body,
    json_t **resp, struct rbx_err *err)
{
	long status = -1, wait_ms = 250;
	int try;

	for (try = 1; try <= API_TRIES; try++) {
		if (resp) {
			json_decref(*resp);
			*resp = NULL;
		}
		status = api_once(k, method, path, ctype, body, resp, err);
		if ((status >= 100 && status < 500) || try == API_TRIES)
			break;
		for (long slept = 0; slept < wait_ms; slept += 50) {
			if (k->cancel && *k->cancel && **k->cancel)
				return err_set(err, "%s %s: cancelled", method, path);
			util_sleep_ms(50);
		}
		wait_ms *= 2;
	}
	if (status < 0)
		err_prefix(err, "%s %s, %d tries: ", method, path, API_TRIES);
	return status;
}

static long
api_once(struct k8s *k, const char *method, const char *path, const char *ctype, const char *body,
	 json_t **resp, struct rbx_err *err)
{
	const char *headers[4] = {"Accept: application/json", NULL, NULL, NULL};
	char *url = xasprintf("%s%s", k->server, path), *auth = NULL, *ct = NULL;
	struct http_request rq;
	struct http_response rs;
	size_t n = 1;
	long status = -1;

	if (ctype)
		headers[n++] = ct = xasprintf("Content-Type: %s", ctype);
	/* The token goes in a header, never in a URL, a log or the journal. */
	if (k->token)
		headers[n++] = auth = xasprintf("Authorization: Bearer %s", k->token);
	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.url = url;
	rq.shown_url = url;
	rq.headers = headers;
	rq.body = body;
	rq.timeout_ms = k->timeout_ms;
	rq.ca_file = k->ca_file;
	rq.ca_pem = k->ca_data;
	rq.cert_file = k->cert_file;
	rq.cert_pem = k->cert_data;
	rq.key_file = k->key_file;
	rq.key_pem = k->key_data;
	rq.cancel = k->cancel;
	rq.max_body = 8u << 20;
	if (http_perform(&rq, &rs, err) == 0) {
		status = rs.status;
		if (resp)
			*resp = json_loads(rs.body.data, 0, NULL);
	}
	http_response_release(&rs);
	free(url);
	free(auth);
	free(ct);
	return status;
}

static int
api_error(long status, json_t *resp, const char *what, struct rbx_err *err)
{
	const char *msg = json_string_value(json_object_get(resp, "message"));

	return err_set(err, "%s: HTTP %ld%s%s", what, status, msg ? ": " : "", msg ? msg : "");
}

/* ---- the backend ----------------------------------------------------------------------------- */

void
sched_k8s_node_state(json_t *node, struct sched_state *st)
{
	const char *reason = json_string_value(json_object_get(
		json_object_get(json_object_get(node, "metadata"), "annotations"), ANNOTATION));

	memset(st, 0, sizeof(*st));
	st->cordoned = json_is_true(json_object_get(json_object_get(node, "spec"), "unschedulable"));
	snprintf(st->reason, sizeof(st->reason), "%s",
		 reason ? reason : st->cordoned ? "cordoned (no rbx annotation)" : "");
}

static int
k8s_state(struct sched *s, struct sched_state *st, struct rbx_err *err)
{
	struct k8s *k = s->priv;
	char *path = xasprintf("/api/v1/nodes/%s", s->node);
	json_t *node = NULL;
	long status = api(k, "GET", path, NULL, NULL, &node, err);
	int rc = -1;

	free(path);
	if (status < 0)
		goto out;
	if (status != 200) {
		api_error(status, node, "reading the node", err);
		goto out;
	}
	sched_k8s_node_state(node, st);
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
bool
sched_k8s_pod_stays(json_t *pod)
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
			if (sched_k8s_pod_stays(pod))
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
	p = getenv("RBX_K8S_TIMEOUT_MS");
	k->timeout_ms = p && atoll(p) > 0 ? atoll(p) : 30000;
	s = xcalloc(1, sizeof(*s));
	s->ops = &k8s_ops;
	s->node = xstrdup(node);
	s->priv = k;
	k->cancel = &s->cancel; /* read at each transfer: the engine sets it later */
	return s;
}
