/* lab.c - the simulated GPU node's state (a JSON file per node), faults, the lab
 * scheduler and the lab transport. Nothing here reaches outside the state dir. */
#define _GNU_SOURCE
#include "rbx/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rbx/journal.h"

#include "lab_internal.h"

/* Commands the catalogue uses that the lab must refuse loudly rather than run. */
static const char *const lab_refused[] = {
	"reboot", "shutdown", "poweroff", "halt", "apt", "dpkg", "insmod", "wget", "ssh", "scp",
	"rsync", "nc", "ip", "iptables", "mount", "umount", "dd", "rm", "mv", "chmod", "chown",
	"pkill", "env", "sudo", "su", "bash", "python3", "perl", "grub-set-default",
	"srun", "mpirun", "py-spy", NULL,
};
/* Harmless text tools from the host, by their real paths. */
static const char *const lab_allowed[] = {
	"grep", "sed", "awk", "cut", "head", "tail", "sort", "uniq", "tr", "wc", "cat", "printf",
	"echo", "test", "[", "date", "sleep", "true", "false", "seq", "basename", "dirname",
	"tee", "expr", "xargs", "ls", "stat", "sha256sum", "paste", NULL,
};

bool
lab_is_refused(const char *name)
{
	size_t i;

	for (i = 0; lab_refused[i]; i++)
		if (!strcmp(name, lab_refused[i]))
			return true;
	return false;
}

char *
lab_node_dir(const char *state_dir, const char *node)
{
	return xasprintf("%s/lab/nodes/%s", state_dir, node);
}

static char *
state_path(const char *node_dir)
{
	return xasprintf("%s/state.json", node_dir);
}

json_t *
lab_node_load(const char *node_dir, const char *node, struct rbx_err *err)
{
	char *path = state_path(node_dir);
	json_error_t je;
	json_t *st = NULL;

	if (access(path, F_OK) != 0) {
		st = lab_state_new(node);
		goto out;
	}
	st = json_load_file(path, 0, &je);
	if (!st || !json_is_object(st)) {
		err_set(err, "%s:%d: lab state is damaged (%s); 'rbx lab reset %s' starts afresh",
			path, je.line, je.text, node);
		json_decref(st);
		st = NULL;
	}
out:
	free(path);
	return st;
}

static int
save_node(const char *node_dir, json_t *st, struct rbx_err *err)
{
	char *path = state_path(node_dir), *text;
	int r;

	text = json_dumps(st, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	r = util_write_file_atomic(path, text, strlen(text), 0600, err);
	free(text);
	free(path);
	return r;
}

int
lab_node_update(const char *node_dir, const char *node,
		int (*fn)(json_t *st, void *arg, struct rbx_err *err), void *arg,
		struct rbx_err *err)
{
	char *lock = xasprintf("%s/state.lock", node_dir);
	json_t *st = NULL;
	int fd = -1, r = -1;

	if (util_mkdir_p(node_dir, 0700, err) < 0)
		goto out;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		err_set(err, "cannot lock %s: %s", lock, strerror(errno));
		goto out;
	}
	st = lab_node_load(node_dir, node, err);
	if (!st)
		goto out;
	if (fn(st, arg, err) < 0)
		goto out;
	r = save_node(node_dir, st, err);
out:
	json_decref(st);
	if (fd >= 0)
		close(fd);
	free(lock);
	return r;
}

/* ---- faults ------------------------------------------------------------------ */

static const char *
xid_text(int xid)
{
	switch (xid) {
	case 13: return "Graphics Exception: ESR 0x50da30=0x103000e 0x50da34=0x0";
	case 31: return "MMU Fault: ENGINE GRAPHICS GPCCLIENT_T1_0 faulted @ 0x7f3e_4c000000.";
	case 43: return "Ch 00000010";
	case 45: return "Ch 00000008";
	case 48: return "An uncorrectable double bit error (DBE) has been detected on GPU in the "
			"framebuffer at partition 6, subpartition 0.";
	case 63: return "Row Remapper: New row marked for remapping, reset gpu to activate.";
	case 64: return "Row Remapper: Failed to mark a row for remapping.";
	case 74: return "NVLink: fatal error detected on link 3(0x0, 0x0, 0x10000, 0x0, 0x0, 0x0, 0x0)";
	case 79: return "GPU has fallen off the bus.";
	case 92: return "High single-bit ECC error rate";
	case 94: return "Contained: SM (0x1). RST: No, D-RST: No";
	case 95: return "Uncontained: FBHUB. RST: Yes, D-RST: No";
	case 119: return "Timeout after 6s of waiting for RPC response from GPU0 GSP! Expected function "
			 "76 (GSP_RM_CONTROL).";
	case 120: return "GSP task timeout @ pc:0x4c9e7f0, task: 1";
	default: return "Unknown Error";
	}
}

struct fault_ctx {
	json_t *st;
	json_t *gpu; /* gpu=I, default 0 */
	long gpu_index;
	const char *val;
	struct rbx_err *err;
};

static void
add_int(json_t *o, const char *key, long long d)
{
	jset_int(o, key, jint(o, key) + d);
}

static json_t *
service(json_t *st)
{
	return json_object_get(st, "services");
}

