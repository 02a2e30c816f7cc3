/* registry.h - the transports and schedulers rbx can build, by name: tables the
 * built-in backends fill, and that cli/ extends at start-up (the way tmux lists commands). */
#ifndef RBX_REGISTRY_H
#define RBX_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "backends/node.h"
#include "backends/sched.h"
#include "backends/transport.h"

/* What a backend is built for: one run on one node. */
struct backend_ctx {
	const char *state_dir;
	const char *run_id; /* NULL for a plan */
	const char *node;   /* the node's name as the operator gave it */
	const char *sched_node; /* the name the scheduler knows it by */
	const struct node_conf *conf;
	bool accept_new_host_key;
};

enum backend_flags {
	/* Reaches no real node: the plan and report say so, and a node needs no inventory. */
	BACKEND_SIMULATED = 1 << 0,
	/* http steps may reach loopback addresses only, through no proxy. */
	BACKEND_LOOPBACK_ONLY = 1 << 1,
	/* run: steps run on the (simulated) node too, so they go to the node's address. */
	BACKEND_LOCAL_ON_NODE = 1 << 2,
};

/*
 * A simulated node's controls, for `rbx test`: each scenario gets a fresh node in a
 * state dir of its own, with faults and stubs, and its state is read back after.
 */
struct sim_ops {
	/* Whether these faults (KEY=VALUE or a flag) are ones the simulation knows. */
	int (*check_faults)(int n, char **faults, struct rbx_err *err);
	/* Whether name is a command a stub may stand for (not one simulated or provided). */
	int (*check_stub)(const char *name, struct rbx_err *err);
	/* A fresh node with these faults; stubs: {NAME: [{stdout, stderr, exit}...]}. */
	int (*prepare)(const char *state_dir, const char *node, int n, char **faults,
		       json_t *stubs, struct rbx_err *err);
	/* The node's state as the simulation keeps it (new reference), or NULL with err. */
	json_t *(*state)(const char *state_dir, const char *node, struct rbx_err *err);
	/* Whether a file matching the glob exists in the node's working dir. */
	bool (*has_file)(const char *state_dir, const char *node, const char *glob);
};

struct transport_entry {
	const char *name;
	unsigned flags;
	const char *default_sched; /* when the inventory names none */
	/* Where ssh: steps run, and where run: steps run. */
	struct transport *(*node_new)(const struct backend_ctx *c, struct rbx_err *err);
	struct transport *(*local_new)(const struct backend_ctx *c, struct rbx_err *err);
	/* After the run: remove what the transport kept for it (NULL: nothing). */
	void (*run_end)(const struct backend_ctx *c);
	/* One line for the user before a run (allocated), or NULL. */
	char *(*describe)(const struct backend_ctx *c);
	const struct sim_ops *sim; /* a simulated node's controls (NULL: a real one) */
};

struct sched_entry {
	const char *name;
	struct sched *(*open)(const struct backend_ctx *c, struct rbx_err *err);
};

const struct transport_entry *registry_transport(const char *name);
const struct sched_entry *registry_sched(const char *name);
/* Add a backend (at start-up, before any lookup); a name given twice: the first wins. */
void registry_add_transport(const struct transport_entry *e);
void registry_add_sched(const struct sched_entry *e);
/* "a, b, c": the registered names, for messages. */
void registry_names(bool transports, char *out, size_t n);

#endif
