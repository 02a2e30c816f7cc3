/* lab_internal.h - what the lab's files share: the state template, JSON
 * helpers, and the simulated tools' table. Not a public interface. */
#ifndef RBX_LAB_INTERNAL_H
#define RBX_LAB_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/util.h"

#define LAB_NGPUS 8

json_t *lab_state_new(const char *node);
/* Apply faults (KEY=VALUE or flags, as `rbx lab inject` takes them) to a node's state. */
int lab_faults_apply(json_t *st, int n, char **faults, struct rbx_err *err);
/* The text tools a lab step may use (grep, awk, ...): the host's own. */
extern const char *const lab_allowed[];

/* A simulated tool's view of its node. */
struct tool_ctx {
	const char *tool;
	const char *node;
	const char *node_dir;
	json_t *st;
	bool dirty; /* the tool changed st: save it */
};

typedef int (*lab_tool_fn)(struct tool_ctx *c, int argc, char **argv);

struct lab_tool {
	const char *name;
	lab_tool_fn fn;
	bool writes; /* takes the node lock and saves the state */
};

/* The table, NULL-terminated; defined in lab_tools.c. */
extern const struct lab_tool lab_tools_table[];

/* JSON helpers: absent values read as false, "" and 0. */
bool jtrue(json_t *o, const char *k);
const char *jstr(json_t *o, const char *k);
long long jint(json_t *o, const char *k);
void jset_str(json_t *o, const char *k, const char *v);
void jset_int(json_t *o, const char *k, long long v);
void jset_bool(json_t *o, const char *k, bool v);
json_t *jgpus(struct tool_ctx *c);
/* argv helpers */
bool arg_has(int argc, char **argv, const char *flag);
const char *arg_val(int argc, char **argv, const char *flag); /* "-i 3", "--x=3", "-i3" */
int tool_usage(struct tool_ctx *c, const char *msg);
bool service_active(json_t *st, const char *unit);
bool lab_in_list(json_t *arr, const char *s);
void lab_log_kernel(json_t *st, long long when, const char *msg);
/* The node's clock: the real one plus the waits the lab let pass at once (clock_skew_ms). */
long long lab_now(json_t *st);
/*
 * Persistence mode: as set by nvidia-smi -pm, else as the daemon started it (on,
 * unless its unit passes --no-persistence-mode, as Ubuntu's does: persistenced_no_pm).
 */
bool lab_persistence_on(json_t *st);
/* A GPU's power limit range, W (an HGX H100's 200-700 W unless its type says otherwise). */
long long lab_power_min(json_t *gpu);
long long lab_power_max(json_t *gpu);
void lab_repair_on_reset(json_t *st, json_t *gpu);

/* GRUB's menu: the kernel an entry (title or id path, as grub-reboot takes) boots, or
 * NULL; the first entry's (newest) kernel; the distribution's menu names. */
const char *lab_grub_entry_kernel(json_t *st, const char *entry);
const char *lab_grub_default(json_t *st);
void lab_grub_names(json_t *st, const char **os, const char **submenu);
#define LAB_GRUB_UUID "0f3e7c2a-5b1d-4e8f-9a61-2c4d8b7e1f30"

/* GPUs initialise only with the GSP firmware of the module's release; logs why not. */
void lab_gsp_check(json_t *st);

/* A boot of the node: the next kernel, its module, services, what a power cycle clears. */
void lab_boot(json_t *st);
/* GPUs the node shows (not lost, module loaded): what Slurm and the device plugin count. */
unsigned lab_visible_gpus(struct tool_ctx *c);
/* Move what the cluster does by itself (a requeued job) to the node's clock, for any tool. */
void lab_cluster_settle(struct tool_ctx *c);

/* One fault being injected (lab_faults.c holds the table). */
struct fault_ctx {
	json_t *st;
	json_t *gpu; /* gpu=I, default 0 */
	long gpu_index;
	const char *val;
	struct rbx_err *err;
};

/* The faults of the cluster and services around a node (lab_faults_cluster.c). */
int f_drained(struct fault_ctx *f);
int f_jobs(struct fault_ctx *f);
int f_plugin(struct fault_ctx *f);
int f_slurm(struct fault_ctx *f);
int f_label(struct fault_ctx *f);
int f_job_procs(struct fault_ctx *f);
int f_loss(struct fault_ctx *f);
int f_slo(struct fault_ctx *f);
int f_deploy(struct fault_ctx *f);
int f_kv(struct fault_ctx *f);
int f_bmc(struct fault_ctx *f);
int f_vllm(struct fault_ctx *f);
int f_job(struct fault_ctx *f);