static int
f_xid(struct fault_ctx *f)
{
	long xid = strtol(f->val, NULL, 10);
	char *msg;

	if (xid <= 0 || xid > 200)
		return err_set(f->err, "xid=%s: an XID is a number from 1 to 200", f->val);
	msg = xasprintf("NVRM: Xid (PCI:0000:%s:00): %ld, pid=%ld, name=python3, %s",
			jstr(f->gpu, "bus"), xid, 20000 + f->gpu_index * 17, xid_text((int)xid));
	/* An injected fault happened a minute ago: alerts fire after the event. */
	lab_log_kernel(f->st, (long long)time(NULL) - 60, msg);
	free(msg);
	switch (xid) {
	case 79:
		jset_bool(f->gpu, "lost", true);
		break;
	case 48: case 63: case 94: case 95: case 140:
		jset_bool(f->gpu, "remap_pending", true);
		add_int(f->gpu, "remap_uncorr", 1);
		add_int(f->gpu, "dbe", 1);
		break;
	case 64:
		jset_bool(f->gpu, "remap_failed", true);
		break;
	case 74:
		jset_bool(f->gpu, "nvlink_down", true);
		break;
	case 92:
		add_int(f->gpu, "sbe", 4096);
		break;
	}
	return 0;
}

static int
f_dcgm(struct fault_ctx *f)
{
	if (strcmp(f->val, "fail") && strcmp(f->val, "pass"))
		return err_set(f->err, "dcgm=%s: use dcgm=fail or dcgm=pass", f->val);
	jset_str(f->st, "dcgm", f->val);
	return 0;
}

static int
f_remap(struct fault_ctx *f)
{
	if (!strcmp(f->val, "pending"))
		jset_bool(f->gpu, "remap_pending", true);
	else if (!strcmp(f->val, "failed"))
		jset_bool(f->gpu, "remap_failed", true);
	else
		return err_set(f->err, "remap=%s: use remap=pending or remap=failed", f->val);
	return 0;
}

static int
f_persistent(struct fault_ctx *f)
{
	jset_bool(f->st, "persistent", true);
	return 0;
}

static int
f_drained(struct fault_ctx *f)
{
	json_t *sc = json_object_get(f->st, "sched");

	if (!*f->val)
		return err_set(f->err, "drained=REASON needs a reason");
	jset_bool(sc, "cordoned", true);
	jset_bool(sc, "drained", true);
	jset_str(sc, "reason", f->val);
	return 0;
}

static int
f_jobs(struct fault_ctx *f)
{
	jset_int(json_object_get(f->st, "sched"), "jobs", strtol(f->val, NULL, 10));
	return 0;
}

static int
f_module(struct fault_ctx *f)
{
	if (!strcmp(f->val, "unloaded")) {
		jset_bool(f->st, "module_loaded", false);
		lab_log_kernel(f->st, (long long)time(NULL) - 60,
			       "NVRM: RmInitAdapter failed! (0x22:0x56:667)");
	} else if (!strcmp(f->val, "mismatch")) {
		/* The libraries were upgraded under a loaded module, with no reboot. */
		jset_str(f->st, "module_version", "550.54.15");
		lab_log_kernel(f->st, (long long)time(NULL) - 60,
			       "NVRM: API mismatch: the client has the version 550.90.07, but this "
			       "kernel module has the version 550.54.15.");
	} else {
		return err_set(f->err, "module=%s: use module=unloaded or module=mismatch", f->val);
	}
	return 0;
}

static int
f_secureboot(struct fault_ctx *f)
{
	jset_bool(f->st, "secure_boot", !strcmp(f->val, "on"));
	return 0;
}

static int
f_kernel(struct fault_ctx *f)
{
	/* A new kernel was installed and booted; DKMS never built the module for it. */
	if (strcmp(f->val, "new"))
		return err_set(f->err, "kernel=%s: use kernel=new", f->val);
	json_array_append_new(json_object_get(f->st, "kernels"), json_string("6.1.0-28-amd64"));
	jset_str(f->st, "kernel", "6.1.0-28-amd64");
	jset_bool(f->st, "module_loaded", false);
	jset_str(json_object_get(f->st, "packages"), "linux-image-6.1.0-28-amd64", "6.1.119-1");
	return 0;
}

static int
f_dkms(struct fault_ctx *f)
{
	jset_bool(f->st, "dkms_broken", !strcmp(f->val, "fail"));
	return 0;
}

static int
f_gsp(struct fault_ctx *f)
{
	char *msg;

	if (strcmp(f->val, "mismatch"))
		return err_set(f->err, "gsp=%s: use gsp=mismatch", f->val);
	jset_str(f->st, "gsp_fw", "550.54.15");
	msg = xasprintf("NVRM: Xid (PCI:0000:%s:00): 119, pid=1962, name=nvidia-smi, %s",
			jstr(f->gpu, "bus"), xid_text(119));
	lab_log_kernel(f->st, (long long)time(NULL) - 60, msg);
	free(msg);
	return 0;
}

static int
f_service_state(struct fault_ctx *f, const char *unit)
{
	if (!strcmp(f->val, "off") || !strcmp(f->val, "down"))
		jset_str(service(f->st), unit, !strcmp(f->val, "down") ? "failed" : "inactive");
	else if (!strcmp(f->val, "broken"))
		json_array_append_new(json_object_get(f->st, "broken_services"), json_string(unit));
	else
		return -2;
	return 0;
}

static int
f_persistence(struct fault_ctx *f)
{
	if (f_service_state(f, "nvidia-persistenced") == -2)
		return err_set(f->err, "persistence=%s: use off or broken", f->val);
	if (!strcmp(f->val, "broken"))
		jset_str(service(f->st), "nvidia-persistenced", "failed");
	return 0;
}

