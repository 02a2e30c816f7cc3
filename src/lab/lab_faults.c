/* lab_faults.c - what `rbx lab inject` can break on a simulated node, as a table of
 * faults, each a function that changes the node's state the way the real fault does. */
#define _GNU_SOURCE
#include "lab/lab.h"

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

#include "io/journal.h"

#include "lab/lab_internal.h"


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

/*
 * The same XID injected again on the same GPU is a repeat: the earlier one happened
 * an hour before (a repeat is a new event, not one burst of lines).
 */
static void
earlier_repeats(struct fault_ctx *f, long xid)
{
	char *key = xasprintf("(PCI:0000:%s:00): %ld,", jstr(f->gpu, "bus"), xid);
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(f->st, "kernel_log"), i, e)
		if (strstr(jstr(e, "msg"), key))
			json_object_set_new(e, "t", json_integer(jint(e, "t") - 3600));
	free(key);
}

static int
f_xid(struct fault_ctx *f)
{
	long xid = strtol(f->val, NULL, 10);
	char *msg;

	if (xid <= 0 || xid > 200)
		return err_set(f->err, "xid=%s: an XID is a number from 1 to 200", f->val);
	earlier_repeats(f, xid);
	msg = xasprintf("NVRM: Xid (PCI:0000:%s:00): %ld, pid=%ld, name=python3, %s",
			jstr(f->gpu, "bus"), xid, 20000 + f->gpu_index * 17, xid_text((int)xid));
	/* An injected fault happened a minute ago: alerts fire after the event. */
	lab_log_kernel(f->st, lab_now(f->st) - 60, msg);
	free(msg);
	if (xid == 48 || xid == 94 || xid == 95) {
		/* The job's channels are torn down after a memory error: the driver logs XID 45
		 * for them, naming the XID that caused it (as driver 590 prints it), after it. */
		msg = xasprintf("NVRM: Xid (PCI:0000:%s:00): 45, pid=%ld, name=python3, Ch 00000008 "
				"caused by previous Xid %ld",
				jstr(f->gpu, "bus"), 20000 + f->gpu_index * 17, xid);
		lab_log_kernel(f->st, lab_now(f->st) - 59, msg);
		free(msg);
	}
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

/*
 * XID 154: the driver states the recovery the GPU needs. The wording follows NVIDIA's
 * XID catalogue ("GPU recovery action changed from ... to ... (Node Reboot Required)");
 * no capture of it is kept yet, so the runbook reads only the action's name.
 */
static int
f_recovery(struct fault_ctx *f)
{
	char *msg;

	bool reboot = !strcmp(f->val, "reboot") || !strcmp(f->val, "os-reboot");

	if (!reboot && strcmp(f->val, "reset"))
		return err_set(f->err, "recovery=%s: use recovery=reboot, os-reboot or reset", f->val);
	/* os-reboot: the wording later drivers print for the same action ("0x2 (OS Reboot)"). */
	msg = xasprintf("NVRM: Xid (PCI:0000:%s:00): 154, GPU recovery action changed from 0x0 "
			"(None) to %s", jstr(f->gpu, "bus"),
			!strcmp(f->val, "reboot")	 ? "0x2 (Node Reboot Required)"
			: !strcmp(f->val, "os-reboot") ? "0x2 (OS Reboot)"
							 : "0x1 (GPU Reset Required)");
	lab_log_kernel(f->st, lab_now(f->st) - 58, msg);
	free(msg);
	/* A GPU that needs the node rebooted is not recovered by a reset. */
	if (reboot)
		jset_bool(f->gpu, "needs_reboot", true);
	return 0;
}

/* The node rebooted by itself (a crash, a power event): what it logged before is an earlier boot. */
static int
f_rebooted(struct fault_ctx *f)
{
	lab_boot(f->st);
	return 0;
}

/* GPUDirect RDMA: nvidia_peermem is loaded and uses nvidia. */
static int
f_peermem(struct fault_ctx *f)
{
	jset_bool(f->st, "peermem", !strcmp(f->val, "loaded"));
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
f_module(struct fault_ctx *f)
{
	if (!strcmp(f->val, "unloaded")) {
		jset_bool(f->st, "module_loaded", false);
		lab_log_kernel(f->st, lab_now(f->st) - 60,
			       "NVRM: RmInitAdapter failed! (0x22:0x56:667)");
	} else if (!strcmp(f->val, "mismatch")) {
		/* The libraries were upgraded under a loaded module, with no reboot. */
		jset_str(f->st, "module_version", "550.54.15");
		lab_log_kernel(f->st, lab_now(f->st) - 60,
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
	/* on: the module is unsigned and rejected; signed: DKMS signed it with an enrolled key. */
	if (strcmp(f->val, "on") && strcmp(f->val, "signed") && strcmp(f->val, "off"))
		return err_set(f->err, "secureboot=%s: use on, signed or off", f->val);
	jset_bool(f->st, "secure_boot", strcmp(f->val, "off") != 0);
	jset_bool(f->st, "module_signed", !strcmp(f->val, "signed"));
	return 0;
}

/* Ubuntu's GRUB titles its entries "Ubuntu, with Linux ..." under "Advanced options for Ubuntu". */
static int
f_distro(struct fault_ctx *f)
{
	if (strcmp(f->val, "ubuntu"))
		return err_set(f->err, "distro=%s: use distro=ubuntu", f->val);
	jset_str(f->st, "distro", "Ubuntu");
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
	jset_str(json_object_get(f->st, "packages"), "linux-headers-6.1.0-28-amd64", "6.1.119-1");
	return 0;
}

/* The running kernel's headers are not installed (the image came without its headers package). */
static int
f_headers(struct fault_ctx *f)
{
	char *pkg = xasprintf("linux-headers-%s", jstr(f->st, "kernel"));

	if (strcmp(f->val, "missing")) {
		free(pkg);
		return err_set(f->err, "headers=%s: use headers=missing", f->val);
	}
	json_object_del(json_object_get(f->st, "packages"), pkg);
	json_object_set_new(json_object_get(f->st, "repo"), pkg, json_pack("[s]", "6.1.119-1"));
	free(pkg);
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
	json_t *pk = json_object_get(f->st, "packages");

	if (!strcmp(f->val, "missing")) {
		/* The firmware package stayed at the old release while the driver moved on. */
		jset_str(pk, "firmware-nvidia-gsp", "550.54.15-1");
	} else if (!strcmp(f->val, "stale-module")) {
		/* Libraries and firmware moved on; DKMS never rebuilt the module, which loads
		 * and asks for its own (old) release's firmware. */
		jset_str(json_object_get(f->st, "dkms"), jstr(f->st, "kernel"), "550.54.15");
		jset_str(f->st, "module_version", "550.54.15");
	} else {
		return err_set(f->err, "gsp=%s: use gsp=missing or stale-module", f->val);
	}
	lab_gsp_check(f->st);
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
	/* The daemon runs, but its packaged unit passes --no-persistence-mode. */
	if (!strcmp(f->val, "no-pm-unit")) {
		jset_bool(f->st, "persistenced_no_pm", true);
		json_object_del(f->st, "persistence_mode");
		return 0;
	}
	if (f_service_state(f, "nvidia-persistenced") == -2)
		return err_set(f->err, "persistence=%s: use off, broken or no-pm-unit", f->val);
	if (!strcmp(f->val, "broken"))
		jset_str(service(f->st), "nvidia-persistenced", "failed");
	json_object_del(f->st, "persistence_mode");
	return 0;
}

static int
f_fm(struct fault_ctx *f)
{
	if (!strcmp(f->val, "mismatch")) {
		jset_str(f->st, "fm_version", "550.54.15");
		jset_str(json_object_get(f->st, "packages"), "nvidia-fabricmanager-550", "550.54.15-1");
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

/* The HBM runs hot while the core does not (its own limit: 95 C on an H100's -q). */
static int
f_memtemp(struct fault_ctx *f)
{
	long t = strtol(f->val, NULL, 10);

	if (t < 20 || t > 120)
		return err_set(f->err, "memtemp=%s: a temperature in C from 20 to 120", f->val);
	jset_int(f->gpu, "mem_temp", t);
	return 0;
}

static int
f_cooling(struct fault_ctx *f)
{
	/* failed: the node's own fans (its exhaust runs hot); room: the hall's air is hot. */
	if (!strcmp(f->val, "room")) {
		jset_bool(f->st, "room_hot", true);
		jset_bool(f->st, "cooling_failed", true); /* no cap cools GPUs fed hot air */
		return 0;
	}
	if (strcmp(f->val, "failed"))
		return err_set(f->err, "cooling=%s: use cooling=failed or cooling=room", f->val);
	jset_bool(f->st, "cooling_failed", true);
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
	if (strcmp(f->val, "stale") && strcmp(f->val, "managed"))
		return err_set(f->err, "mig=%s: use mig=stale, managed or busy", f->val);
	/* The GPU Operator's MIG manager owns MIG here, and its last apply failed. */
	if (!strcmp(f->val, "managed")) {
		jset_bool(f->st, "mig_manager", true);
		jset_str(json_object_get(f->st, "labels"), "nvidia.com/mig.config.state", "failed");
	}
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

	if (strcmp(f->val, "errors") && strcmp(f->val, "old-errors"))
		return err_set(f->err, "ib=%s: use ib=errors or ib=old-errors", f->val);
	/* Lifetime counts; errors keep rising, old-errors stopped long ago (a reseated cable). */
	jset_int(ib, "symbol_errors", 18342);
	jset_int(ib, "link_downed", 3);
	jset_int(ib, "rcv_errors", 511);
	jset_bool(ib, "rising", !strcmp(f->val, "errors"));
	jset_int(ib, "t0", lab_now(f->st));
	return 0;
}

static int
f_nvlink(struct fault_ctx *f)
{
	/* flaky: the links stay up, but every transfer over them adds CRC and replay errors. */
	if (strcmp(f->val, "down") && strcmp(f->val, "flaky"))
		return err_set(f->err, "nvlink=%s: use nvlink=down or nvlink=flaky", f->val);
	jset_bool(f->gpu, !strcmp(f->val, "down") ? "nvlink_down" : "nvlink_flaky", true);
	return 0;
}

static int
f_pcie(struct fault_ctx *f)
{
	if (strcmp(f->val, "downtrained") && strcmp(f->val, "gen4"))
		return err_set(f->err, "pcie=%s: use pcie=downtrained or gen4", f->val);
	/* gen4: the full width, one generation short, which only a load shows. */
	jset_int(f->gpu, "pcie_gen", 4);
	jset_int(f->gpu, "pcie_width", strcmp(f->val, "gen4") ? 8 : 16);
	return 0;
}

static int
f_acs(struct fault_ctx *f)
{
	jset_bool(f->st, "acs", !strcmp(f->val, "on"));
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

/*
 * A process that opens every GPU through NVML without a compute context, as the
 * dcgm-exporter pod of a Kubernetes DaemonSet does: a drain leaves it running.
 */
static int
f_holder(struct fault_ctx *f)
{
	if (strcmp(f->val, "exporter"))
		return err_set(f->err, "holder=%s: use holder=exporter", f->val);
	json_array_append_new(json_object_get(f->st, "procs"),
			      json_pack("{s:I, s:I, s:s, s:i, s:b, s:b}", "pid", (json_int_t)52117, "gpu",
					(json_int_t)-1, "name", "dcgm-exporter", "mem", 0, "unkillable", 0,
					"nvml", 1));
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
f_drift(struct fault_ctx *f)
{
	json_t *pk = json_object_get(f->st, "packages");

	if (strcmp(f->val, "driver"))
		return err_set(f->err, "drift=%s: use drift=driver", f->val);
	/* An older driver than the golden image: a node that missed the last rollout. */
	jset_str(pk, "nvidia-driver-550", "550.54.15-1");
	jset_str(pk, "libnvidia-compute-550", "550.54.15-1");
	jset_str(pk, "firmware-nvidia-gsp", "550.54.15-1");
	jset_str(f->st, "driver", "550.54.15");
	jset_str(f->st, "module_version", "550.54.15");
	jset_str(f->st, "gsp_fw", "550.54.15");
	jset_str(json_object_get(f->st, "dkms"), jstr(f->st, "kernel"), "550.54.15");
	return 0;
}

/*
 * type=pcie-h100: H100 PCIe cards, no NVSwitch, so no Fabric Manager installed or
 * running (it would fail with NV_WARN_NOTHING_TO_DO: tests/fixtures/real); type=hgx-h100
 * is the default, an HGX board with NVSwitches.
 */
static int
f_type(struct fault_ctx *f)
{
	json_t *g;
	size_t i;

	if (!strcmp(f->val, "hgx-h100"))
		return 0;
	if (strcmp(f->val, "pcie-h100"))
		return err_set(f->err, "type=%s: use type=hgx-h100 or type=pcie-h100", f->val);
	jset_str(f->st, "node_type", f->val);
	jset_bool(f->st, "nvswitch", false);
	json_object_del(json_object_get(f->st, "services"), "nvidia-fabricmanager");
	json_object_del(json_object_get(f->st, "packages"), "nvidia-fabricmanager-550");
	jset_str(f->st, "fm_version", "");
	/* A 350 W card (NVIDIA's H100 PCIe product brief: 300-350 W, configurable). */
	json_array_foreach(json_object_get(f->st, "gpus"), i, g) {
		jset_int(g, "power_limit", 350);
		jset_int(g, "default_power_limit", 350);
		jset_int(g, "max_power_limit", 350);
	}
	return 0;
}

static int
f_apt(struct fault_ctx *f)
{
	jset_bool(f->st, "apt_broken", !strcmp(f->val, "fail"));
	return 0;
}

static const struct fault {
	const char *key;
	int (*apply)(struct fault_ctx *f);
	const char *help;
} faults[] = {
	{"xid", f_xid, "xid=N [gpu=I]        an XID in the kernel log (79: off the bus; 48/63/94/95/140: "
		       "remap pending; 64: remap failed; 74: NVLink down)"},
	{"recovery", f_recovery, "recovery=reboot|os-reboot|reset [gpu=I]   XID 154: the driver says the GPU needs the "
				 "node rebooted (in an older or a newer driver's words), or a reset"},
	{"rebooted", f_rebooted, "rebooted             the node rebooted by itself since (what it logged is an earlier boot)"},
	{"peermem", f_peermem, "peermem=loaded       nvidia_peermem (GPUDirect RDMA) is loaded and holds nvidia"},
	{"dcgm", f_dcgm, "dcgm=fail|pass       the DCGM diagnostic fails under stress (or passes again)"},
	{"remap", f_remap, "remap=pending|failed [gpu=I]"},
	{"persistent", f_persistent, "persistent           faults survive GPU resets, restarts and repairs (hardware)"},
	{"drained", f_drained, "drained=REASON       someone else drained the node"},
	{"jobs", f_jobs, "jobs=N               work running on the node"},
	{"module", f_module, "module=unloaded|mismatch   the nvidia module is not loaded, or older than its libraries"},
	{"secureboot", f_secureboot, "secureboot=on|signed   Secure Boot rejects the unsigned module; or it is signed and loads"},
	{"distro", f_distro, "distro=ubuntu        GRUB's menu titles are Ubuntu's, not Debian's"},
	{"kernel", f_kernel, "kernel=new           booted a new kernel with no nvidia module built for it"},
	{"headers", f_headers, "headers=missing      the running kernel's headers are not installed (DKMS cannot build)"},
	{"dkms", f_dkms, "dkms=fail            DKMS cannot build the module"},
	{"gsp", f_gsp, "gsp=missing|stale-module   the GSP firmware of the module's release is not installed; or "
		     "the module is older than libraries and firmware: no GPU initialises"},
	{"persistence", f_persistence, "persistence=off|broken|no-pm-unit   nvidia-persistenced stopped; cannot start; or runs "
		      "with --no-persistence-mode (Ubuntu's packaged unit)"},
	{"fm", f_fm, "fm=down|mismatch|broken   Fabric Manager stopped, a version behind the driver, or failing"},
	{"ecc", f_ecc, "ecc=off [gpu=I]      ECC turned off"},
	{"temp", f_temp, "temp=C [gpu=I]       a GPU running hot (89 C slows down, 92 C shuts down)"},
	{"memtemp", f_memtemp, "memtemp=C [gpu=I]    the GPU's memory (HBM) running hot while its core is not"},
	{"cooling", f_cooling, "cooling=failed|room  a fan or the CDU is out; or the hall's air is hot: capping power "
			   "does not cool"},
	{"mig", f_mig, "mig=stale|managed|busy [gpu=I]   leftover MIG instances; the same where the GPU "
		       "Operator's MIG manager owns MIG and failed; or instances held by a client"},
	{"ib", f_ib, "ib=errors|old-errors   InfiniBand errors that keep rising (a straggler); or lifetime counts "
		     "from long ago"},
	{"nvlink", f_nvlink, "nvlink=down|flaky [gpu=I]  NVLinks inactive; or up, with errors that rise under traffic"},
	{"pcie", f_pcie, "pcie=downtrained|gen4 [gpu=I]   link trained at Gen4 x8; or at Gen4 x16"},
	{"acs", f_acs, "acs=on               PCIe ACS redirection on the switches"},
	{"plugin", f_plugin, "plugin=N|crashloop   the device plugin advertises only N GPUs; once restarted, never registers again"},
	{"slurm", f_slurm, "slurm=down           the Slurm controller does not answer"},
	{"label", f_label, "label=wrong|missing|forbidden   the node's spine label is wrong; absent; or rbx may not label nodes"},
	{"stale_procs", f_stale_procs, "stale_procs=N [gpu=I]   processes of a dead job holding GPU memory"},
	{"job_procs", f_job_procs, "job_procs=N [gpu=I]  live ranks of the running job (job=here) on a GPU"},
	{"holder", f_holder, "holder=exporter      a DaemonSet's dcgm-exporter holds every GPU open (a drain leaves it)"},
	{"proc", f_proc, "proc=unkillable      those processes cannot be killed (stuck in the driver)"},
	{"clocks", f_clocks, "clocks=low           GPU clocks locked at 1100 MHz"},
	{"throttle", f_throttle, "throttle=thermal     the GPUs throttle for heat"},
	{"loss", f_loss, "loss=diverge         the loss jumps after a resume"},
	{"slo", f_slo, "slo=bad-deploy|capacity   a bad serving revision; or too few replicas"},
	{"deploy", f_deploy, "deploy=stuck         a rollout never finishes"},
	{"kv", f_kv, "kv=pressure          the KV cache is full and requests are preempted"},
	{"vllm", f_vllm, "vllm=old|absent      a vLLM from before 2025's rename (gpu_cache_usage_perc only); or no vLLM "
		       "series in Prometheus at all"},
	{"bmc", f_bmc, "bmc=hung|misconfigured|dhcp-lost|dead   the BMC hangs; lost its LAN config; its DHCP "
		      "address; or is dead"},
	{"drift", f_drift, "drift=driver         the node runs an older driver than the golden image"},
	{"apt", f_apt, "apt=fail             package installs fail"},
	{"type", f_type, "type=pcie-h100       H100 PCIe cards without NVSwitch or Fabric Manager (default: hgx-h100)"},
	{"job", f_job, "job=gone|pinned|here|unkillable|requeued|pending the training job no longer exists; cannot "
		      "be requeued; runs on this node (a drain waits for it); never leaves it (its processes "
		      "cannot be killed); was requeued just now or a minute ago"},
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

	return lab_faults_apply(st, a->n, a->faults, err);
}

int
lab_faults_apply(json_t *st, int n, char **given, struct rbx_err *err)
{
	struct inject_args args = {n, given}, *a = &args;
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
