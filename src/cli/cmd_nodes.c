/* cmd_nodes.c - `rbx nodes [PATTERN]`: the inventory resolved, node by node: how
 * rbx would reach each one, its scheduler backend and its labels. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "core/inventory.h"

static const struct opt nodes_opts[] = {
	{"inventory", 'i', "FILE", "the inventory (default $RBX_INVENTORY, /etc/rbx/inventory.yaml)", false},
	{"format", 'f', "FMT", "text (default) or json", false},
	{NULL, 0, NULL, NULL, false},
};

static enum rbx_status
nodes_exec(struct args *a, struct rbx_err *err)
{
	static const char *const formats[] = {"text", "json", NULL};
	const char *format, *pattern = a->argc ? a->argv[0] : NULL;
	char *path = inventory_default_path(args_get(a, "inventory"));
	struct inventory *inv = NULL;
	struct diags d;
	char **names = NULL;
	size_t n = 0, i, k;
	json_t *all = json_array(), *o;
	int rc = RBX_USAGE;

	diags_init(&d);
	if (args_format(a, "text", formats, &format, err) < 0)
		goto out;
	if (!path) {
		err_set(err, "no inventory: give --inventory FILE or set $RBX_INVENTORY");
		goto out;
	}
	inv = inventory_load(path, &d);
	if (!inv) {
		diags_print(&d, stderr);
		err_set(err, "the inventory %s is invalid", path);
		goto out;
	}
	names = inventory_nodes(inv, &n);
	for (i = 0; i < n; i++) {
		struct node_conf c;
		json_t *labels, *budgets;
		if (pattern && !hostlist_match(pattern, names[i]))
			continue;
		if (inventory_resolve(inv, names[i], &c, err) < 0)
			goto out;
		labels = json_object();
		for (k = 0; k < c.labels.n; k++)
			json_object_set_new(labels, c.labels.keys[k], json_string(c.labels.vals[k]));
		budgets = json_array();
		for (k = 0; k < c.fleet.nbudgets; k++)
			json_array_append_new(budgets, json_pack("{s:s, s:s, s:i}", "label",
								 c.fleet.budgets[k].label, "value",
								 c.fleet.budgets[k].value, "limit",
								 c.fleet.budgets[k].limit));
		o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s?, s:s?, s:s?, s:s, s:o, s:o}", "node",
			      c.name, "transport", c.transport, "host", c.host, "port", c.port, "user",
			      c.user, "identity", c.identity, "known_hosts", c.known_hosts, "jump",
			      c.jump, "scheduler", c.scheduler, "labels", labels, "fleet_budgets",
			      budgets);
		json_array_append_new(all, o);
		node_conf_release(&c);
	}
	if (!strcmp(format, "json")) {
		json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		json_array_foreach(all, i, o) {
			const char *key;
			json_t *v;
			printf("%-16s %-9s %s@%s:%lld  scheduler %s ",
			       json_string_value(json_object_get(o, "node")),
			       json_string_value(json_object_get(o, "transport")),
			       json_string_value(json_object_get(o, "user")),
			       json_string_value(json_object_get(o, "host")),
			       (long long)json_integer_value(json_object_get(o, "port")),
			       json_string_value(json_object_get(o, "scheduler")));
			json_object_foreach(json_object_get(o, "labels"), key, v)
				printf(" %s=%s", key, json_string_value(v));
			json_array_foreach(json_object_get(o, "fleet_budgets"), k, v)
				printf("%s%s=%s<=%lld", k ? "," : "  budget ",
				       json_string_value(json_object_get(v, "label")),
				       json_string_value(json_object_get(v, "value")),
				       (long long)json_integer_value(json_object_get(v, "limit")));
			putchar('\n');
		}
	}
	rc = RBX_OK;
out:
	hostlist_free(names, n);
	json_decref(all);
	inventory_free(inv);
	diags_release(&d);
	free(path);
	return rc;
}

const struct cmd cmd_nodes = {
	"nodes", "[PATTERN] [--inventory FILE] [--format text|json]",
	"show the inventory resolved: each node's transport, address, scheduler and labels",
	nodes_opts, 0, 1, nodes_exec,
};