static int
f_fm(struct fault_ctx *f)
{
	if (!strcmp(f->val, "mismatch")) {
		jset_str(f->st, "fm_version", "550.54.15");
		jset_str(json_object_get(f->st, "packages"), "nvidia-fabricmanager-550", "550.54.15");
		jset_str(service(f->st), "nvidia-fabricmanager", "failed");
		return 0;
	}
	if (f_service_state(f, "nvidia-fabricmanager") == -2)
		return err_set(f->err, "fm=%s: use down, mismatch or broken", f->val);
	if (!strcmp(f->val, "broken"))
		jset_str(service(f->st), "nvidia-fabricmanager", "failed");
	return 0;
}

static int
f_ecc(struct fault_ctx *f)
{
	if (strcmp(f->val, "off"))
		return err_set(f->err, "ecc=%s: use ecc=off", f->val);
	jset_str(f->gpu, "ecc_mode", "Disabled");
	jset_str(f->gpu, "ecc_pending", "Disabled");
	return 0;
}

static int
f_temp(struct fault_ctx *f)
{
	long t = strtol(f->val, NULL, 10);

	if (t < 20 || t > 110)
		return err_set(f->err, "temp=%s: a temperature in C from 20 to 110", f->val);
	jset_int(f->gpu, "temp", t);
	jset_int(f->gpu, "hot", t >= 85);
	return 0;
}

static int
f_cooling(struct fault_ctx *f)
{
	jset_bool(f->st, "cooling_failed", !strcmp(f->val, "failed"));
	return 0;
}

static int
f_mig(struct fault_ctx *f)
{
	int i;

	if (!strcmp(f->val, "busy")) {
		jset_bool(f->st, "mig_busy", true);
		return 0;
	}
	if (strcmp(f->val, "stale"))
		return err_set(f->err, "mig=%s: use mig=stale or mig=busy", f->val);
	/* Seven 1g.10gb instances left behind by a job, where the site wants two 3g.40gb. */
	jset_str(f->gpu, "mig_mode", "Enabled");
	jset_str(f->gpu, "mig_pending", "Enabled");
	for (i = 0; i < 7; i++)
		json_array_append_new(json_object_get(f->gpu, "gis"), json_pack("{s:i}", "profile", 0));
	jset_str(json_object_get(f->st, "labels"), "nvidia.com/mig.config", "all-3g.40gb");
	return 0;
}

static int
f_ib(struct fault_ctx *f)
{
	json_t *ib = json_object_get(f->st, "ib");

	if (strcmp(f->val, "errors"))
		return err_set(f->err, "ib=%s: use ib=errors", f->val);
	jset_int(ib, "symbol_errors", 18342);
	jset_int(ib, "link_downed", 3);
	jset_int(ib, "rcv_errors", 511);
	return 0;
}

static int
f_nvlink(struct fault_ctx *f)
{
	jset_bool(f->gpu, "nvlink_down", !strcmp(f->val, "down"));
	return 0;
}

static int
f_pcie(struct fault_ctx *f)
{
	if (strcmp(f->val, "downtrained"))
		return err_set(f->err, "pcie=%s: use pcie=downtrained", f->val);
	jset_int(f->gpu, "pcie_gen", 4);
	jset_int(f->gpu, "pcie_width", 8);
	return 0;
}

static int
f_acs(struct fault_ctx *f)
{
	jset_bool(f->st, "acs", !strcmp(f->val, "on"));
	return 0;
}

static int
f_plugin(struct fault_ctx *f)
{
	/* The device plugin marked GPUs unhealthy and advertises fewer. */
	jset_int(f->st, "device_plugin_gpus", strtol(f->val, NULL, 10));
	return 0;
}

static int
f_slurm(struct fault_ctx *f)
{
	jset_bool(json_object_get(f->st, "cluster"), "slurm_up", strcmp(f->val, "down") != 0);
	return 0;
}

static int
f_label(struct fault_ctx *f)
{
	if (!strcmp(f->val, "forbidden"))
		jset_bool(f->st, "label_forbidden", true);
	else if (!strcmp(f->val, "wrong"))
		jset_str(json_object_get(f->st, "labels"), "network.topology.rbx.dev/spine", "spine-4");
	else
		return err_set(f->err, "label=%s: use label=wrong or label=forbidden", f->val);
	return 0;
}

static int
f_stale_procs(struct fault_ctx *f)
{
	long n = strtol(f->val, NULL, 10), i;

	for (i = 0; i < n; i++)
		json_array_append_new(json_object_get(f->st, "procs"),
				      json_pack("{s:I, s:I, s:s, s:i, s:b}", "pid", (json_int_t)(31337 + i),
						"gpu", (json_int_t)f->gpu_index, "name", "python3", "mem",
						38912, "unkillable", 0));
	return 0;
}

static int
f_proc(struct fault_ctx *f)
{
	json_t *p;
	size_t i;

	if (strcmp(f->val, "unkillable"))
		return err_set(f->err, "proc=%s: use proc=unkillable", f->val);
	json_array_foreach(json_object_get(f->st, "procs"), i, p)
		jset_bool(p, "unkillable", true);
	return 0;
}

static int
f_clocks(struct fault_ctx *f)
{
	jset_int(f->st, "clock_cap_mhz", !strcmp(f->val, "low") ? 1100 : 0);
	return 0;
}

static int
f_throttle(struct fault_ctx *f)
{
	jset_str(f->st, "throttle", f->val);
	return 0;
}

static int
f_loss(struct fault_ctx *f)
{
	jset_bool(json_object_get(f->st, "training"), "loss_diverges", !strcmp(f->val, "diverge"));
	return 0;
}

static int
f_slo(struct fault_ctx *f)
{
	json_t *s = json_object_get(f->st, "serving");

	if (!strcmp(f->val, "bad-deploy"))
		jset_bool(s, "bad_revision", true);
	else if (!strcmp(f->val, "capacity"))
		jset_int(s, "needed_replicas", 6);
	else
		return err_set(f->err, "slo=%s: use slo=bad-deploy or slo=capacity", f->val);
	return 0;
}

