/* sched.h - the guard's scheduler backends: cordon, drain, uncordon, state.
 * One interface; backends are built by name through registry.h. */
#ifndef RBX_SCHED_H
#define RBX_SCHED_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>

#include "base/util.h"

struct sched_state {
	bool cordoned;	/* no new work lands */
	bool drained;	/* and no work is left */
	int jobs;	/* work still running */
	char reason[256];
};

struct sched;

struct sched_ops {
	const char *name;
	int (*state)(struct sched *s, struct sched_state *st, struct rbx_err *err);
	int (*cordon)(struct sched *s, const char *reason, struct rbx_err *err);
	int (*drain)(struct sched *s, const char *reason, long long timeout_ms, struct rbx_err *err);
	int (*uncordon)(struct sched *s, struct rbx_err *err);
	/* Keep the node out, with a new reason (a failed run names itself). */
	int (*set_reason)(struct sched *s, const char *reason, struct rbx_err *err);
	void (*free)(struct sched *s);
	/* The exact calls the guard will make, for the plan (NULL: none to show). */
	void (*describe)(struct sched *s, const char *reason, struct buf *out);
};

struct sched {
	const struct sched_ops *ops;
	char *node;
	void *priv;
	/* Set by the engine: once *cancel is non-zero an operation stops waiting (Ctrl-C). */
	rbx_flag *cancel;
};

void sched_free(struct sched *s);
bool sched_cancelled(const struct sched *s);
/* Wait ms in slices; -1 with err as soon as the operation is cancelled. */
int sched_sleep(const struct sched *s, long long ms, struct rbx_err *err);

/* Slurm: scontrol/sinfo on this machine (SLURM_CONF as usual). */
struct sched *sched_slurm_new(const char *node);
/* sinfo's "STATE|REASON" line for a node, read into st (text is changed). */
void sched_slurm_parse_state(char *text, struct sched_state *st);
/* Kubernetes: the API server of the kubeconfig's current context. */
struct sched *sched_k8s_new(const char *node, const char *kubeconfig, struct rbx_err *err);
/* What the API server's node object says of the guard, and whether a drain leaves a pod. */
void sched_k8s_node_state(json_t *node, struct sched_state *st);
bool sched_k8s_pod_stays(json_t *pod);
/* Site commands: shell text (rendered by the caller) run with RBX_NODE and RBX_REASON set. */
struct sched *sched_command_new(const char *node, const char *cordon, const char *drain,
				const char *uncordon, const char *state);

/* Nodes outside any scheduler: the cordon kept in $STATE/guard/NODE.json. */
struct sched *sched_file_new(const char *state_dir, const char *node, struct rbx_err *err);

#endif
