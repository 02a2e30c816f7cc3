/* lab.c - the simulated GPU node's state (a JSON file per node), faults, the lab
 * scheduler and the lab transport. Nothing here reaches outside the state dir. */
#define _GNU_SOURCE
#include "rbx/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rbx/journal.h"

#define LAB_NGPUS 8

static const char *const bus_ids[LAB_NGPUS] = {"18", "2a", "3a", "5d", "9a", "ab", "ba", "db"};

/* Simulated tools, and commands the catalogue uses that the lab must refuse loudly. */
static const char *const lab_tools[] = {
	"nvidia-smi", "dcgmi", "journalctl", "dmesg", "nvidia-bug-report.sh", "systemctl", NULL,
};
static const char *const lab_refused[] = {
	"reboot", "shutdown", "poweroff", "halt", "apt-get", "apt", "dpkg", "modprobe", "rmmod",
	"insmod", "kubectl", "scontrol", "sinfo", "squeue", "ipmitool", "curl", "wget", "ssh",
	"scp", "rsync", "nc", "ip", "iptables", "mount", "umount", "dd", "rm", "mv", "chmod",
	"chown", "kill", "pkill", "env", "sudo", "su", "bash", "python3", "perl", NULL,
};
/* Harmless text tools from the host, by their real paths. */
static const char *const lab_allowed[] = {
	"grep", "sed", "awk", "cut", "head", "tail", "sort", "uniq", "tr", "wc", "cat", "printf",
	"echo", "test", "[", "date", "sleep", "true", "false", "seq", "basename", "dirname",
	"tee", "expr", "xargs", NULL,
};

const char lab_fault_help[] =
	"  xid=N [gpu=I]       an XID in the kernel log (79: the GPU falls off the bus;\n"
	"                      48, 63, 94, 95, 140: a row remap waits for a reset; 64: remap failed)\n"
	"  dcgm=fail|pass      the DCGM diagnostic fails (or passes again)\n"
	"  remap=pending|failed [gpu=I]\n"
	"  persistent          faults survive GPU resets and reboots (a hardware fault)\n"
	"  drained=REASON      someone else drained the node in the scheduler\n"
	"  jobs=N              work running on the node (a drain waits for it)\n";

char *
lab_node_dir(const char *state_dir, const char *node)
{
	return xasprintf("%s/lab/nodes/%s", state_dir, node);
}

static json_t *
new_gpu(const char *node, int i)
{
	unsigned h = 2166136261u;
	const char *p;
	char serial[32], uuid[64];

	for (p = node; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(serial, sizeof(serial), "1654923%06u", (h % 100000u) * 10 + (unsigned)i);
	snprintf(uuid, sizeof(uuid), "GPU-%08x-%04x-%04x-%04x-%08x%04x", h, (unsigned)i * 0x1111,
		 0x4a2b, 0x8c3d, h ^ 0x5a5a5a5au, (unsigned)i);
	return json_pack("{s:i, s:s, s:s, s:s, s:i, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:i, s:i}",
			 "index", i, "bus", bus_ids[i], "serial", serial, "uuid", uuid, "temp",
			 31 + (i * 3) % 7, "lost", 0, "remap_pending", 0, "remap_failed", 0,
			 "remap_corr", 0, "remap_uncorr", 0, "ecc_mode", "Enabled", "ecc_pending",
			 "Enabled", "sbe", 0, "dbe", 0);
}

static json_t *
new_node(const char *node)
{
	json_t *st, *gpus = json_array();
	int i;

	for (i = 0; i < LAB_NGPUS; i++)
		json_array_append_new(gpus, new_gpu(node, i));
	st = json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:o, s:b, s:s, s:{s:s, s:s, s:s},"
		       " s:[], s:{s:b, s:b, s:s, s:i, s:[]}}",
		       "node", node, "format", 1, "boot", 1, "model", "NVIDIA H100 80GB HBM3",
		       "driver", "550.90.07", "cuda", "12.4", "kernel", "6.1.0-27-amd64", "gpus",
		       gpus, "persistent", 0, "dcgm", "pass", "services", "nvidia-persistenced",
		       "active", "nvidia-dcgm", "active", "nvidia-fabricmanager", "active",
		       "kernel_log", "sched", "cordoned", 0, "drained", 0, "reason", "", "jobs", 0,
		       "history");
	json_object_set_new(st, "boot_time", json_integer((json_int_t)time(NULL) - 86400));
	return st;
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
		st = new_node(node);
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

struct inject_args {
	int n;
	char **faults;
};

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
	case 79: return "GPU has fallen off the bus.";
	case 92: return "High single-bit ECC error rate";
	case 94: return "Contained: SM (0x1). RST: No, D-RST: No";
	case 95: return "Uncontained: FBHUB. RST: Yes, D-RST: No";
	case 119: return "Timeout after 6s of waiting for RPC response from GPU0 GSP!";
	case 120: return "GSP task timeout @ pc:0x4c9e7f0, task: 1";
	default: return "Unknown Error";
	}
}

