/* target.h - where a run goes: a node of the inventory, or one reached through a
 * named transport, with its transport and scheduler backends. Shared by run and plan. */
#ifndef RBX_TARGET_H
#define RBX_TARGET_H

#include <jansson.h>
#include <stdbool.h>

#include "backends/registry.h"
#include "core/inventory.h"

struct target {
	const struct transport_entry *tx; /* from the registry */
	const struct sched_entry *sc;
	struct node_conf conf; /* the inventory's entry; only the name when `via` is set */
	char *address;	       /* for humans and the plan: ssh:root@host:22, or VIA:NODE */
	char *scheduler;       /* backend name */
	char *inventory;       /* the inventory file used, or NULL */
	char *via;	       /* a transport named on the command line instead of an inventory */
};

/*
 * Resolve node: through the transport `via` when given (a simulated one, which
 * needs no inventory), else the inventory (path given, $RBX_INVENTORY, /etc/rbx).
 */
int target_resolve(const char *node, const char *via, const char *inventory, struct target *t,
		   struct rbx_err *err);
void target_release(struct target *t);

/*
 * Who the run acts on and through what, for run_start: the address, the guard
 * backend and the name it knows the node by, and a digest of the node's
 * resolved inventory entry (new reference).
 */
json_t *target_identity(const struct target *t);
/* 0 if t is the target `was` (a run_start's "target") recorded; -1 with err if not. */
int target_check_identity(const struct target *t, json_t *was, struct rbx_err *err);

/* Transports and scheduler for a run. */
struct transport *target_node_transport(const struct target *t, const char *state_dir,
					const char *run_id, bool accept_new_host_key,
					struct rbx_err *err);
struct transport *target_local_transport(const struct target *t, const char *state_dir,
					 const char *run_id, struct rbx_err *err);
struct sched *target_sched(const struct target *t, const char *state_dir, struct rbx_err *err);
/* After a run: what its transport kept for it is removed. */
void target_run_end(const struct target *t, const char *state_dir, const char *run_id);
/* One line for the user about where the run goes (allocated), or NULL. */
char *target_describe(const struct target *t, const char *state_dir);
/* Where run: steps go: "local", or the node's address when its transport runs them there. */
const char *target_local_address(const struct target *t);
/* Whether the target reaches no real node (the plan and report say so). */
bool target_simulated(const struct target *t);

#endif