/* Tools, by area. */
int tool_nvidia_smi(struct tool_ctx *c, int argc, char **argv);
int tool_dcgmi(struct tool_ctx *c, int argc, char **argv);
int tool_journalctl(struct tool_ctx *c, int argc, char **argv);
int tool_dmesg(struct tool_ctx *c, int argc, char **argv);
int tool_bug_report(struct tool_ctx *c, int argc, char **argv);
int tool_systemctl(struct tool_ctx *c, int argc, char **argv);
int tool_modprobe(struct tool_ctx *c, int argc, char **argv);
int tool_lsmod(struct tool_ctx *c, int argc, char **argv);
int tool_modinfo(struct tool_ctx *c, int argc, char **argv);
int tool_dkms(struct tool_ctx *c, int argc, char **argv);
int tool_uname(struct tool_ctx *c, int argc, char **argv);
int tool_mokutil(struct tool_ctx *c, int argc, char **argv);
int tool_lspci(struct tool_ctx *c, int argc, char **argv);
int tool_setpci(struct tool_ctx *c, int argc, char **argv);
int tool_apt_get(struct tool_ctx *c, int argc, char **argv);
int tool_apt_cache(struct tool_ctx *c, int argc, char **argv);
int tool_apt_mark(struct tool_ctx *c, int argc, char **argv);
int tool_dpkg_query(struct tool_ctx *c, int argc, char **argv);
int tool_grub_reboot(struct tool_ctx *c, int argc, char **argv);
int tool_grub_mkconfig(struct tool_ctx *c, int argc, char **argv);
int tool_kill(struct tool_ctx *c, int argc, char **argv);
int tool_fuser(struct tool_ctx *c, int argc, char **argv);
int tool_nv_fabricmanager(struct tool_ctx *c, int argc, char **argv);
int tool_all_reduce_perf(struct tool_ctx *c, int argc, char **argv);
int tool_nvbandwidth(struct tool_ctx *c, int argc, char **argv);
int tool_ibstat(struct tool_ctx *c, int argc, char **argv);
int tool_perfquery(struct tool_ctx *c, int argc, char **argv);
int tool_ipmitool(struct tool_ctx *c, int argc, char **argv);
int tool_curl(struct tool_ctx *c, int argc, char **argv);
int tool_sinfo(struct tool_ctx *c, int argc, char **argv);
int tool_squeue(struct tool_ctx *c, int argc, char **argv);
int tool_scontrol(struct tool_ctx *c, int argc, char **argv);
int tool_sbatch(struct tool_ctx *c, int argc, char **argv);
int tool_scancel(struct tool_ctx *c, int argc, char **argv);
int tool_kubectl(struct tool_ctx *c, int argc, char **argv);

/* Append training log lines for steps from..to (a resumed job writes these). */
void lab_train_append(FILE *fp, long from, long to, double jump);

/* Derived figures the fabric and training tools share. */
double lab_busbw(json_t *st);
double lab_h2d_gbps(json_t *st, long gpu);
double lab_p2p_gbps(json_t *st, long a, long b);

/* Commands the lab refuses loudly rather than run (NULL-terminated; lab.c). */
extern const char *const lab_refused[];

/* nvidia-smi's two halves (lab_tools_smi.c shows, lab_tools_smi_ctl.c changes and dispatches). */
void smi_lost(json_t *g);
int smi_driver_check(struct tool_ctx *c);
int gpu_temp(struct tool_ctx *c, json_t *g);
int gpu_mem_temp(struct tool_ctx *c, json_t *g);
long long gpu_link_gen(struct tool_ctx *c, json_t *g);
/* Work runs on the GPU: a process on it, or the cluster's job running on this node. */
bool lab_gpu_busy(struct tool_ctx *c, json_t *g);
unsigned mig_gi_count(json_t *g);
int smi_q(struct tool_ctx *c, const char *display, long index);
int smi_query(struct tool_ctx *c, const char *list, const char *format, long index);
int smi_apps(struct tool_ctx *c, const char *list, const char *format);

/* The lab state's format: a node written in another is refused (rbx lab reset). */
#define LAB_STATE_FORMAT 5

#endif
