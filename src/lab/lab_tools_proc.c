/* lab_tools_proc.c - the lab's view of the node's processes: kill, and fuser naming
 * who holds the GPUs' device files (the daemons that run and the processes on the GPUs). */
#define _GNU_SOURCE
#include <string.h>

#include "lab/lab.h"
#include "lab/lab_internal.h"

int
tool_kill(struct tool_ctx *c, int argc, char **argv)
{
	json_t *procs = json_object_get(c->st, "procs"), *p;
	int k, rc = 0;
	size_t i;

	for (k = 1; k < argc; k++) {
		long pid;
		bool found = false;
		if (argv[k][0] == '-')
			continue;
		pid = strtol(argv[k], NULL, 10);
		json_array_foreach(procs, i, p) {
			if (jint(p, "pid") != pid)
				continue;
			found = true;
			/* A live rank of a running job: what a repair must never kill. */
			if (json_object_get(p, "job"))
				jset_bool(c->st, "killed_live_rank", true);
			if (!jtrue(p, "unkillable")) {
				json_array_remove(procs, i);
				c->dirty = true;
			}
			break;
		}
		if (!found) {
			fprintf(stderr, "kill: (%ld) - No such process\n", pid);
			rc = 1;
		}
	}
	return rc;
}

/* One holder of the GPUs' device files, as fuser names it. */
struct holder {
	long long pid;
	const char *user, *cmd;
	long gpu; /* -1: every GPU; -2: none (nvidiactl only) */
	bool uvm; /* a CUDA context: /dev/nvidia-uvm too */
};

static size_t
gpu_holders(struct tool_ctx *c, struct holder *h, size_t max)
{
	static const struct {
		const char *unit, *cmd;
		long long pid;
		long gpu;
	} daemons[] = {
		{"nvidia-persistenced", "nvidia-persistenced", 1874, -1},
		{"nvidia-dcgm", "nv-hostengine", 2210, -1},
		/* Fabric Manager drives the NVSwitches; of the GPUs' files it opens the control one. */
		{"nvidia-fabricmanager", "nv-fabricmanager", 2388, -2},
	};
	json_t *p;
	size_t i, n = 0;

	for (i = 0; i < sizeof(daemons) / sizeof(daemons[0]) && n < max; i++)
		if (service_active(c->st, daemons[i].unit))
			h[n++] = (struct holder){daemons[i].pid, "root", daemons[i].cmd, daemons[i].gpu, false};
	json_array_foreach(json_object_get(c->st, "procs"), i, p) {
		if (n == max)
			break;
		h[n++] = (struct holder){jint(p, "pid"), "root", jstr(p, "name"), (long)jint(p, "gpu"),
					 !jtrue(p, "nvml")};
	}
	return n;
}

/* Does holder h have this device file open? -1: nvidiactl, -2: nvidia-uvm, else a GPU. */
static bool
holder_opens(const struct holder *h, long dev)
{
	if (dev == -1)
		return true;
	if (dev == -2)
		return h->uvm;
	return h->gpu == -1 || h->gpu == dev;
}

/*
 * fuser [-v] FILE...: the processes that hold the GPUs' device files. PIDs go to
 * stdout, names (and the rest of -v's table) to stderr; exit 0 when any file is held,
 * 1 with nothing printed when none is, as psmisc 23.6's fuser does
 * (tests/fixtures/real/fuser-v-held.psmisc-23.6.txt). The sandbox's /dev has no nvidia files, so an unmatched /dev/nvidia*
 * reaches the tool as the pattern itself and stands for every device file.
 */
int
tool_fuser(struct tool_ctx *c, int argc, char **argv)
{
	bool verbose = arg_has(argc, argv, "-v"), header = false, any = false;
	struct holder h[96];
	size_t nh = gpu_holders(c, h, sizeof(h) / sizeof(h[0])), i;
	long devs[LAB_NGPUS + 2], ndev = 0, d;
	int k;

	for (k = 1; k < argc; k++) {
		const char *f = argv[k];
		ndev = 0;
		if (f[0] == '-')
			continue;
		if (!strcmp(f, "/dev/nvidia*")) {
			for (d = 0; d < (long)json_array_size(jgpus(c)); d++)
				devs[ndev++] = d;
			devs[ndev++] = -1;
			devs[ndev++] = -2;
		} else if (!strcmp(f, "/dev/nvidiactl")) {
			devs[ndev++] = -1;
		} else if (!strcmp(f, "/dev/nvidia-uvm")) {
			devs[ndev++] = -2;
		} else if (!strncmp(f, "/dev/nvidia", 11) && f[11] >= '0' && f[11] <= '9' &&
			   strtol(f + 11, NULL, 10) < (long)json_array_size(jgpus(c))) {
			devs[ndev++] = strtol(f + 11, NULL, 10);
		} else {
			fprintf(stderr, "Specified filename %s does not exist.\n", f);
			continue;
		}
		for (d = 0; d < ndev; d++) {
			char name[32];
			bool first = true;
			if (devs[d] == -1)
				snprintf(name, sizeof(name), "/dev/nvidiactl:");
			else if (devs[d] == -2)
				snprintf(name, sizeof(name), "/dev/nvidia-uvm:");
			else
				snprintf(name, sizeof(name), "/dev/nvidia%ld:", devs[d]);
			if (verbose && !header) {
				fprintf(stderr, "%20s USER        PID ACCESS COMMAND\n", "");
				header = true;
			}
			if (!verbose)
				fprintf(stderr, "%s", name);
			for (i = 0; i < nh; i++) {
				if (!holder_opens(&h[i], devs[d]))
					continue;
				any = true;
				if (verbose) { /* psmisc prints the PID alone on stdout, mid-row */
					fprintf(stderr, "%-20s %-9s", first ? name : "", h[i].user);
					fflush(stderr);
					printf("%6lld", h[i].pid);
					fflush(stdout);
					fprintf(stderr, " F.... %s\n", h[i].cmd);
				} else {
					printf(" %lld", h[i].pid);
				}
				first = false;
			}
			if (!verbose) {
				fflush(stdout);
				fprintf(stderr, "\n");
			}
		}
	}
	fflush(stdout);
	return any ? 0 : 1;
}