static json_t *
gpu_at(json_t *st, long idx, struct rbx_err *err)
{
	json_t *g = json_array_get(json_object_get(st, "gpus"), (size_t)idx);

	if (idx < 0 || !g)
		err_set(err, "no GPU %ld on a lab node (0-%d)", idx, LAB_NGPUS - 1);
	return g;
}

static void
log_kernel_at(json_t *st, time_t t, const char *msg)
{
	json_array_append_new(json_object_get(st, "kernel_log"),
			      json_pack("{s:I, s:I, s:s}", "t", (json_int_t)t, "boot",
					json_integer_value(json_object_get(st, "boot")), "msg", msg));
}

static void
log_kernel(json_t *st, const char *msg)
{
	log_kernel_at(st, time(NULL), msg);
}

static void
add_int(json_t *o, const char *key, long long d)
{
	json_object_set_new(o, key, json_integer(json_integer_value(json_object_get(o, key)) + d));
}

static int
inject_xid(json_t *st, long xid, long gpu, struct rbx_err *err)
{
	json_t *g = gpu_at(st, gpu, err);
	char *msg;

	if (!g)
		return -1;
	if (xid <= 0 || xid > 200)
		return err_set(err, "xid=%ld: an XID is a number from 1 to 200", xid);
	msg = xasprintf("NVRM: Xid (PCI:0000:%s:00): %ld, pid=%d, name=python3, %s",
			json_string_value(json_object_get(g, "bus")), xid, 20000 + (int)gpu * 17,
			xid_text((int)xid));
	/* An injected fault happened a minute ago: alerts fire after the event. */
	log_kernel_at(st, time(NULL) - 60, msg);
	free(msg);
	switch (xid) {
	case 79:
		json_object_set_new(g, "lost", json_true());
		break;
	case 48: case 63: case 94: case 95: case 140:
		json_object_set_new(g, "remap_pending", json_true());
		add_int(g, "remap_uncorr", 1);
		add_int(g, "dbe", 1);
		break;
	case 64:
		json_object_set_new(g, "remap_failed", json_true());
		break;
	case 92:
		add_int(g, "sbe", 4096);
		break;
	}
	return 0;
}

static long
fault_gpu(int n, char **faults)
{
	int i;

	for (i = 0; i < n; i++)
		if (strncmp(faults[i], "gpu=", 4) == 0)
			return strtol(faults[i] + 4, NULL, 10);
	return 0;
}

static bool
parse_long(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return *s && !*end && !errno;
}

