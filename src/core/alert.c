/* alert.c - reads an Alertmanager webhook notification with jansson, checking every field
 * rbx uses (labels are untrusted: they pick a runbook and a node), and matches each alert. */
#include "core/alert.h"

#include <ctype.h>
#include <stdio.h>
#include <jansson.h>
#include <string.h>

static int
fault(struct rbx_err *err, const char *path, const char *what)
{
	return err_set(err, "%s: %s", path, what);
}

static char *
dup_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? xstrdup(s) : NULL;
}

/* An Alertmanager fingerprint: 16 hex digits; a little more slack, nothing else. */
static bool
fingerprint_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 32 && strspn(s, "0123456789abcdef") == n;
}

static bool
label_name_ok(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static int
parse_item(json_t *a, size_t i, struct alert_item *it, struct rbx_err *err)
{
	char path[64];
	json_t *labels, *v;
	const char *k, *st;

	snprintf(path, sizeof(path), "$.alerts[%zu]", i);
	if (!json_is_object(a))
		return fault(err, path, "an alert must be an object");
	st = json_string_value(json_object_get(a, "status"));
	if (!st || (strcmp(st, "firing") && strcmp(st, "resolved"))) {
		snprintf(path, sizeof(path), "$.alerts[%zu].status", i);
		return fault(err, path, "must be \"firing\" or \"resolved\"");
	}
	if (!json_is_string(json_object_get(a, "fingerprint")) ||
	    !fingerprint_ok(json_string_value(json_object_get(a, "fingerprint")))) {
		snprintf(path, sizeof(path), "$.alerts[%zu].fingerprint", i);
		return fault(err, path, "must be Alertmanager's hex fingerprint");
	}
	if (!json_is_string(json_object_get(a, "startsAt")) ||
	    strspn(json_string_value(json_object_get(a, "startsAt")), "0123456789-:.TZ+") !=
		    strlen(json_string_value(json_object_get(a, "startsAt")))) {
		snprintf(path, sizeof(path), "$.alerts[%zu].startsAt", i);
		return fault(err, path, "must be an RFC 3339 time");
	}
	labels = json_object_get(a, "labels");
	if (!json_is_object(labels)) {
		snprintf(path, sizeof(path), "$.alerts[%zu].labels", i);
		return fault(err, path, "must be an object of label names to strings");
	}
	json_object_foreach(labels, k, v) {
		char lp[192];
		snprintf(lp, sizeof(lp), "$.alerts[%zu].labels.%.100s", i, k);
		if (!label_name_ok(k))
			return fault(err, lp, "not a Prometheus label name");
		if (!json_is_string(v))
			return fault(err, lp, "a label value must be a string");
		strmap_set(&it->labels, k, json_string_value(v));
	}
	if (!strmap_get(&it->labels, "alertname")) {
		snprintf(path, sizeof(path), "$.alerts[%zu].labels", i);
		return fault(err, path, "has no alertname");
	}
	it->status = xstrdup(st);
	it->fingerprint = dup_str(a, "fingerprint");
	it->starts_at = dup_str(a, "startsAt");
	return 0;
}

int
alert_parse(const char *text, size_t len, struct alert_note *out, struct rbx_err *err)
{
	json_error_t je;
	json_t *root, *alerts;
	const char *ver;
	size_t i;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (len > ALERT_MAX_BYTES)
		return err_set(err, "the notification is over %u bytes", ALERT_MAX_BYTES);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return err_set(err, "$: not JSON (line %d, column %d: %s)", je.line, je.column, je.text);
	if (!json_is_object(root)) {
		fault(err, "$", "a notification is an object");
		goto out;
	}
	ver = json_string_value(json_object_get(root, "version"));
	if (!ver || strcmp(ver, "4") != 0) {
		fault(err, "$.version", "rbx reads Alertmanager's webhook version \"4\"");
		goto out;
	}
	alerts = json_object_get(root, "alerts");
	if (!json_is_array(alerts)) {
		fault(err, "$.alerts", "must be a list of alerts");
		goto out;
	}
	out->receiver = dup_str(root, "receiver");
	out->status = dup_str(root, "status");
	out->items = xcalloc(json_array_size(alerts) + 1, sizeof(*out->items));
	for (i = 0; i < json_array_size(alerts); i++) {
		if (parse_item(json_array_get(alerts, i), i, &out->items[i], err) < 0) {
			out->n = i + 1;
			alert_note_release(out);
			goto out;
		}
		out->n = i + 1;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

void
alert_note_release(struct alert_note *note)
{
	size_t i;

	if (!note)
		return;
	for (i = 0; i < note->n; i++) {
		free(note->items[i].status);
		free(note->items[i].fingerprint);
		free(note->items[i].starts_at);
		strmap_release(&note->items[i].labels);
	}
	free(note->items);
	free(note->receiver);
	free(note->status);
	memset(note, 0, sizeof(*note));
}

/* How many labels the matcher holds if every one equals the alert's; -1 if one does not. */
static long
specificity(const struct matcher *m, const struct strmap *labels)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		const char *v = strmap_get(labels, m->keys[i]);
		if (!v || strcmp(v, m->values[i]) != 0)
			return -1;
	}
	return (long)m->n;
}

struct runbook *
alert_match(struct runbook *const *rbs, size_t n, const struct strmap *labels, struct runbook **tie)
{
	struct runbook *best = NULL;
	long best_s = 0;
	size_t i, j;

	*tie = NULL;
	for (i = 0; i < n; i++) {
		long s = -1;
		for (j = 0; j < rbs[i]->trigger.nalerts; j++) {
			long sj = specificity(&rbs[i]->trigger.alerts[j], labels);
			s = sj > s ? sj : s;
		}
		if (s <= 0)
			continue;
		if (s > best_s) {
			best = rbs[i];
			best_s = s;
			*tie = NULL;
		} else if (s == best_s) {
			*tie = rbs[i];
		}
	}
	return best;
}

static bool
in_list(char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return true;
	return false;
}

char *
alert_node(const char *value, char *const *nodes, size_t nnodes, struct rbx_err *err)
{
	char *host = xstrdup(value), *colon = strrchr(host, ':'), *dot;

	/* A scrape target's host:port: the port goes (an IPv6 address has more colons). */
	if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
	    !memchr(host, ':', (size_t)(colon - host)))
		*colon = 0;
	if (!util_valid_node_name(host)) {
		err_set(err, "'%s' is not a node name rbx accepts", value);
		goto bad;
	}
	if (nodes && in_list(nodes, nnodes, host))
		return host;
	dot = strchr(host, '.');
	if (dot) /* an FQDN: the inventory names the host */
		*dot = 0;
	if (!nodes || in_list(nodes, nnodes, host))
		return host;
	err_set(err, "'%s' is not in the inventory", value);
bad:
	free(host);
	return NULL;
}