static int
f_deploy(struct fault_ctx *f)
{
	jset_bool(json_object_get(f->st, "serving"), "stuck", !strcmp(f->val, "stuck"));
	return 0;
}

static int
f_kv(struct fault_ctx *f)
{
	jset_bool(json_object_get(f->st, "serving"), "kv_pressure", !strcmp(f->val, "pressure"));
	return 0;
}

static int
f_bmc(struct fault_ctx *f)
{
	json_t *b = json_object_get(f->st, "bmc");

	if (!strcmp(f->val, "hung"))
		jset_bool(b, "alive", false);
	else if (!strcmp(f->val, "misconfigured"))
		jset_bool(b, "lan_ok", false);
	else if (!strcmp(f->val, "dead")) {
		jset_bool(b, "alive", false);
		jset_bool(b, "dead", true);
	} else
		return err_set(f->err, "bmc=%s: use hung, misconfigured or dead", f->val);
	return 0;
}

static int
f_drift(struct fault_ctx *f)
{
	json_t *pk = json_object_get(f->st, "packages");

	if (strcmp(f->val, "driver"))
		return err_set(f->err, "drift=%s: use drift=driver", f->val);
	/* An older driver than the golden image: a node that missed the last rollout. */
	jset_str(pk, "nvidia-driver-550", "550.54.15");
	jset_str(pk, "libnvidia-compute-550", "550.54.15");
	jset_str(f->st, "driver", "550.54.15");
	jset_str(f->st, "module_version", "550.54.15");
	jset_str(f->st, "gsp_fw", "550.54.15");
	jset_str(json_object_get(f->st, "dkms"), jstr(f->st, "kernel"), "550.54.15");
	return 0;
}

static int
f_apt(struct fault_ctx *f)
{
	jset_bool(f->st, "apt_broken", !strcmp(f->val, "fail"));
	return 0;
}

static int
f_job(struct fault_ctx *f)
{
	json_t *j = json_object_get(json_object_get(f->st, "cluster"), "job");

	if (!strcmp(f->val, "gone"))
		jset_bool(j, "gone", true);
	else if (!strcmp(f->val, "pinned"))
		jset_bool(j, "pinned", true);
	else
		return err_set(f->err, "job=%s: use job=gone or job=pinned", f->val);
	return 0;
}

static const struct fault {
	const char *key;
	int (*apply)(struct fault_ctx *f);
	const char *help;
} faults[] = {
	{"xid", f_xid, "xid=N [gpu=I]        an XID in the kernel log (79: off the bus; 48/63/94/95/140: "
		       "remap pending; 64: remap failed; 74: NVLink down)"},
	{"dcgm", f_dcgm, "dcgm=fail|pass       the DCGM diagnostic fails under stress (or passes again)"},
	{"remap", f_remap, "remap=pending|failed [gpu=I]"},
	{"persistent", f_persistent, "persistent           faults survive GPU resets, restarts and repairs (hardware)"},
	{"drained", f_drained, "drained=REASON       someone else drained the node"},
	{"jobs", f_jobs, "jobs=N               work running on the node"},
	{"module", f_module, "module=unloaded|mismatch   the nvidia module is not loaded, or older than its libraries"},
	{"secureboot", f_secureboot, "secureboot=on        Secure Boot rejects the unsigned module"},
	{"kernel", f_kernel, "kernel=new           booted a new kernel with no nvidia module built for it"},
	{"dkms", f_dkms, "dkms=fail            DKMS cannot build the module"},
	{"gsp", f_gsp, "gsp=mismatch         GSP firmware older than the driver, XID 119"},
	{"persistence", f_persistence, "persistence=off|broken   nvidia-persistenced stopped (or cannot start)"},
	{"fm", f_fm, "fm=down|mismatch|broken   Fabric Manager stopped, a version behind the driver, or failing"},
	{"ecc", f_ecc, "ecc=off [gpu=I]      ECC turned off"},
	{"temp", f_temp, "temp=C [gpu=I]       a GPU running hot (89 C slows down, 92 C shuts down)"},
	{"cooling", f_cooling, "cooling=failed       a fan or the CDU is out: capping power does not cool"},
	{"mig", f_mig, "mig=stale|busy [gpu=I]   leftover MIG instances; or instances held by a client"},
	{"ib", f_ib, "ib=errors            InfiniBand symbol errors and link-downs (a straggler)"},
	{"nvlink", f_nvlink, "nvlink=down [gpu=I]  NVLinks inactive"},
	{"pcie", f_pcie, "pcie=downtrained [gpu=I]   link trained at Gen4 x8"},
	{"acs", f_acs, "acs=on               PCIe ACS redirection on the switches"},
	{"plugin", f_plugin, "plugin=N             the device plugin advertises only N GPUs"},
	{"slurm", f_slurm, "slurm=down           the Slurm controller does not answer"},
	{"label", f_label, "label=wrong|forbidden   the node's spine label is wrong; or rbx may not label nodes"},
	{"stale_procs", f_stale_procs, "stale_procs=N [gpu=I]   processes of a dead job holding GPU memory"},
	{"proc", f_proc, "proc=unkillable      those processes cannot be killed (stuck in the driver)"},
	{"clocks", f_clocks, "clocks=low           GPU clocks locked at 1100 MHz"},
	{"throttle", f_throttle, "throttle=thermal     the GPUs throttle for heat"},
	{"loss", f_loss, "loss=diverge         the loss jumps after a resume"},
	{"slo", f_slo, "slo=bad-deploy|capacity   a bad serving revision; or too few replicas"},
	{"deploy", f_deploy, "deploy=stuck         a rollout never finishes"},
	{"kv", f_kv, "kv=pressure          the KV cache is full and requests are preempted"},
	{"bmc", f_bmc, "bmc=hung|misconfigured|dead   the BMC hangs; lost its LAN config; or is dead"},
	{"drift", f_drift, "drift=driver         the node runs an older driver than the golden image"},
	{"apt", f_apt, "apt=fail             package installs fail"},
	{"job", f_job, "job=gone|pinned      the training job no longer exists; or cannot be requeued"},
	{NULL, NULL, NULL},
};