static int
apply_faults(json_t *st, void *arg, struct rbx_err *err)
{
	struct inject_args *a = arg;
	long gpu = fault_gpu(a->n, a->faults), v;
	json_t *sched = json_object_get(st, "sched");
	int i;

	for (i = 0; i < a->n; i++) {
		const char *f = a->faults[i], *val = strchr(f, '=');
		size_t klen = val ? (size_t)(val - f) : strlen(f);

		val = val ? val + 1 : "";
		if (klen == 3 && !strncmp(f, "gpu", 3)) {
			if (!parse_long(val, &v) || !gpu_at(st, v, err))
				return err_set(err, "gpu=%s: a GPU index from 0 to %d", val,
					       LAB_NGPUS - 1);
		} else if (klen == 3 && !strncmp(f, "xid", 3)) {
			if (!parse_long(val, &v))
				return err_set(err, "xid=%s: an XID is a number", val);
			if (inject_xid(st, v, gpu, err) < 0)
				return -1;
		} else if (klen == 4 && !strncmp(f, "dcgm", 4)) {
			if (strcmp(val, "fail") && strcmp(val, "pass"))
				return err_set(err, "dcgm=%s: use dcgm=fail or dcgm=pass", val);
			json_object_set_new(st, "dcgm", json_string(val));
		} else if (klen == 5 && !strncmp(f, "remap", 5)) {
			json_t *g = gpu_at(st, gpu, err);
			if (!g)
				return -1;
			if (!strcmp(val, "pending"))
				json_object_set_new(g, "remap_pending", json_true());
			else if (!strcmp(val, "failed"))
				json_object_set_new(g, "remap_failed", json_true());
			else
				return err_set(err, "remap=%s: use remap=pending or remap=failed", val);
		} else if (!strcmp(f, "persistent")) {
			json_object_set_new(st, "persistent", json_true());
		} else if (klen == 7 && !strncmp(f, "drained", 7)) {
			if (!*val)
				return err_set(err, "drained=REASON needs a reason");
			json_object_set_new(sched, "cordoned", json_true());
			json_object_set_new(sched, "drained", json_true());
			json_object_set_new(sched, "reason", json_string(val));
		} else if (klen == 4 && !strncmp(f, "jobs", 4)) {
			if (!parse_long(val, &v) || v < 0)
				return err_set(err, "jobs=%s: a count of jobs", val);
			json_object_set_new(sched, "jobs", json_integer(v));
		} else {
			return err_set(err, "unknown fault '%s'; known faults:\n%s", f,
				       lab_fault_help);
		}
	}
	return 0;
}

int
lab_inject(const char *state_dir, const char *node, int nfaults, char **faults,
	   struct rbx_err *err)
{
	struct inject_args a = {nfaults, faults};
	char *dir = lab_node_dir(state_dir, node);
	int r = lab_node_update(dir, node, apply_faults, &a, err);

	free(dir);
	return r;
}

int
lab_reset(const char *state_dir, const char *node, struct rbx_err *err)
{
	char *dir = lab_node_dir(state_dir, node);
	json_t *st = new_node(node);
	int r;

	r = util_mkdir_p(dir, 0700, err);
	if (r == 0)
		r = save_node(dir, st, err);
	json_decref(st);
	free(dir);
	return r;
}

static void
show_text(json_t *st, FILE *fp)
{
	json_t *sched = json_object_get(st, "sched"), *g, *e;
	size_t i;

	fprintf(fp, "lab node %s (simulated): %s x%zu, driver %s, CUDA %s, kernel %s, boot %lld\n",
		json_string_value(json_object_get(st, "node")),
		json_string_value(json_object_get(st, "model")),
		json_array_size(json_object_get(st, "gpus")),
		json_string_value(json_object_get(st, "driver")),
		json_string_value(json_object_get(st, "cuda")),
		json_string_value(json_object_get(st, "kernel")),
		(long long)json_integer_value(json_object_get(st, "boot")));
	fprintf(fp, "scheduler: %s%s%s%s\n",
		json_is_true(json_object_get(sched, "drained"))    ? "drained"
		: json_is_true(json_object_get(sched, "cordoned")) ? "cordoned"
								   : "in service",
		*json_string_value(json_object_get(sched, "reason")) ? " (" : "",
		json_string_value(json_object_get(sched, "reason")),
		*json_string_value(json_object_get(sched, "reason")) ? ")" : "");
	fprintf(fp, "dcgm diag: %s%s\n", json_string_value(json_object_get(st, "dcgm")),
		json_is_true(json_object_get(st, "persistent")) ? "; faults are persistent" : "");
	json_array_foreach(json_object_get(st, "gpus"), i, g) {
		fprintf(fp, "  GPU %zu  %s:00.0  %s%s%s%s\n", i,
			json_string_value(json_object_get(g, "bus")),
			json_is_true(json_object_get(g, "lost")) ? "LOST (off the bus) " : "",
			json_is_true(json_object_get(g, "remap_pending")) ? "remap pending " : "",
			json_is_true(json_object_get(g, "remap_failed")) ? "remap FAILED " : "",
			!json_is_true(json_object_get(g, "lost")) &&
					!json_is_true(json_object_get(g, "remap_pending")) &&
					!json_is_true(json_object_get(g, "remap_failed"))
				? "healthy"
				: "");
	}
	json_array_foreach(json_object_get(sched, "history"), i, e)
		fprintf(fp, "  scheduler: %s %s\n", json_string_value(json_object_get(e, "op")),
			json_string_value(json_object_get(e, "reason")));
}

