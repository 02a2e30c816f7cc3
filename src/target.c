/* target.c - resolves where a run goes (the lab or an inventory node) and builds
 * its transports and scheduler backend, so run and plan agree on it. */
#define _GNU_SOURCE
#include "rbx/target.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "rbx/diag.h"
#include "rbx/lab.h"
#include "rbx/remote.h"

int
target_resolve(const char *node, bool lab, const char *inventory, struct target *t,
	       struct rbx_err *err)
{
	struct inventory *inv;
	struct diags d;
	char *path;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	if (lab) {
		t->lab = true;
		t->address = xasprintf("lab:%s", node);
		t->scheduler = xstrdup("lab");
		return 0;
	}
	path = inventory_default_path(inventory);
	if (!path)
		return err_set(err, "no inventory names node '%s': give --inventory FILE (or "
				    "$RBX_INVENTORY, /etc/rbx/inventory.yaml), or --lab for the simulated node",
			       node);
	diags_init(&d);
	inv = inventory_load(path, &d);
	if (!inv) {
		diags_print(&d, stderr);
		err_set(err, "the inventory %s is invalid", path);
		goto out;
	}
	if (inventory_resolve(inv, node, &t->conf, err) < 0)
		goto out;
	{
		char buf[PATH_MAX];
		t->inventory = xstrdup(realpath(path, buf) ? buf : path);
	}
	t->lab = !strcmp(t->conf.transport, "lab");
	t->scheduler = xstrdup(t->conf.scheduler);
	if (t->lab)
		t->address = xasprintf("lab:%s", node);
	else
		t->address = xasprintf("%s:%s@%s:%d", t->conf.transport, t->conf.user, t->conf.host,
				       t->conf.port);
	rc = 0;
out:
	inventory_free(inv);
	diags_release(&d);
	free(path);
	return rc;
}

void
target_release(struct target *t)
{
	node_conf_release(&t->conf);
	free(t->address);
	free(t->scheduler);
	free(t->inventory);
	memset(t, 0, sizeof(*t));
}

struct transport *
target_node_transport(const struct target *t, const char *state_dir, const char *run_id,
		      bool accept_new_host_key, struct rbx_err *err)
{
	if (t->lab)
		return lab_transport_new(state_dir, t->conf.name ? t->conf.name : t->address + 4, run_id,
					 "scratch", err);
	return remote_transport_new(&t->conf, !strcmp(t->conf.transport, "ssh"), accept_new_host_key);
}

struct transport *
target_local_transport(const struct target *t, const char *state_dir, const char *run_id,
		       struct rbx_err *err)
{
	if (t->lab)
		return lab_transport_new(state_dir, t->conf.name ? t->conf.name : t->address + 4, run_id,
					 "local", err);
	return transport_local_new();
}

/* The name the scheduler knows the node by. */
static const char *
sched_node_name(const struct target *t)
{
	const char *node = t->conf.name ? t->conf.name : t->address + 4;

	if (!strcmp(t->scheduler, "slurm") && strmap_get(&t->conf.labels, "slurm_name"))
		return strmap_get(&t->conf.labels, "slurm_name");
	return node;
}

static void
add_field(struct buf *b, const char *name, const char *v)
{
	/* NUL-separated, so no two different entries hash the same text. */
	buf_adds(b, name);
	buf_add(b, "=", 1);
	if (v)
		buf_adds(b, v);
	buf_add(b, "", 1);
}

json_t *
target_identity(const struct target *t)
{
	const struct node_conf *c = &t->conf;
	struct buf b;
	char port[16], *digest;
	json_t *id;

	/* Everything that decides where steps go and which guard holds the node. */
	buf_init(&b, 0);
	snprintf(port, sizeof(port), "%d", c->port);
	add_field(&b, "transport", c->transport);
	add_field(&b, "host", c->host);
	add_field(&b, "port", port);
	add_field(&b, "user", c->user);
	add_field(&b, "identity", c->identity);
	add_field(&b, "known_hosts", c->known_hosts);
	add_field(&b, "jump", c->jump);
	add_field(&b, "scheduler", c->scheduler);
	add_field(&b, "reboot_command", c->reboot_command);
	add_field(&b, "boot_id_command", c->boot_id_command);
	add_field(&b, "kubeconfig", c->kubeconfig);
	add_field(&b, "cordon_command", c->cordon_command);
	add_field(&b, "drain_command", c->drain_command);
	add_field(&b, "uncordon_command", c->uncordon_command);
	add_field(&b, "state_command", c->state_command);
	add_field(&b, "slurm_name", strmap_get(&c->labels, "slurm_name"));
	digest = util_digest(b.data, b.len);
	id = json_pack("{s:s, s:s, s:s, s:s?, s:s}", "address", t->address, "scheduler",
		       t->scheduler, "sched_node", sched_node_name(t), "inventory", t->inventory,
		       "node_conf_digest", digest);
	free(digest);
	buf_release(&b);
	return id;
}

int
target_check_identity(const struct target *t, json_t *was, struct rbx_err *err)
{
	static const char *const keys[] = {"address", "scheduler", "sched_node", "node_conf_digest"};
	json_t *now = target_identity(t);
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *a = json_string_value(json_object_get(was, keys[i]));
		const char *b = json_string_value(json_object_get(now, keys[i]));
		if (a && b && strcmp(a, b) != 0) {
			rc = err_set(err, "the target changed since the run started: it ran on %s "
					  "(guard: %s for '%s'), and today resolves to %s (guard: %s "
					  "for '%s')%s; the guard the run holds is the old one's, so a "
					  "resume must go the same way: give the same --lab or "
					  "--inventory, or put the inventory entry back",
				     json_string_value(json_object_get(was, "address")) ?: "?",
				     json_string_value(json_object_get(was, "scheduler")) ?: "?",
				     json_string_value(json_object_get(was, "sched_node")) ?: "?",
				     t->address, t->scheduler, sched_node_name(t),
				     !strcmp(keys[i], "node_conf_digest")
					     ? " (the node's inventory entry changed)"
					     : "");
			break;
		}
	}
	json_decref(now);
	return rc;
}

struct sched *
target_sched(const struct target *t, const char *state_dir, struct rbx_err *err)
{
	const char *node = t->conf.name ? t->conf.name : t->address + 4;

	/* The lab backend keeps the guard's state in rbx's state dir: the lab's own
	 * nodes, and nodes outside any scheduler. */
	if (!strcmp(t->scheduler, "lab"))
		return sched_lab_new(state_dir, node);
	if (!strcmp(t->scheduler, "slurm"))
		return sched_slurm_new(sched_node_name(t));
	if (!strcmp(t->scheduler, "kubernetes"))
		return sched_k8s_new(node, t->conf.kubeconfig, err);
	if (!strcmp(t->scheduler, "command"))
		return sched_command_new(node, t->conf.cordon_command, t->conf.drain_command,
					 t->conf.uncordon_command, t->conf.state_command);
	err_set(err, "node %s: unknown scheduler backend '%s' (lab, slurm, kubernetes, command)", node,
		t->scheduler);
	return NULL;
}
