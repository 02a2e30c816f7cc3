/* lab.c - the simulated GPU node's state (a JSON file per node) and its faults; the
 * lab's scheduler and transport are in lab_transport.c. Nothing here leaves the state dir. */
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

/* Commands the catalogue uses that the lab must refuse loudly rather than run. */
const char *const lab_refused[] = {
	"reboot", "shutdown", "poweroff", "halt", "apt", "dpkg", "insmod", "wget", "ssh", "scp",
	"rsync", "nc", "ip", "iptables", "mount", "umount", "dd", "rm", "mv", "chmod", "chown",
	"pkill", "env", "sudo", "su", "bash", "python3", "perl", "grub-set-default",
	"srun", "mpirun", "py-spy", NULL,
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
	} else if (json_integer_value(json_object_get(st, "format")) != LAB_STATE_FORMAT) {
		/* Format 3 gave packages their Debian revisions, 5 GRUB's next entry as written:
		 * an older node would mislead. */
		err_set(err, "%s: lab node %s was made by an older rbx; 'rbx lab reset %s' starts "
			     "afresh", path, node, node);
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
		err_sys(err, "cannot lock %s: %s", lock, strerror(errno));
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
show_text(json_t *st, struct buf *out)
{
	json_t *sched = json_object_get(st, "sched"), *g, *e;
	const char *reason = jstr(sched, "reason");
	size_t i;

	buf_addf(out, "lab node %s (simulated): %s x%zu, driver %s (module %s%s), kernel %s, boot %lld\n",
		jstr(st, "node"), jstr(st, "model"), json_array_size(json_object_get(st, "gpus")),
		jstr(st, "driver"), jtrue(st, "module_loaded") ? jstr(st, "module_version") : "not loaded",
		"", jstr(st, "kernel"), jint(st, "boot"));
	buf_addf(out, "scheduler: %s%s%s%s\n",
		jtrue(sched, "drained")    ? "drained"
		: jtrue(sched, "cordoned") ? "cordoned"
					   : "in service",
		*reason ? " (" : "", reason, *reason ? ")" : "");
	buf_addf(out, "dcgm diag: %s%s; fabric manager %s %s\n", jstr(st, "dcgm"),
		jtrue(st, "persistent") ? "; faults are persistent" : "",
		jstr(json_object_get(st, "services"), "nvidia-fabricmanager"), jstr(st, "fm_version"));
	json_array_foreach(json_object_get(st, "gpus"), i, g)
		buf_addf(out, "  GPU %zu  %s:00.0  %s\n", i, jstr(g, "bus"), gpu_health(g));
	json_array_foreach(json_object_get(sched, "history"), i, e)
		buf_addf(out, "  scheduler: %s %s\n", jstr(e, "op"), jstr(e, "reason"));
}

int
lab_show(const char *state_dir, const char *node, bool json, struct buf *out, struct rbx_err *err)
{
	char *dir = lab_node_dir(state_dir, node);
	json_t *st = lab_node_load(dir, node, err);

	free(dir);
	if (!st)
		return -1;
	if (json) {
		char *text = json_dumps(st, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		buf_adds(out, text ? text : "");
		buf_adds(out, "\n");
		free(text);
	} else {
		show_text(st, out);
	}
	json_decref(st);
	return 0;
}

/* A restart: the next kernel boots, the module DKMS built for it loads, services start,
 * and what a power cycle clears is cleared, unless the fault is persistent. */
void
lab_boot(json_t *st)
{
	bool persistent = jtrue(st, "persistent");
	json_t *g, *svc = json_object_get(st, "services"), *v;
	const char *k, *built;
	size_t i;
	char *msg;

	jset_int(st, "boot", jint(st, "boot") + 1);
	jset_int(st, "boot_time", lab_now(st));
	/* GRUB boots grub-reboot's entry once if it names one, else its first entry: the
	 * newest kernel. A name that matches nothing boots the default without a word. */
	k = lab_grub_entry_kernel(st, jstr(st, "next_entry"));
	jset_str(st, "kernel", k ? k : lab_grub_default(st));
	jset_str(st, "next_entry", "");
	built = jstr(json_object_get(st, "dkms"), jstr(st, "kernel"));
	jset_bool(st, "module_loaded", *built && (!jtrue(st, "secure_boot") || jtrue(st, "module_signed")));
	if (*built)
		jset_str(st, "module_version", built);
	if (!persistent && *built)
		jset_str(st, "gsp_fw", built);
	lab_gsp_check(st);
	json_array_foreach(json_object_get(st, "gpus"), i, g) {
		json_array_clear(json_object_get(g, "gis"));
		/* A pending ECC mode takes effect at boot, and only then (NVML's nvmlDeviceSetEccMode). */
		json_object_set(g, "ecc_mode", json_object_get(g, "ecc_pending"));
		if (persistent)
			continue;
		jset_bool(g, "lost", false);
		jset_bool(g, "needs_reboot", false);
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
		/* Fabric Manager fails on a driver it does not match, and where no NVSwitch is. */
		if (!strcmp(k, "nvidia-fabricmanager") &&
		    (strcmp(jstr(st, "fm_version"), jstr(st, "driver")) || !jtrue(st, "nvswitch")))
			broken = true;
		jset_str(svc, k, broken ? "failed" : "active");
	}
	jset_bool(st, "powered_off", false);
	msg = xasprintf("Linux version %s (debian-kernel@lists.debian.org)", jstr(st, "kernel"));
	lab_log_kernel(st, lab_now(st), msg);
	free(msg);
}

static int
do_reboot(json_t *st, void *arg, struct rbx_err *err)
{
	(void)arg;
	(void)err;
	lab_boot(st);
	return 0;
}

int
lab_reboot_node(const char *node_dir, const char *node, struct rbx_err *err)
{
	return lab_node_update(node_dir, node, do_reboot, NULL, err);
}
