/* inventory.c - the node inventory: a YAML file of hostlist patterns with their
 * transport, address, credentials' locations, scheduler and labels. */
#define _GNU_SOURCE
#include "core/inventory.h"

#include "io/ydoc.h"

#include "backends/registry.h"
#include "core/template.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* ---- the file ---------------------------------------------------------------------------- */

struct entry {
	char *match; /* NULL for defaults */
	struct strmap fields;
	struct strmap labels;
};

struct inventory {
	char *path;
	struct entry *entries; /* entries[0] is the defaults */
	size_t n;
	struct fleet_conf fleet; /* budgets: label in label, limit; value unset */
	struct am_conf am;
};

static const char *const entry_keys[] = {
	"match", "transport", "host", "port", "user", "identity", "known_hosts", "jump", "boot_id_command",
	"scheduler", "labels", "reboot_command", "connect_timeout", "kubeconfig", "cordon_command",
	"drain_command", "uncordon_command", "state_command", NULL,
};

static int
only_node(void *arg, const char *name, size_t offset)
{
	(void)arg;
	(void)offset;
	return strcmp(name, "node") != 0;
}

/* A host may name the node ({{node}}.cluster.example) and nothing else. */
static void
check_host(struct diags *d, const char *path, struct srcpos at, const char *host)
{
	struct rbx_err e;
	int rc = template_each(host, only_node, NULL, &e);

	if (rc < 0)
		diags_add(d, DIAG_ERROR, path, at, "host '%s': %s", host, e.msg);
	else if (rc > 0)
		diags_add(d, DIAG_ERROR, path, at, "host '%s' may use {{node}} and no other template",
			  host);
}

static bool
in(const char *const *set, const char *s)
{
	for (; *set; set++)
		if (!strcmp(*set, s))
			return true;
	return false;
}

/* One value of a node entry, checked where it is written. */
static void
check_value(struct ydoc *y, const char *key, yaml_node_t *v, const char *val)
{
	if (!strcmp(key, "host"))
		check_host(y->d, y->file, ydoc_pos(v), val);
	if ((!strcmp(key, "transport") && !registry_transport(val)) ||
	    (!strcmp(key, "scheduler") && !registry_sched(val))) {
		char names[256];
		registry_names(!strcmp(key, "transport"), names, sizeof(names));
		ydoc_error(y, v, "%s '%s' is not one of %s", key, val, names);
	}
	if (!strcmp(key, "port")) {
		char *end;
		long port = strtol(val, &end, 10);
		if (*end || port < 1 || port > 65535)
			ydoc_error(y, v, "port '%s' is not 1-65535", val);
	}
	if (!strcmp(key, "jump") && !inventory_valid_jump(val))
		ydoc_error(y, v, "jump '%s' is not [user@]host[:port] (letters, digits, '.', '-', '_')",
			   val);
	if (!strcmp(key, "connect_timeout") && util_parse_duration(val) <= 0)
		ydoc_error(y, v, "connect_timeout '%s' is not a duration", val);
}

static void
check_match(struct ydoc *y, yaml_node_t *v, const char *val)
{
	struct rbx_err err;
	size_t n, i;
	char **names = hostlist_expand(val, &n, &err);

	if (!names)
		ydoc_error(y, v, "%s", err.msg);
	for (i = 0; names && i < n; i++)
		if (!util_valid_node_name(names[i])) {
			ydoc_error(y, v, "'%s' is not a valid node name", names[i]);
			break;
		}
	hostlist_free(names, n);
}

static void
load_labels(struct ydoc *y, yaml_node_t *v, struct entry *e)
{
	size_t i;

	if (!ydoc_is_map(v)) {
		ydoc_error(y, v, "'labels' must be a mapping");
		return;
	}
	for (i = 0; i < ydoc_len(v); i++) {
		yaml_node_t *lk = ydoc_key(y, v, i);
		const char *k = ydoc_scalar(lk), *val = ydoc_scalar(ydoc_value(y, v, i));
		if (!k || !val) {
			ydoc_error(y, lk, "labels map names to values");
			continue;
		}
		strmap_set(&e->labels, k, val);
	}
}

