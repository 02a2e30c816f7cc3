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

struct sched *
target_sched(const struct target *t, const char *state_dir, struct rbx_err *err)
{
	const char *node = t->conf.name ? t->conf.name : t->address + 4;

	/* The lab backend keeps the guard's state in rbx's state dir: the lab's own
	 * nodes, and nodes outside any scheduler. */
	if (!strcmp(t->scheduler, "lab"))
		return sched_lab_new(state_dir, node);
	if (!strcmp(t->scheduler, "slurm"))
		return sched_slurm_new(strmap_get(&t->conf.labels, "slurm_name")
					       ? strmap_get(&t->conf.labels, "slurm_name")
					       : node);
	if (!strcmp(t->scheduler, "kubernetes"))
		return sched_k8s_new(node, t->conf.kubeconfig, err);
	if (!strcmp(t->scheduler, "command"))
		return sched_command_new(node, t->conf.cordon_command, t->conf.drain_command,
					 t->conf.uncordon_command, t->conf.state_command);
	err_set(err, "node %s: unknown scheduler backend '%s' (lab, slurm, kubernetes, command)", node,
		t->scheduler);
	return NULL;
}