void
alert_route(const struct alert_item *it, struct runbook *const *rbs, size_t n, char *const *nodes,
	    size_t nn, struct alert_route *v)
{
	struct runbook *tie = NULL, *rb;
	const char *value;
	struct rbx_err e;

	memset(v, 0, sizeof(*v));
	v->action = "refused";
	if (strcmp(it->status, "firing") != 0) {
		v->action = "resolved";
		snprintf(v->why, sizeof(v->why), "resolved: nothing to run");
		return;
	}
	rb = alert_match(rbs, n, &it->labels, &tie);
	v->rb = rb;
	if (!rb) {
		v->action = "unmatched";
		snprintf(v->why, sizeof(v->why), "no runbook's trigger matches it");
		return;
	}
	if (tie) {
		v->action = "ambiguous";
		snprintf(v->why, sizeof(v->why), "both %s and %s match it as closely: a human picks",
			 rb->name, tie->name);
		return;
	}
	value = strmap_get(&it->labels, rb->trigger.node_label);
	if (!value) {
		snprintf(v->why, sizeof(v->why), "it has no '%s' label to name the node",
			 rb->trigger.node_label);
		return;
	}
	v->node = alert_node(value, nodes, nn, &e);
	if (!v->node) {
		snprintf(v->why, sizeof(v->why), "%s", e.msg);
		return;
	}
	v->action = "would-run";
	if (strcmp(value, v->node) != 0)
		snprintf(v->why, sizeof(v->why), "%s %s -> node %s", rb->trigger.node_label, value, v->node);
}
