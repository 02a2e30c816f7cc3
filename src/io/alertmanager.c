/* alertmanager.c - creates and expires silences with POST /api/v2/silences and DELETE
 * /api/v2/silence/ID (Alertmanager 0.25), through the one HTTP client, bodies by jansson. */
#include "io/alertmanager.h"

#include <stdlib.h>
#include <string.h>

#include "io/http.h"

#define AM_TIMEOUT_MS 10000

void
am_conf_release(struct am_conf *c)
{
	size_t i;

	if (!c)
		return;
	free(c->url);
	for (i = 0; i < c->nlabels; i++)
		free(c->node_labels[i]);
	free(c->node_labels);
	for (i = 0; i < c->nblocking; i++)
		free(c->blocking[i]);
	free(c->blocking);
	free(c->pool);
	memset(c, 0, sizeof(*c));
}

void
am_conf_copy(struct am_conf *dst, const struct am_conf *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	if (!src->url)
		return;
	dst->url = xstrdup(src->url);
	dst->optional = src->optional;
	dst->node_labels = xcalloc(src->nlabels + 1, sizeof(char *));
	for (i = 0; i < src->nlabels; i++)
		dst->node_labels[i] = xstrdup(src->node_labels[i]);
	dst->nlabels = src->nlabels;
	dst->blocking = xcalloc(src->nblocking + 1, sizeof(char *));
	for (i = 0; i < src->nblocking; i++)
		dst->blocking[i] = xstrdup(src->blocking[i]);
	dst->nblocking = src->nblocking;
	dst->gate_timeout_ms = src->gate_timeout_ms;
	dst->pool = src->pool ? xstrdup(src->pool) : NULL;
}

int
am_active_alerts(const struct am_conf *c, json_t **out, struct rbx_err *err)
{
	char *url = xasprintf("%s/api/v2/alerts?active=true&silenced=false&inhibited=false", c->url);
	struct http_request rq = {0};
	struct http_response rs;
	int rc = -1;

	*out = NULL;
	rq.method = "GET";
	rq.url = url;
	rq.timeout_ms = AM_TIMEOUT_MS;
	rq.max_body = 8u << 20;
	if (http_perform(&rq, &rs, err) < 0) {
		err_prefix(err, "Alertmanager %s", c->url);
		http_response_release(&rs); /* released either way */
		free(url);
		return -1;
	}
	if (rs.status != 200)
		err_set(err, "Alertmanager %s: HTTP %ld for its alerts", c->url, rs.status);
	else if (!(*out = json_loadb(rs.body.data ? rs.body.data : "", rs.body.len, 0, NULL)) ||
		 !json_is_array(*out))
		err_set(err, "Alertmanager %s answered its alerts with no list", c->url);
	else
		rc = 0;
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	http_response_release(&rs);
	free(url);
	return rc;
}

/* An Alertmanager silence id: a UUID. Anything else is not used in a URL. */
static bool
id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n <= 64 && strspn(s, "0123456789abcdefABCDEF-") == n;
}

/* The node, regex-quoted: node names are [A-Za-z0-9._-], of which only '.' is special. */
static char *
instance_regex(const char *node)
{
	struct buf b;

	buf_init(&b, 0);
	for (; *node; node++) {
		if (*node == '.')
			buf_adds(&b, "\\.");
		else
			buf_add(&b, node, 1);
	}
	buf_adds(&b, "(\\..*)?(:[0-9]+)?");
	return buf_detach(&b);
}

static int
create_one(const struct am_conf *c, const char *label, const char *node, const char *comment,
	   int64_t ends_ms, json_t *ids, struct rbx_err *err)
{
	char starts[40], ends[40], *url = xasprintf("%s/api/v2/silences", c->url), *body, *rx = NULL;
	static const char *const headers[] = {"Content-Type: application/json", NULL};
	bool inst = strcmp(label, "instance") == 0;
	struct http_request rq = {0};
	struct http_response rs;
	json_t *doc = NULL, *id, *req;
	int rc = -1;

	util_iso_time(util_wall_ms(), starts, sizeof(starts));
	util_iso_time(ends_ms, ends, sizeof(ends));
	if (inst)
		rx = instance_regex(node);
	req = json_pack("{s:[{s:s, s:s, s:b, s:b}], s:s, s:s, s:s, s:s}", "matchers", "name", label,
			"value", inst ? rx : node, "isRegex", inst, "isEqual", 1, "startsAt", starts,
			"endsAt", ends, "createdBy", "rbx", "comment", comment);
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	rq.method = "POST";
	rq.url = url;
	rq.headers = headers;
	rq.body = body;
	rq.timeout_ms = AM_TIMEOUT_MS;
	if (http_perform(&rq, &rs, err) < 0) {
		err_prefix(err, "Alertmanager %s", c->url);
		http_response_release(&rs); /* released either way */
		goto out;
	}
	if (rs.status != 200) {
		err_set(err, "Alertmanager %s refused the silence (HTTP %ld): %.200s", c->url, rs.status,
			rs.body.data ? rs.body.data : "");
		goto done;
	}
	doc = json_loadb(rs.body.data ? rs.body.data : "", rs.body.len, 0, NULL);
	id = json_object_get(doc, "silenceID");
	if (!id_ok(json_string_value(id))) {
		err_set(err, "Alertmanager %s answered without a silence id", c->url);
		goto done;
	}
	json_array_append(ids, id);
	rc = 0;
done:
	http_response_release(&rs);
out:
	json_decref(doc);
	free(url);
	free(rx);
	free(body);
	return rc;
}

int
am_silence_node(const struct am_conf *c, const char *node, const char *comment, int64_t ends_ms,
		json_t *ids, struct rbx_err *err)
{
	size_t i;

	for (i = 0; i < c->nlabels; i++)
		if (create_one(c, c->node_labels[i], node, comment, ends_ms, ids, err) < 0)
			return -1;
	return 0;
}

int
am_silence_expire(const struct am_conf *c, const char *id, struct rbx_err *err)
{
	struct http_request rq = {0};
	struct http_response rs;
	char *url;
	int rc = -1;

	if (!id_ok(id))
		return err_set(err, "'%s' is not a silence id", id);
	url = xasprintf("%s/api/v2/silence/%s", c->url, id);
	rq.method = "DELETE";
	rq.url = url;
	rq.timeout_ms = AM_TIMEOUT_MS;
	if (http_perform(&rq, &rs, err) < 0) {
		err_prefix(err, "Alertmanager %s", c->url);
		http_response_release(&rs); /* released either way */
		free(url);
		return -1;
	}
	if (rs.status == 200)
		rc = 0;
	else
		err_set(err, "Alertmanager %s did not expire silence %s (HTTP %ld)", c->url, id, rs.status);
	http_response_release(&rs);
	free(url);
	return rc;
}
