/* transport.h - how a step's command reaches a node: local, SSH, or a simulated node.
 * The engine talks only to this interface, so tests can give it a fake. */
#ifndef RBX_TRANSPORT_H
#define RBX_TRANSPORT_H

#include "backends/exec.h"

struct transport;

struct transport_ops {
	const char *name;
	/* Connect and check the node's identity before any step (NULL: nothing to do). */
	int (*open)(struct transport *t, struct rbx_err *err);
	/* Run cmd; 0 when it ran (see r->status), -1 with err when it could not. */
	int (*exec)(struct transport *t, const char *cmd, const struct exec_opts *o,
		    struct exec_result *r, struct rbx_err *err);
	/* Issue a reboot, see the node go and come back within timeout_ms. */
	int (*reboot)(struct transport *t, long long timeout_ms, struct rbx_err *err);
	/* Wait until the node answers again. */
	int (*wait_up)(struct transport *t, long long timeout_ms, struct rbx_err *err);
	void (*free)(struct transport *t);
	/*
	 * End what a step left running, found by its RBX_STEP_TAG (after a crash or a
	 * dropped connection). Returns the groups ended, or -1 with err (NULL: local).
	 */
	int (*end_tagged)(struct transport *t, const char *tag, struct rbx_err *err);
	/*
	 * Let ms pass on the node between tries and in sleep steps (NULL: a real
	 * sleep). A simulated node keeps its own clock, so its waits cost nothing.
	 */
	void (*pause)(struct transport *t, long long ms);
};

struct transport {
	const struct transport_ops *ops;
	char *address; /* for humans and the plan: "ssh:root@n42:22", "local" */
	void *priv;
};

/* Commands on the machine rbx runs on, with its environment. */
struct transport *transport_local_new(void);
void transport_free(struct transport *t);

#endif