const char *
lab_fault_help_text(void)
{
	static char text[8192];
	size_t i, off = 0;

	if (text[0])
		return text;
	for (i = 0; faults[i].key && off < sizeof(text) - 200; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "  %s\n", faults[i].help);
	return text;
}

struct inject_args {
	int n;
	char **faults;
};

static int
apply_faults(json_t *st, void *arg, struct rbx_err *err)
{
	struct inject_args *a = arg;
	struct fault_ctx f = {st, NULL, 0, NULL, err};
	int i;

	for (i = 0; i < a->n; i++)
		if (!strncmp(a->faults[i], "gpu=", 4))
			f.gpu_index = strtol(a->faults[i] + 4, NULL, 10);
	f.gpu = json_array_get(json_object_get(st, "gpus"), (size_t)f.gpu_index);
	if (f.gpu_index < 0 || !f.gpu)
		return err_set(err, "gpu=%ld: a GPU index from 0 to %d", f.gpu_index, LAB_NGPUS - 1);
	for (i = 0; i < a->n; i++) {
		const char *eq = strchr(a->faults[i], '=');
		size_t klen = eq ? (size_t)(eq - a->faults[i]) : strlen(a->faults[i]);
		const struct fault *ft;

		if (klen == 3 && !strncmp(a->faults[i], "gpu", 3))
			continue;
		for (ft = faults; ft->key; ft++)
			if (strlen(ft->key) == klen && !strncmp(ft->key, a->faults[i], klen))
				break;
		if (!ft->key)
			return err_set(err, "unknown fault '%s'; known faults:\n%s", a->faults[i],
				       lab_fault_help_text());
		f.val = eq ? eq + 1 : "";
		if (ft->apply(&f) < 0)
			return -1;
	}
	return 0;
}

int
lab_inject(const char *state_dir, const char *node, int nfaults, char **faults_given,
	   struct rbx_err *err)
{
	struct inject_args a = {nfaults, faults_given};
	char *dir = lab_node_dir(state_dir, node);
	int r = lab_node_update(dir, node, apply_faults, &a, err);

	free(dir);
	return r;
}

int
lab_reset(const char *state_dir, const char *node, struct rbx_err *err)
{
	char *dir = lab_node_dir(state_dir, node), *scratch;
	json_t *st = lab_state_new(node);
	int r;

	/* A reset node starts with a fresh home too: training fixtures are rebuilt. */
	scratch = xasprintf("%s/scratch", dir);
	util_rm_rf(scratch);
	free(scratch);
	r = util_mkdir_p(dir, 0700, err);
	if (r == 0)
		r = save_node(dir, st, err);
	json_decref(st);
	free(dir);
	return r;
}

static const char *
gpu_health(json_t *g)
{
	if (jtrue(g, "lost"))
		return "LOST (off the bus)";
	if (jtrue(g, "remap_failed"))
		return "row remap FAILED";
	if (jtrue(g, "remap_pending"))
		return "row remap pending";
	if (jtrue(g, "nvlink_down"))
		return "NVLink down";
	if (strcmp(jstr(g, "ecc_mode"), "Enabled"))
		return "ECC off";
	if (jint(g, "pcie_width") < 16 || jint(g, "pcie_gen") < 5)
		return "PCIe downtrained";
	if (json_array_size(json_object_get(g, "gis")))
		return "MIG instances present";
	if (jint(g, "hot"))
		return "hot";
	return "healthy";
}

static void
show_text(json_t *st, FILE *fp)
{
	json_t *sched = json_object_get(st, "sched"), *g, *e;
	const char *reason = jstr(sched, "reason");
	size_t i;

	fprintf(fp, "lab node %s (simulated): %s x%zu, driver %s (module %s%s), kernel %s, boot %lld\n",
		jstr(st, "node"), jstr(st, "model"), json_array_size(json_object_get(st, "gpus")),
		jstr(st, "driver"), jtrue(st, "module_loaded") ? jstr(st, "module_version") : "not loaded",
		"", jstr(st, "kernel"), jint(st, "boot"));
	fprintf(fp, "scheduler: %s%s%s%s\n",
		jtrue(sched, "drained")    ? "drained"
		: jtrue(sched, "cordoned") ? "cordoned"
					   : "in service",
		*reason ? " (" : "", reason, *reason ? ")" : "");
	fprintf(fp, "dcgm diag: %s%s; fabric manager %s %s\n", jstr(st, "dcgm"),
		jtrue(st, "persistent") ? "; faults are persistent" : "",
		jstr(json_object_get(st, "services"), "nvidia-fabricmanager"), jstr(st, "fm_version"));
	json_array_foreach(json_object_get(st, "gpus"), i, g)
		fprintf(fp, "  GPU %zu  %s:00.0  %s\n", i, jstr(g, "bus"), gpu_health(g));
	json_array_foreach(json_object_get(sched, "history"), i, e)
		fprintf(fp, "  scheduler: %s %s\n", jstr(e, "op"), jstr(e, "reason"));
}

