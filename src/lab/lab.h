/* lab.h - the embedded simulated GPU node: state files, fault injection, the lab
 * scheduler and transport, and the simulated tools the lab puts on PATH. */
#ifndef RBX_LAB_H
#define RBX_LAB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "backends/registry.h"
#include "backends/sched.h"
#include "backends/transport.h"
#include "base/util.h"

/* The environment variable that tells a simulated tool which node it is on. */
#define LAB_ENV_STATE "RBX_LAB_NODE_DIR"

/* $STATE/lab/nodes/<node> */
char *lab_node_dir(const char *state_dir, const char *node);

/* Load a node's state, creating a healthy node on first use (new reference). */
json_t *lab_node_load(const char *node_dir, const char *node, struct rbx_err *err);
/* Load, change with fn, save atomically, all under the node's lock. */
int lab_node_update(const char *node_dir, const char *node,
		    int (*fn)(json_t *st, void *arg, struct rbx_err *err), void *arg,
		    struct rbx_err *err);

/* rbx lab inject N FAULT...; FAULT is key=value or a flag (lab_fault_help_text lists them). */
int lab_inject(const char *state_dir, const char *node, int nfaults, char **faults,
	       struct rbx_err *err);
int lab_reset(const char *state_dir, const char *node, struct rbx_err *err);
/*
 * Run cmd on the simulated node exactly as an ssh: step would run there (its
 * tools, its PATH, its confinement), vars exported to it; res gets the result
 * (exec_result_release it). -1 with err when it could not be started.
 */
int lab_run_command(const char *state_dir, const char *node, const char *cmd,
		    const struct strmap *vars, struct exec_result *res, struct rbx_err *err);
/* The node as `rbx lab show` prints it (text, or its state as JSON), appended to out. */
int lab_show(const char *state_dir, const char *node, bool json, struct buf *out,
	     struct rbx_err *err);
const char *lab_fault_help_text(void);
/* A command the lab refuses by name ("not simulated in the lab"). */
bool lab_is_refused(const char *name);

/* A simulated reboot: faults clear unless marked persistent. */
int lab_reboot_node(const char *node_dir, const char *node, struct rbx_err *err);

struct sched *sched_lab_new(const char *state_dir, const char *node);

/* The lab's controls for `rbx test` (lab_sim.c). */
extern const struct sim_ops lab_sim_ops;
/* A stub's answer when a lab step calls one (argv[0] names it): its next canned reply. */
int lab_stub_main(const char *node_dir, const char *node, const char *name);
/* Link the node's stubs into a run's bin dir, made only when it has one: how many, or -1. */
int lab_link_stubs(const char *bin, const char *self, const char *node_dir, const char *node,
		   struct rbx_err *err);

/* The lab's rows for the backend registry (cli/ registers them). */
extern const struct transport_entry lab_transport_entry;
extern const struct sched_entry lab_sched_entry;

/*
 * The lab transport: commands run locally in the node's scratch dir with a
 * PATH that holds only the simulated tools and an allow-list of text tools.
 * `scratch` names the working dir under the node dir ("scratch" for ssh:
 * steps, "local" for run: steps).
 */
struct transport *lab_transport_new(const char *state_dir, const char *node, const char *run_id,
				    const char *scratch, struct rbx_err *err);
/* Remove the per-run bin dir a lab transport made. */
void lab_cleanup_run(const char *state_dir, const char *run_id);

/* Refuse a lab command that names a real program by absolute path. */
int lab_check_command(const char *cmd, struct rbx_err *err);

/* Multi-call: when rbx runs as a simulated tool (argv[0] names one). */
bool lab_is_tool(const char *argv0);
int lab_tool_main(int argc, char **argv);
/*
 * Every lab step is confined by Landlock: it may execute only the programs in
 * the lab's bin dirs (bins, NULL-terminated; and /bin/sh, the loader), write only
 * below node_dir, read no host program directory, and open no TCP socket (ABI 4+).
 * The ruleset is built once per transport; lab_sandbox_enter(sb) enters it in a
 * step's child,
 * between fork and exec, and refuses (the step exits 126) where the kernel has
 * no Landlock: a lab step never runs unconfined.
 */
struct lab_sandbox;
struct lab_sandbox *lab_sandbox_new(const char *const *bins, const char *node_dir);
void lab_sandbox_free(struct lab_sandbox *sb);
int lab_sandbox_enter(void *arg);

#endif
