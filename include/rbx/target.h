/* target.h - where a run goes: the lab, or a node of the inventory with its
 * transport and scheduler backend. Shared by run, plan and nodes. */
#ifndef RBX_TARGET_H
#define RBX_TARGET_H

#include <jansson.h>
#include <stdbool.h>

#include "rbx/inventory.h"
#include "rbx/sched.h"
#include "rbx/transport.h"

struct target {
	bool lab;
	struct node_conf conf; /* zeroed for --lab */
	char *address;	       /* for humans and the plan: lab:n42, ssh:root@host:22 */
	char *scheduler;       /* backend name */
	char *inventory;       /* the inventory file used, or NULL (--lab) */
};

/* Resolve node: --lab, else the inventory (path given, $RBX_INVENTORY, /etc/rbx). */
int target_resolve(const char *node, bool lab, const char *inventory, struct target *t,
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

#endif