int
lab_show(const char *state_dir, const char *node, bool json, FILE *fp, struct rbx_err *err)
{
	char *dir = lab_node_dir(state_dir, node);
	json_t *st = lab_node_load(dir, node, err);

	free(dir);
	if (!st)
		return -1;
	if (json) {
		json_dumpf(st, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', fp);
	} else {
		show_text(st, fp);
	}
	json_decref(st);
	return 0;
}

/* A restart: the next kernel boots, the module DKMS built for it loads, services start,
 * and what a power cycle clears is cleared, unless the fault is persistent. */
static int
do_reboot(json_t *st, void *arg, struct rbx_err *err)
{
	bool persistent = jtrue(st, "persistent");
	json_t *g, *svc = json_object_get(st, "services"), *v;
	const char *k, *built;
	size_t i;
	char *msg;

	(void)arg;
	(void)err;
	add_int(st, "boot", 1);
	jset_int(st, "boot_time", (long long)time(NULL));
	if (*jstr(st, "next_kernel")) {
		jset_str(st, "kernel", jstr(st, "next_kernel"));
		jset_str(st, "next_kernel", "");
	}
	built = jstr(json_object_get(st, "dkms"), jstr(st, "kernel"));
	jset_bool(st, "module_loaded", *built && !jtrue(st, "secure_boot"));
	if (*built)
		jset_str(st, "module_version", built);
	if (!persistent && *built)
		jset_str(st, "gsp_fw", built);
	json_array_foreach(json_object_get(st, "gpus"), i, g) {
		json_array_clear(json_object_get(g, "gis"));
		if (persistent)
			continue;
		jset_bool(g, "lost", false);
		lab_repair_on_reset(st, g);
		jset_int(g, "pcie_gen", 5);
		jset_int(g, "pcie_width", 16);
	}
	json_array_clear(json_object_get(st, "procs"));
	json_object_foreach(svc, k, v) {
		bool broken = false;
		json_t *b;
		size_t j;
		json_array_foreach(json_object_get(st, "broken_services"), j, b)
			broken |= !strcmp(json_string_value(b), k);
		if (!strcmp(k, "nvidia-fabricmanager") && strcmp(jstr(st, "fm_version"), jstr(st, "driver")))
			broken = true;
		jset_str(svc, k, broken ? "failed" : "active");
	}
	jset_bool(st, "powered_off", false);
	msg = xasprintf("Linux version %s (debian-kernel@lists.debian.org)", jstr(st, "kernel"));
	lab_log_kernel(st, (long long)time(NULL), msg);
	free(msg);
	return 0;
}

int
lab_reboot_node(const char *node_dir, const char *node, struct rbx_err *err)
{
	return lab_node_update(node_dir, node, do_reboot, NULL, err);
}

/* ---- the lab scheduler ---------------------------------------------------------- */

struct sched_lab {
	char *node_dir;
};

struct sched_op {
	const char *op;
	const char *reason;
};

static int
sched_apply(json_t *st, void *arg, struct rbx_err *err)
{
	struct sched_op *o = arg;
	json_t *s = json_object_get(st, "sched");

	(void)err;
	if (!strcmp(o->op, "cordon")) {
		json_object_set_new(s, "cordoned", json_true());
		json_object_set_new(s, "reason", json_string(o->reason));
	} else if (!strcmp(o->op, "drain")) {
		/* The lab's jobs requeue elsewhere as soon as the node drains. */
		json_object_set_new(s, "cordoned", json_true());
		json_object_set_new(s, "drained", json_true());
		json_object_set_new(s, "jobs", json_integer(0));
		json_object_set_new(s, "reason", json_string(o->reason));
	} else if (!strcmp(o->op, "uncordon")) {
		json_object_set_new(s, "cordoned", json_false());
		json_object_set_new(s, "drained", json_false());
		json_object_set_new(s, "reason", json_string(""));
	} else {
		json_object_set_new(s, "reason", json_string(o->reason));
	}
	json_array_append_new(json_object_get(s, "history"),
			      json_pack("{s:I, s:s, s:s}", "t", (json_int_t)time(NULL), "op", o->op,
					"reason", o->reason ? o->reason : ""));
	return 0;
}

/*
 * Test hook: with RBX_LAB_EXEC_LOG set, every command the lab runs and every
 * guard operation is appended there (JSON lines), the crash test's independent
 * record of what really ran. Lab only; commands are logged as given.
 */
static void
exec_log(const char *kind, const char *what)
{
	const char *path = getenv("RBX_LAB_EXEC_LOG");
	json_t *rec;
	char *line;
	int fd;

	if (!path || !*path)
		return;
	rec = json_pack("{s:s}", kind, what);
	line = json_dumps(rec, JSON_COMPACT);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0 && line) {
		struct buf b;
		buf_init(&b, 0);
		buf_adds(&b, line);
		buf_adds(&b, "\n");
		if (write(fd, b.data, b.len) < 0)
			fprintf(stderr, "rbx: cannot write %s: %s\n", path, strerror(errno));
		buf_release(&b);
	}
	if (fd >= 0)
		close(fd);
	free(line);
	json_decref(rec);
}

static int
lab_sched_state(struct sched *s, struct sched_state *out, struct rbx_err *err)
{
	struct sched_lab *l = s->priv;
	json_t *st = lab_node_load(l->node_dir, s->node, err), *sc;

	if (!st)
		return -1;
	sc = json_object_get(st, "sched");
	memset(out, 0, sizeof(*out));
	out->cordoned = json_is_true(json_object_get(sc, "cordoned"));
	out->drained = json_is_true(json_object_get(sc, "drained"));
	out->jobs = (int)json_integer_value(json_object_get(sc, "jobs"));
	snprintf(out->reason, sizeof(out->reason), "%s",
		 json_string_value(json_object_get(sc, "reason")));
	json_decref(st);
	return 0;
}