static void
load_entry(struct ydoc *y, yaml_node_t *map, struct entry *e, bool is_default)
{
	size_t i;

	if (!ydoc_is_map(map)) {
		ydoc_error(y, map, "a node entry must be a mapping");
		return;
	}
	for (i = 0; i < ydoc_len(map); i++) {
		yaml_node_t *k = ydoc_key(y, map, i), *v = ydoc_value(y, map, i);
		const char *key = ydoc_scalar(k) ? ydoc_scalar(k) : "";
		const char *val = ydoc_scalar(v);

		if (!in(entry_keys, key) || (is_default && !strcmp(key, "match"))) {
			ydoc_error(y, k, "unknown key '%s' in %s", key,
				   is_default ? "defaults" : "a node entry");
			continue;
		}
		if (!strcmp(key, "labels")) {
			load_labels(y, v, e);
			continue;
		}
		if (!val) {
			ydoc_error(y, v, "'%s' must be a scalar", key);
			continue;
		}
		check_value(y, key, v, val);
		if (!strcmp(key, "match")) {
			check_match(y, v, val);
			e->match = xstrdup(val);
			continue;
		}
		strmap_set(&e->fields, key, val);
	}
	if (!is_default && !e->match)
		ydoc_error(y, map, "a node entry needs 'match' (a hostlist)");
}

static void
load_budgets(struct ydoc *y, yaml_node_t *v, struct fleet_conf *fc)
{
	size_t i;

	for (i = 0; i < ydoc_len(v); i++) {
		const char *label = ydoc_scalar(ydoc_key(y, v, i));
		yaml_node_t *bv = ydoc_value(y, v, i);
		const char *val = ydoc_scalar(bv);
		char *end = NULL;
		long lim = val ? strtol(val, &end, 10) : 0;

		if (!label || !end || *end || lim < 1 || lim > 10000) {
			ydoc_error(y, bv, "a budget maps a label to how many of its nodes may be out "
					  "at once (1-10000)");
			continue;
		}
		fc->budgets = xrealloc(fc->budgets, (fc->nbudgets + 1) * sizeof(*fc->budgets));
		fc->budgets[fc->nbudgets].label = xstrdup(label);
		fc->budgets[fc->nbudgets].value = NULL;
		fc->budgets[fc->nbudgets++].limit = (int)lim;
	}
}

/*
 * fleet: {etcd: http://host:2379, prefix: /rbx, ttl: 15s, budgets: {pool: 1}}
 * A budget names a label: nodes with the same value of it share `limit` slots.
 */
static void
load_fleet(struct ydoc *y, yaml_node_t *map, struct fleet_conf *fc)
{
	size_t i;

	if (!ydoc_is_map(map)) {
		ydoc_error(y, map, "'fleet' must be a mapping (etcd, prefix, ttl, budgets)");
		return;
	}
	fc->ttl_ms = 15000;
	for (i = 0; i < ydoc_len(map); i++) {
		yaml_node_t *k = ydoc_key(y, map, i), *v = ydoc_value(y, map, i);
		const char *key = ydoc_scalar(k) ? ydoc_scalar(k) : "";
		const char *val = ydoc_scalar(v);

		if (!strcmp(key, "budgets") && ydoc_is_map(v)) {
			load_budgets(y, v, fc);
		} else if (!strcmp(key, "etcd") && val) {
			if (strncmp(val, "http://", 7) != 0)
				ydoc_error(y, v, "etcd '%s': give the gateway as http://host:port", val);
			free(fc->endpoint);
			fc->endpoint = xstrdup(val);
		} else if (!strcmp(key, "prefix") && val && val[0] == '/') {
			free(fc->prefix);
			fc->prefix = xstrdup(val);
		} else if (!strcmp(key, "ttl") && val && util_parse_duration(val) >= 2000) {
			fc->ttl_ms = util_parse_duration(val);
		} else {
			ydoc_error(y, k,
				   "fleet: '%s' is not etcd (http://host:port), prefix (/path), ttl (2s or "
				   "more) or budgets (label: limit)",
				   key);
		}
	}
	if (!fc->endpoint)
		ydoc_error(y, map, "fleet needs 'etcd' (http://host:port)");
}

