/* lab_backend.c - the lab as rbx sees any backend: a transport and a scheduler
 * registered by name ("lab"), which cli/ adds to the registry at start-up. */
#include "lab/lab.h"

#include <stdlib.h>

static struct transport *
lab_node_new(const struct backend_ctx *c, struct rbx_err *err)
{
	return lab_transport_new(c->state_dir, c->node, c->run_id, "scratch", err);
}

static struct transport *
lab_local_new(const struct backend_ctx *c, struct rbx_err *err)
{
	return lab_transport_new(c->state_dir, c->node, c->run_id, "local", err);
}

static void
lab_run_end(const struct backend_ctx *c)
{
	if (c->run_id && c->state_dir)
		lab_cleanup_run(c->state_dir, c->run_id);
}

static char *
lab_describe(const struct backend_ctx *c)
{
	return xasprintf("simulated node %s: no real node is touched; state in %s/lab/nodes/%s",
			 c->node, c->state_dir, c->node);
}

/* Simulated, and its http steps reach loopback only: the lab can never touch the network. */
const struct transport_entry lab_transport_entry = {
	"lab", BACKEND_SIMULATED | BACKEND_LOOPBACK_ONLY | BACKEND_LOCAL_ON_NODE, "lab", lab_node_new, lab_local_new,
	lab_run_end, lab_describe, &lab_sim_ops,
};

static struct sched *
lab_sched_open(const struct backend_ctx *c, struct rbx_err *err)
{
	(void)err;
	return sched_lab_new(c->state_dir, c->node);
}

/* The lab's guard: cordon state in the simulated node's own file, where its tools see it. */
const struct sched_entry lab_sched_entry = {"lab", lab_sched_open};