static int
lab_sched_op(struct sched *s, const char *op, const char *reason, struct rbx_err *err)
{
	struct sched_lab *l = s->priv;
	struct sched_op o = {op, reason};

	exec_log("sched", op);
	return lab_node_update(l->node_dir, s->node, sched_apply, &o, err);
}

static int
lab_cordon(struct sched *s, const char *reason, struct rbx_err *err)
{
	return lab_sched_op(s, "cordon", reason, err);
}

static int
lab_drain(struct sched *s, const char *reason, long long timeout_ms, struct rbx_err *err)
{
	(void)timeout_ms;
	return lab_sched_op(s, "drain", reason, err);
}

static int
lab_uncordon(struct sched *s, struct rbx_err *err)
{
	return lab_sched_op(s, "uncordon", "", err);
}

static int
lab_set_reason(struct sched *s, const char *reason, struct rbx_err *err)
{
	return lab_sched_op(s, "reason", reason, err);
}

static void
lab_sched_free(struct sched *s)
{
	struct sched_lab *l = s->priv;

	free(l->node_dir);
	free(l);
}

static const struct sched_ops lab_sched_ops = {
	"lab", lab_sched_state, lab_cordon, lab_drain, lab_uncordon, lab_set_reason, lab_sched_free,
	NULL,
};

struct sched *
sched_lab_new(const char *state_dir, const char *node)
{
	struct sched *s = xcalloc(1, sizeof(*s));
	struct sched_lab *l = xcalloc(1, sizeof(*l));

	l->node_dir = lab_node_dir(state_dir, node);
	s->ops = &lab_sched_ops;
	s->node = xstrdup(node);
	s->priv = l;
	return s;
}


/* ---- the lab transport --------------------------------------------------------- */

struct lab_tx {
	char *node;
	char *node_dir;
	char *work_dir;
	struct lab_sandbox *sandbox; /* Landlock, applied to each step (lab_sandbox_enter) */
	char **env;
};

static char *
find_in_path(const char *tool)
{
	static const char *const dirs[] = {"/usr/local/bin", "/usr/bin", "/bin", NULL};
	size_t i;

	for (i = 0; dirs[i]; i++) {
		char *p = xasprintf("%s/%s", dirs[i], tool);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

static char *
self_exe(struct rbx_err *err)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n < 0) {
		err_set(err, "cannot find rbx's own binary: %s", strerror(errno));
		return NULL;
	}
	buf[n] = 0;
	return xstrdup(buf);
}

static int
link_tool(const char *target, const char *bin, const char *name, struct rbx_err *err)
{
	char *p = xasprintf("%s/%s", bin, name);
	int r = 0;

	if (symlink(target, p) < 0 && errno != EEXIST)
		r = err_set(err, "cannot make %s: %s", p, strerror(errno));
	free(p);
	return r;
}

/* The lab's PATH: simulated tools and refusals point at rbx, text tools at the host's. */
static char *
make_bin_dir(const char *state_dir, const char *run_id, struct rbx_err *err)
{
	char *bin = xasprintf("%s/lab/runs/%s/bin", state_dir, run_id), *self = NULL;
	size_t i;

	if (util_mkdir_p(bin, 0700, err) < 0 || !(self = self_exe(err)))
		goto fail;
	for (i = 0; lab_tools_table[i].name; i++)
		if (link_tool(self, bin, lab_tools_table[i].name, err) < 0)
			goto fail;
	for (i = 0; lab_refused[i]; i++)
		if (link_tool(self, bin, lab_refused[i], err) < 0)
			goto fail;
	for (i = 0; lab_allowed[i]; i++) {
		char *real = find_in_path(lab_allowed[i]);
		int r = real ? link_tool(real, bin, lab_allowed[i], err) : 0;
		free(real);
		if (r < 0)
			goto fail;
	}
	free(self);
	return bin;
fail:
	free(self);
	free(bin);
	return NULL;
}

/*
 * The training job's files in the node's home, as a crash left them: a log up
 * to step 3050 and checkpoints at 1000 and 2000 (complete: eight shards and
 * the .metadata marker) and 3000 (torn: the crash hit during the save).
 */
static double
train_loss(long step)
{
	return 1.9 + 6.0 / sqrt((double)step) + 0.002 * (double)((step * 7919) % 5);
}

void
lab_train_append(FILE *fp, long from, long to, double jump)
{
	long s;

	for (s = from; s <= to; s++)
		fprintf(fp, "step %ld loss %.4f lr %.3e tokens_per_sec 135200\n", s, train_loss(s) + jump,
			3e-4 * (1.0 - (double)s / 100000.0));
}

static void
write_fixtures(const char *home)
{
	static const long steps[] = {1000, 2000, 3000};
	char *dir = xasprintf("%s/jobs/llm-7b", home), *log = xasprintf("%s/train.log", dir);
	struct rbx_err err;
	FILE *fp;
	size_t i;
	int r;

	if (access(log, F_OK) == 0 || util_mkdir_p(dir, 0700, &err) < 0)
		goto out;
	for (i = 0; i < 3; i++) {
		char *ck = xasprintf("%s/ckpt/step_%ld", dir, steps[i]);
		int shards = steps[i] == 3000 ? 5 : 8;
		util_mkdir_p(ck, 0700, &err);
		for (r = 0; r < shards; r++) {
			char *f = xasprintf("%s/__%d_0.distcp", ck, r);
			FILE *sf = fopen(f, "w");
			if (sf) {
				fprintf(sf, "shard %d of step %ld\n", r, steps[i]);
				fclose(sf);
			}
			free(f);
		}
		if (shards == 8) {
			char *f = xasprintf("%s/.metadata", ck);
			FILE *mf = fopen(f, "w");
			if (mf) {
				fprintf(mf, "{\"world_size\": 8, \"step\": %ld}\n", steps[i]);
				fclose(mf);
			}
			free(f);
		}
		free(ck);
	}
	fp = fopen(log, "w");
	if (fp) {
		lab_train_append(fp, 1, 3050, 0);
		fprintf(fp, "[rank3]: RuntimeError: NCCL communicator was aborted on rank 3.\n");
		fclose(fp);
	}
out:
	free(dir);
	free(log);
}