/* alertmanager: {url: http://host:9093, optional: false, node_labels: [Hostname, node, instance]} */
static void
load_alertmanager(struct ydoc *y, yaml_node_t *map, struct am_conf *am)
{
	const char *url = ydoc_is_map(map) ? ydoc_scalar(ydoc_get(y, map, "url")) : NULL;
	yaml_node_t *labels = ydoc_is_map(map) ? ydoc_get(y, map, "node_labels") : NULL;
	size_t i;

	if (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) ||
	    url[strlen(url) - 1] == '/' || strpbrk(url, " '\"")) {
		ydoc_error(y, map, "alertmanager needs 'url': http(s)://host:port, no trailing '/'");
		return;
	}
	for (i = 0; i < ydoc_len(map); i++) {
		const char *k = ydoc_scalar(ydoc_key(y, map, i));
		if (!k || (strcmp(k, "url") && strcmp(k, "optional") && strcmp(k, "node_labels") &&
			   strcmp(k, "blocking_alerts") && strcmp(k, "gate_timeout")))
			ydoc_error(y, ydoc_key(y, map, i), "alertmanager: '%s' is not url, optional, "
				   "node_labels, blocking_alerts or gate_timeout", k ? k : "?");
	}
	am->url = xstrdup(url);
	am->optional = ydoc_bool(y, ydoc_get(y, map, "optional"), "optional", false);
	am->blocking = ydoc_strings(y, ydoc_get(y, map, "blocking_alerts"), "blocking_alerts",
				    &am->nblocking);
	am->gate_timeout_ms = ydoc_duration(y, ydoc_get(y, map, "gate_timeout"), "gate_timeout",
					    30 * 60 * 1000LL);
	if (labels) {
		am->node_labels = ydoc_strings(y, labels, "node_labels", &am->nlabels);
	} else {
		static const char *const def[] = {"Hostname", "node", "instance"};
		am->node_labels = xcalloc(4, sizeof(char *));
		for (i = 0; i < 3; i++)
			am->node_labels[am->nlabels++] = xstrdup(def[i]);
	}
	for (i = 0; i < am->nlabels; i++)
		if (!am->node_labels[i][0] || strspn(am->node_labels[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(am->node_labels[i]))
			ydoc_error(y, labels, "alertmanager: '%s' is not a label name", am->node_labels[i]);
}

static void
load_top(struct ydoc *y, struct inventory *inv)
{
	yaml_node_t *root = ydoc_root(y);
	size_t i, j;

	if (!ydoc_is_map(root)) {
		ydoc_error(y, root, "an inventory is a mapping with defaults and nodes");
		return;
	}
	for (i = 0; i < ydoc_len(root); i++) {
		yaml_node_t *k = ydoc_key(y, root, i), *v = ydoc_value(y, root, i);
		const char *key = ydoc_scalar(k) ? ydoc_scalar(k) : "";

		if (!strcmp(key, "defaults")) {
			load_entry(y, v, &inv->entries[0], true);
		} else if (!strcmp(key, "nodes") && ydoc_is_seq(v)) {
			for (j = 0; j < ydoc_len(v); j++) {
				inv->entries = xrealloc(inv->entries, (inv->n + 1) * sizeof(struct entry));
				memset(&inv->entries[inv->n], 0, sizeof(struct entry));
				load_entry(y, ydoc_item(y, v, j), &inv->entries[inv->n], false);
				inv->n++;
			}
		} else if (!strcmp(key, "nodes")) {
			/* Known, but in the wrong shape: say so, not "unknown key". */
			ydoc_error(y, v, "'nodes' is a list of entries, each with a 'match' "
					 "(- match: 'n[001-128]'), not %s", ydoc_kind(v));
		} else if (!strcmp(key, "fleet")) {
			load_fleet(y, v, &inv->fleet);
		} else if (!strcmp(key, "alertmanager")) {
			load_alertmanager(y, v, &inv->am);
		} else {
			ydoc_error(y, k, "unknown key '%s' at the top of the inventory (defaults, nodes, "
				   "fleet, alertmanager)", key);
		}
	}
}

struct inventory *
inventory_load(const char *path, struct diags *d)
{
	struct inventory *inv = NULL;
	struct ydoc y;
	struct rbx_err err;
	size_t len, before = d->nerrors;
	char *text = util_read_file(path, 4u << 20, &len, &err);

	if (!text) {
		struct srcpos none = {0, 0};
		diags_add(d, DIAG_ERROR, path, none, "cannot read the inventory: %s", err.msg);
		return NULL;
	}
	if (ydoc_load(&y, path, text, len, d) == 0) {
		inv = xcalloc(1, sizeof(*inv));
		inv->path = xstrdup(path);
		inv->entries = xcalloc(1, sizeof(struct entry));
		inv->n = 1;
		load_top(&y, inv);
	}
	ydoc_release(&y);
	free(text);
	if (d->nerrors > before) {
		inventory_free(inv);
		return NULL;
	}
	return inv;
}

char *
inventory_default_path(const char *given)
{
	const char *env = getenv("RBX_INVENTORY");

	if (given)
		return xstrdup(given);
	if (env && *env)
		return xstrdup(env);
	if (access("/etc/rbx/inventory.yaml", R_OK) == 0)
		return xstrdup("/etc/rbx/inventory.yaml");
	return NULL;
}

void
inventory_free(struct inventory *inv)
{
	size_t i;

	if (!inv)
		return;
	for (i = 0; i < inv->n; i++) {
		free(inv->entries[i].match);
		strmap_release(&inv->entries[i].fields);
		strmap_release(&inv->entries[i].labels);
	}
	free(inv->entries);
	free(inv->path);
	fleet_conf_release(&inv->fleet);
	am_conf_release(&inv->am);
	free(inv);
}

static char *
expand_home(const char *p)
{
	const char *home = getenv("HOME");

	if (p[0] == '~' && p[1] == '/')
		return xasprintf("%s/%s", home && *home ? home : "/root", p + 2);
	return xstrdup(p);
}

static void
set_field(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? xstrdup(v) : NULL;
}

int
inventory_resolve(const struct inventory *inv, const char *node, struct node_conf *out,
		  struct rbx_err *err)
{
	size_t i, k;
	bool found = false;
	const struct transport_entry *tx;
	const char *v;

	memset(out, 0, sizeof(*out));
	out->name = xstrdup(node);
	out->transport = xstrdup("ssh");
	out->user = xstrdup("root");
	out->reboot_command = xstrdup("systemctl reboot");
	out->port = 22;
	out->connect_timeout_ms = 10000;
	for (i = 0; i < inv->n; i++) {
		const struct entry *e = &inv->entries[i];
		if (i > 0 && !hostlist_match(e->match, node))
			continue;
		found |= i > 0;
		if ((v = strmap_get(&e->fields, "transport")))
			set_field(&out->transport, v);
		if ((v = strmap_get(&e->fields, "host")))
			set_field(&out->host, v);
		if ((v = strmap_get(&e->fields, "port")))
			out->port = atoi(v);
		if ((v = strmap_get(&e->fields, "user")))
			set_field(&out->user, v);
		if ((v = strmap_get(&e->fields, "identity")))
			set_field(&out->identity, v);
		if ((v = strmap_get(&e->fields, "known_hosts")))
			set_field(&out->known_hosts, v);
		if ((v = strmap_get(&e->fields, "jump")))
			set_field(&out->jump, v);
		if ((v = strmap_get(&e->fields, "scheduler")))
			set_field(&out->scheduler, v);
		if ((v = strmap_get(&e->fields, "reboot_command")))
			set_field(&out->reboot_command, v);
		if ((v = strmap_get(&e->fields, "boot_id_command")))
			set_field(&out->boot_id_command, v);
		if ((v = strmap_get(&e->fields, "kubeconfig")))
			set_field(&out->kubeconfig, v);
		if ((v = strmap_get(&e->fields, "cordon_command")))
			set_field(&out->cordon_command, v);
		if ((v = strmap_get(&e->fields, "drain_command")))
			set_field(&out->drain_command, v);
		if ((v = strmap_get(&e->fields, "uncordon_command")))
			set_field(&out->uncordon_command, v);
		if ((v = strmap_get(&e->fields, "state_command")))
			set_field(&out->state_command, v);
		if ((v = strmap_get(&e->fields, "connect_timeout")))
			out->connect_timeout_ms = util_parse_duration(v);
		for (k = 0; k < e->labels.n; k++)
			strmap_set(&out->labels, e->labels.keys[k], e->labels.vals[k]);
	}
	am_conf_copy(&out->alertmanager, &inv->am);
	if (out->alertmanager.url && strmap_get(&out->labels, "pool"))
		out->alertmanager.pool = xstrdup(strmap_get(&out->labels, "pool"));
	/* The budgets this node falls under: those whose label it carries. */
	if (inv->fleet.endpoint) {
		struct fleet_conf *fc = &out->fleet;
		fc->endpoint = xstrdup(inv->fleet.endpoint);
		fc->prefix = inv->fleet.prefix ? xstrdup(inv->fleet.prefix) : NULL;
		fc->ttl_ms = inv->fleet.ttl_ms;
		fc->budgets = xcalloc(inv->fleet.nbudgets + 1, sizeof(*fc->budgets));
		for (k = 0; k < inv->fleet.nbudgets; k++) {
			const char *val = strmap_get(&out->labels, inv->fleet.budgets[k].label);
			if (!val)
				continue;
			fc->budgets[fc->nbudgets].label = xstrdup(inv->fleet.budgets[k].label);
			fc->budgets[fc->nbudgets].value = xstrdup(val);
			fc->budgets[fc->nbudgets++].limit = inv->fleet.budgets[k].limit;
		}
	}
	/* Unless the inventory names a scheduler, the transport's own default guards the node. */
	tx = registry_transport(out->transport);
	if (!out->scheduler && tx)
		out->scheduler = xstrdup(tx->default_sched);
	if (!found) {
		node_conf_release(out);
		return err_set(err, "no entry of the inventory %s names node '%s'", inv->path, node);
	}
	/* The host may name the node: host: '{{node}}.cluster.example'. */
	if (!out->host) {
		out->host = xstrdup(node);
	} else if (strstr(out->host, "{{")) {
		/* The one renderer, as plain text: the node name is already valid here. */
		struct tmpl_ctx c;
		struct buf b;
		memset(&c, 0, sizeof(c));
		c.node = node;
		buf_init(&b, 0);
		if (template_render(out->host, TMPL_TEXT, &c, &b, err) < 0) {
			buf_release(&b);
			node_conf_release(out);
			return err_prefix(err, "the inventory %s: host of node '%s'", inv->path, node);
		}
		free(out->host);
		out->host = buf_detach(&b);
	}
	if (out->identity) {
		char *x = expand_home(out->identity);
		free(out->identity);
		out->identity = x;
	}
	if (out->known_hosts) {
		char *x = expand_home(out->known_hosts);
		free(out->known_hosts);
		out->known_hosts = x;
	}
	return 0;
}

bool
inventory_valid_jump(const char *s)
{
	const char *at = strchr(s, '@'), *host = at ? at + 1 : s, *colon = strrchr(host, ':');
	size_t i, hl = colon ? (size_t)(colon - host) : strlen(host);

	/* It reaches a shell (libssh runs the ProxyCommand with sh -c): a plain word only. */
	if (at && (at == s || strchr(at + 1, '@')))
		return false;
	for (i = 0; s + i < host - (at ? 1 : 0); i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	if (hl == 0 || host[0] == '-')
		return false;
	for (i = 0; i < hl; i++)
		if (!isalnum((unsigned char)host[i]) && !strchr(".-", host[i]))
			return false;
	if (colon) {
		long port = strtol(colon + 1, NULL, 10);
		if (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) || port < 1 ||
		    port > 65535)
			return false;
	}
	return true;
}

struct named {
	char *name;
	size_t order; /* where it was first named: the output keeps that order */
};

static int
by_name_then_order(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->order < y->order ? -1 : x->order > y->order;
}

static int
by_order(const void *a, const void *b)
{
	const struct named *x = a, *y = b;

	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * Every node the entries name, once each, in the order first named. Sorted to find the
 * repeats: a lookup per name made this quadratic, seconds for 20,000 nodes (fuzz_inventory).
 */
char **
inventory_nodes(const struct inventory *inv, size_t *n)
{
	struct named *all = NULL;
	size_t total = 0, alloc = 0, i, k, kept = 0;
	char **out;

	for (i = 1; i < inv->n; i++) {
		struct rbx_err err;
		size_t m;
		char **names = hostlist_expand(inv->entries[i].match, &m, &err);
		for (k = 0; names && k < m; k++) {
			if (total == alloc) {
				alloc = alloc ? alloc * 2 : 64;
				all = xrealloc(all, alloc * sizeof(*all));
			}
			all[total] = (struct named){names[k], total};
			total++;
		}
		free(names); /* the names themselves now belong to all */
	}
	if (total)
		qsort(all, total, sizeof(*all), by_name_then_order);
	for (i = 0; i < total; i++) {
		if (kept && !strcmp(all[kept - 1].name, all[i].name)) {
			free(all[i].name); /* a repeat: the first naming stays */
			continue;
		}
		all[kept++] = all[i];
	}
	if (kept)
		qsort(all, kept, sizeof(*all), by_order);
	out = xcalloc(kept + 1, sizeof(*out));
	for (i = 0; i < kept; i++)
		out[i] = all[i].name;
	free(all);
	*n = kept;
	return out;
}