int
lab_show(const char *state_dir, const char *node, bool json, FILE *fp, struct rbx_err *err)
{
	char *dir = lab_node_dir(state_dir, node);
	json_t *st = lab_node_load(dir, node, err);

	free(dir);
	if (!st)
		return -1;
	if (json)
		json_dumpf(st, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	else
		show_text(st, fp);
	if (json)
		fputc('\n', fp);
	json_decref(st);
	return 0;
}

static int
do_reboot(json_t *st, void *arg, struct rbx_err *err)
{
	bool persistent = json_is_true(json_object_get(st, "persistent"));
	json_t *g, *svc = json_object_get(st, "services");
	const char *k;
	json_t *v;
	size_t i;

	(void)arg;
	(void)err;
	add_int(st, "boot", 1);
	json_object_set_new(st, "boot_time", json_integer((json_int_t)time(NULL)));
	json_array_foreach(json_object_get(st, "gpus"), i, g) {
		if (persistent)
			continue;
		json_object_set_new(g, "lost", json_false());
		json_object_set_new(g, "remap_pending", json_false());
		json_object_set_new(g, "ecc_mode", json_copy(json_object_get(g, "ecc_pending")));
	}
	json_object_foreach(svc, k, v)
		json_object_set_new(svc, k, json_string("active"));
	log_kernel(st, "Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org)");
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

void
sched_free(struct sched *s)
{
	if (!s)
		return;
	if (s->ops && s->ops->free)
		s->ops->free(s);
	free(s->node);
	free(s);
}

/* ---- the lab transport --------------------------------------------------------- */

struct lab_tx {
	char *node;
	char *node_dir;
	char *work_dir;
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
	for (i = 0; lab_tools[i]; i++)
		if (link_tool(self, bin, lab_tools[i], err) < 0)
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

static int
lab_tx_exec(struct transport *t, const char *cmd, const struct exec_opts *o,
	    struct exec_result *r, struct rbx_err *err)
{
	struct lab_tx *l = t->priv;
	struct exec_opts lo = *o;

	if (lab_check_command(cmd, err) < 0)
		return -1;
	lo.cwd = l->work_dir;
	lo.env = l->env;
	return exec_local_run(cmd, &lo, r, err);
}

static int
lab_tx_reboot(struct transport *t, long long timeout_ms, struct rbx_err *err)
{
	struct lab_tx *l = t->priv;

	(void)timeout_ms;
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
	"lab", lab_tx_exec, lab_tx_reboot, lab_tx_wait_up, lab_tx_free,
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

bool
lab_is_tool(const char *argv0)
{
	const char *base = strrchr(argv0, '/');
	size_t i;

	base = base ? base + 1 : argv0;
	for (i = 0; lab_tools[i]; i++)
		if (!strcmp(base, lab_tools[i]))
			return true;
	for (i = 0; lab_refused[i]; i++)
		if (!strcmp(base, lab_refused[i]))
			return true;
	return false;
}