static int
lab_tx_exec(struct transport *t, const char *cmd, const struct exec_opts *o,
	    struct exec_result *r, struct rbx_err *err)
{
	struct lab_tx *l = t->priv;
	struct exec_opts lo = *o;

	if (lab_check_command(cmd, err) < 0)
		return -1;
	exec_log("exec", cmd);
	lo.cwd = l->work_dir;
	lo.env = l->env;
	lo.confine = lab_sandbox_enter;
	lo.confine_arg = l->sandbox;
	return exec_local_run(cmd, &lo, r, err);
}

static int
lab_tx_reboot(struct transport *t, long long timeout_ms, struct rbx_err *err)
{
	struct lab_tx *l = t->priv;

	(void)timeout_ms;
	exec_log("exec", "reboot");
	return lab_reboot_node(l->node_dir, l->node, err);
}

static int
lab_tx_wait_up(struct transport *t, long long timeout_ms, struct rbx_err *err)
{
	(void)t;
	(void)timeout_ms;
	(void)err;
	return 0;
}

static void
lab_tx_free(struct transport *t)
{
	struct lab_tx *l = t->priv;
	size_t i;

	for (i = 0; l->env && l->env[i]; i++)
		free(l->env[i]);
	free(l->env);
	free(l->node);
	free(l->node_dir);
	lab_sandbox_free(l->sandbox);
	free(l->work_dir);
	free(l);
}

/* A sanitizer build of the simulated tools reads its settings from these; nothing secret. */
static void
pass_sanitizer_env(char **env, size_t at)
{
	static const char *const names[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", NULL};
	size_t i;

	for (i = 0; names[i]; i++) {
		const char *v = getenv(names[i]);
		if (v)
			env[at++] = xasprintf("%s=%s", names[i], v);
	}
}

static const struct transport_ops lab_tx_ops = {
	"lab", NULL, lab_tx_exec, lab_tx_reboot, lab_tx_wait_up, lab_tx_free, NULL,
};

struct transport *
lab_transport_new(const char *state_dir, const char *node, const char *run_id,
		  const char *scratch, struct rbx_err *err)
{
	struct transport *t;
	struct lab_tx *l;
	char *bin = xasprintf("%s/lab/runs/%s/bin", state_dir, run_id);
	const char *tz = getenv("TZ");

	if (access(bin, X_OK) != 0) {
		free(bin);
		bin = make_bin_dir(state_dir, run_id, err);
		if (!bin)
			return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->node = xstrdup(node);
	l->node_dir = lab_node_dir(state_dir, node);
	l->work_dir = xasprintf("%s/%s", l->node_dir, scratch);
	if (util_mkdir_p(l->work_dir, 0700, err) < 0) {
		free(bin);
		lab_tx_free(&(struct transport){&lab_tx_ops, NULL, l});
		return NULL;
	}
	if (!strcmp(scratch, "scratch"))
		write_fixtures(l->work_dir);
	l->sandbox = lab_sandbox_new(bin, l->node_dir);
	/* A clean environment: nothing of the operator's (tokens, proxies) reaches the lab. */
	l->env = xcalloc(12, sizeof(char *));
	l->env[0] = xasprintf("PATH=%s", bin);

	l->env[1] = xasprintf("HOME=%s", l->work_dir);
	l->env[2] = xasprintf("%s=%s", LAB_ENV_STATE, l->node_dir);
	l->env[3] = xasprintf("RBX_LAB_NODE=%s", node);
	l->env[4] = xstrdup("LC_ALL=C");
	l->env[5] = xasprintf("TZ=%s", tz && *tz ? tz : "UTC");
	pass_sanitizer_env(l->env, 6);
	free(bin);
	t = xcalloc(1, sizeof(*t));
	t->ops = &lab_tx_ops;
	t->address = xasprintf("lab:%s", node);
	t->priv = l;
	return t;
}

void
lab_cleanup_run(const char *state_dir, const char *run_id)
{
	char *dir;

	if (!journal_valid_run_id(run_id))
		return;
	dir = xasprintf("%s/lab/runs/%s", state_dir, run_id);
	util_rm_rf(dir);
	free(dir);
}

int
lab_check_command(const char *cmd, struct rbx_err *err)
{
	const char *p = cmd;

	/* A word that starts with '/' and names an executable would bypass the lab's PATH. */
	while (*p) {
		size_t n;
		char *word;
		struct stat sb;

		while (*p && strchr(" \t\n;|&()`'\"<>=", *p))
			p++;
		n = strcspn(p, " \t\n;|&()`'\"<>");
		if (n && *p == '/') {
			word = xstrndup(p, n);
			if (stat(word, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 0111)) {
				err_set(err, "'%s' names a real program; the lab runs only its simulated "
					     "tools (use the bare name)",
					word);
				free(word);
				return -1;
			}
			free(word);
		}
		p += n;
	}
	return 0;
}

