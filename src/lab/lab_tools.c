/* lab_tools.c - the lab's simulated tools: dispatch by argv[0], shared helpers,
 * dcgmi, the kernel log and the bug report (nvidia-smi: lab_tools_smi*.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lab/lab.h"
#include "lab/lab_internal.h"

const struct lab_tool lab_tools_table[] = {
	{"nvidia-smi", tool_nvidia_smi, true},
	{"dcgmi", tool_dcgmi, false},
	{"journalctl", tool_journalctl, false},
	{"dmesg", tool_dmesg, false},
	{"nvidia-bug-report.sh", tool_bug_report, false},
	{"systemctl", tool_systemctl, true},
	{"modprobe", tool_modprobe, true},
	{"rmmod", tool_modprobe, true},
	{"lsmod", tool_lsmod, false},
	{"modinfo", tool_modinfo, false},
	{"dkms", tool_dkms, true},
	{"uname", tool_uname, false},
	{"mokutil", tool_mokutil, false},
	{"lspci", tool_lspci, false},
	{"setpci", tool_setpci, true},
	{"apt-get", tool_apt_get, true},
	{"apt-cache", tool_apt_cache, false},
	{"apt-mark", tool_apt_mark, true},
	{"dpkg-query", tool_dpkg_query, false},
	{"grub-reboot", tool_grub_reboot, true},
	{"grub-mkconfig", tool_grub_mkconfig, false},
	{"kill", tool_kill, true},
	{"fuser", tool_fuser, false},
	{"nv-fabricmanager", tool_nv_fabricmanager, false},
	{"all_reduce_perf", tool_all_reduce_perf, true}, /* its traffic counts on flaky links */
	{"nvbandwidth", tool_nvbandwidth, false},
	{"ibstat", tool_ibstat, false},
	{"perfquery", tool_perfquery, false},
	{"ipmitool", tool_ipmitool, true},
	{"curl", tool_curl, false},
	{"sinfo", tool_sinfo, false},
	{"squeue", tool_squeue, true}, /* a requeued job moves on as it is looked at */
	{"scontrol", tool_scontrol, true},
	{"sbatch", tool_sbatch, true},
	{"scancel", tool_scancel, true},
	{"kubectl", tool_kubectl, true},
	{NULL, NULL, false},
};

/* ---- dcgmi ----------------------------------------------------------------------------- */

struct diag_row {
	const char *section;
	const char *name;
	int level;
};

static const struct diag_row diag_rows[] = {
	{"Deployment", "Denylist", 1}, {"Deployment", "NVML Library", 1},
	{"Deployment", "CUDA Main Library", 1}, {"Deployment", "Permissions and OS Blocks", 1},
	{"Deployment", "Persistence Mode", 1}, {"Deployment", "Environment Variables", 1},
	{"Deployment", "Page Retirement/Row Remap", 1}, {"Deployment", "Graphics Processes", 1},
	{"Deployment", "Inforom", 1}, {"Deployment", "Fabric Manager", 1}, {"Integration", "PCIe", 2},
	{"Hardware", "GPU Memory", 2}, {"Hardware", "Diagnostic", 3},
	{"Stress", "Targeted Stress", 3}, {"Stress", "Targeted Power", 3},
	{"Stress", "Memory Bandwidth", 3}, {"Stress", "SM Stress", 3}, {"Hardware", "Memtest", 4},
	{"Hardware", "Pulse Test", 4}, {NULL, NULL, 0},
};

/* Which GPU fails a row and why, or -1 when it passes. */
static long
diag_failing_gpu(struct tool_ctx *c, const struct diag_row *r, int level, const char **why)
{
	json_t *g;
	size_t i;

	json_array_foreach(jgpus(c), i, g) {
		*why = "check DCGM and system logs; reset GPU";
		if (!strcmp(r->name, "Page Retirement/Row Remap") &&
		    (jtrue(g, "remap_pending") || jtrue(g, "remap_failed"))) {
			*why = "a row remap is pending or has failed";
			return (long)i;
		}
		if (!strcmp(r->name, "Persistence Mode") && jtrue(g, "lost"))
			return (long)i;
		if (!strcmp(r->name, "Inforom") && strcmp(jstr(g, "ecc_mode"), "Enabled")) {
			*why = "ECC is not enabled";
			return (long)i;
		}
		if (!strcmp(r->name, "PCIe") && (jint(g, "pcie_gen") < 5 || jint(g, "pcie_width") < 16 ||
						jtrue(g, "nvlink_down"))) {
			*why = "PCIe/NVLink bandwidth below threshold";
			return (long)i;
		}
		if ((!strcmp(r->name, "Targeted Power") || !strcmp(r->name, "Diagnostic")) &&
		    gpu_temp(c, g) >= 89) {
			*why = "thermal violations totaling 12.4 seconds";
			return (long)i;
		}
	}
	if (!strcmp(r->name, "Fabric Manager") && jtrue(c->st, "nvswitch") &&
	    (!service_active(c->st, "nvidia-fabricmanager") ||
	     strcmp(jstr(c->st, "fm_version"), jstr(c->st, "driver")))) {
		*why = "Fabric Manager is not running or does not match the driver";
		return 0;
	}
	if (!strcmp(jstr(c->st, "dcgm"), "fail") &&
	    ((level == 2 && !strcmp(r->name, "GPU Memory")) ||
	     (level >= 3 && !strcmp(r->name, "Diagnostic")))) {
		*why = "GPU 3: check DCGM and system logs; reset GPU";
		return 3;
	}
	return -1;
}

int
tool_dcgmi(struct tool_ctx *c, int argc, char **argv)
{
	const struct diag_row *r;
	const char *section = "", *lv = arg_val(argc, argv, "-r");
	bool json = arg_has(argc, argv, "-j");
	int level = lv ? atoi(lv) : 1, failed = 0;
	json_t *out, *tests;

	if (argc < 2 || strcmp(argv[1], "diag"))
		return tool_usage(c, "the lab simulates 'dcgmi diag -r LEVEL [-j]'");
	if (level < 1 || level > 4)
		return tool_usage(c, "-r takes 1, 2, 3 or 4");
	if (!service_active(c->st, "nvidia-dcgm")) {
		printf("Error: unable to establish a connection to the specified host: localhost\n"
		       "Error: Unable to connect to host engine. Host engine connection "
		       "invalid/disconnected.\n");
		return 255;
	}
	if (!jtrue(c->st, "module_loaded") ||
	    strcmp(jstr(c->st, "module_version"), jstr(c->st, "driver"))) {
		printf("Error: Unable to complete diagnostic for group 2147483647. Return: (-25) NVML "
		       "library could not be loaded or the driver does not match.\n");
		return 226;
	}
	out = json_object();
	tests = json_array();
	if (!json) {
		printf("Successfully ran diagnostic for group.\n");
		printf("+---------------------------+------------------------------------------------+\n");
		printf("| Diagnostic                | Result                                         |\n");
		printf("+===========================+================================================+\n");
	}
	for (r = diag_rows; r->name; r++) {
		const char *why = "";
		long bad;
		char res[64];
		if (r->level > level)
			continue;
		bad = diag_failing_gpu(c, r, level, &why);
		if (bad >= 0) {
			failed++;
			snprintf(res, sizeof(res), "Fail - GPU: %ld", bad);
		} else {
			snprintf(res, sizeof(res), "Pass%s", r->level >= 2 ? " - All" : "");
		}
		json_array_append_new(tests, json_pack("{s:s, s:s, s:s, s:s}", "category", r->section,
						       "name", r->name, "status", bad >= 0 ? "Fail" : "Pass",
						       "info", why));
		if (json)
			continue;
		if (strcmp(section, r->section)) {
			section = r->section;
			printf("+-----  %-19s+------------------------------------------------+\n", section);
		}
		printf("| %-25s | %-46s |\n", r->name, res);
		if (bad >= 0)
			printf("| %-25s | %-46.46s |\n", "Warning", why);
	}
	if (json) {
		json_object_set_new(out, "tests", tests);
		json_object_set_new(out, "result", json_string(failed ? "Fail" : "Pass"));
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
	} else {
		json_decref(tests);
		printf("+---------------------------+------------------------------------------------+\n");
	}
	json_decref(out);
	return failed ? 226 : 0;
}

/* ---- kernel log: journalctl -k, dmesg ------------------------------------------------ */

static bool
parse_since(const char *s, time_t now, time_t *out)
{
	char *end;
	long v;

	if (*s == '@') {
		v = strtol(s + 1, &end, 10);
		*out = (time_t)v;
		return s[1] && !*end;
	}
	if (*s == '-') {
		v = strtol(s + 1, &end, 10);
		if (end == s + 1)
			return false;
		if (*end == 'h')
			*out = now - v * 3600;
		else if (*end == 'm')
			*out = now - v * 60;
		else if (*end == 'd')
			*out = now - v * 86400;
		else if (*end == 's' || !*end)
			*out = now - v;
		else
			return false;
		return true;
	}
	if (!strcmp(s, "today") || !strcmp(s, "yesterday")) {
		*out = now - (!strcmp(s, "today") ? 0 : 86400) - now % 86400;
		return true;
	}
	return false;
}

static int
kernel_log(struct tool_ctx *c, int argc, char **argv, bool dmesg)
{
	long long boot = jint(c->st, "boot");
	time_t since = 0, now = (time_t)lab_now(c->st), boot_time = (time_t)jint(c->st, "boot_time");
	const char *v = arg_val(argc, argv, "--since"), *unit = arg_val(argc, argv, "-u");
	bool human = arg_has(argc, argv, "-T"), this_boot;
	json_t *e;
	size_t i;
	int k;

	if (!v)
		v = arg_val(argc, argv, "-S");
	if (v && !parse_since(v, now, &since)) {
		fprintf(stderr, "Failed to parse timestamp: %s\n", v);
		return 1;
	}
	/*
	 * dmesg is the ring buffer of this boot; journalctl -k implies -b (the current
	 * boot, journalctl(1)); journalctl _TRANSPORT=kernel reads every boot kept.
	 */
	this_boot = dmesg || arg_has(argc, argv, "-k") || arg_has(argc, argv, "--dmesg") ||
		    arg_has(argc, argv, "-b");
	for (k = 1; k + 1 < argc; k++)
		if (!strcmp(argv[k], "-b") && argv[k + 1][0] == '-')
			boot += strtol(argv[k + 1], NULL, 10);
	if (unit) {
		/* A service's journal: the lab keeps the fabric manager's. */
		if (strstr(unit, "fabricmanager"))
			printf("%s\n", service_active(c->st, "nvidia-fabricmanager")
					       ? "nv-fabricmanager[2211]: Successfully configured all the "
						 "available NVSwitches to route GPU NVLink traffic."
					       : "nv-fabricmanager[2211]: fabric manager NVIDIA GPU driver "
						 "interface version doesn't match with driver version");
		return 0;
	}
	json_array_foreach(json_object_get(c->st, "kernel_log"), i, e) {
		time_t t = (time_t)jint(e, "t");
		char ts[64];
		if ((this_boot && jint(e, "boot") != boot) || t < since)
			continue;
		if (dmesg && human) {
			strftime(ts, sizeof(ts), "%a %b %e %H:%M:%S %Y", localtime(&t));
			printf("[%s] %s\n", ts, jstr(e, "msg"));
		} else if (dmesg) {
			printf("[%6lld.%06d] %s\n", (long long)(t - boot_time), (int)(i * 7919 % 1000000),
			       jstr(e, "msg"));
		} else {
			strftime(ts, sizeof(ts), "%b %d %H:%M:%S", localtime(&t));
			printf("%s %s kernel: %s\n", ts, c->node, jstr(e, "msg"));
		}
	}
	return 0;
}

int
tool_journalctl(struct tool_ctx *c, int argc, char **argv)
{
	return kernel_log(c, argc, argv, false);
}

int
tool_dmesg(struct tool_ctx *c, int argc, char **argv)
{
	return kernel_log(c, argc, argv, true);
}

int
tool_bug_report(struct tool_ctx *c, int argc, char **argv)
{
	const char *name = arg_val(argc, argv, "--output-file"), *base;
	char *file;
	FILE *fp;

	/*
	 * As the real script does when gzip is there (always, on a node): the output
	 * is compressed and ".gz" appended to the name given, even one ending in .gz.
	 */
	if (!name)
		name = "nvidia-bug-report.log";
	/* Only ever write into the lab's scratch dir, whatever path was asked for. */
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (!*base || !strcmp(base, "..") || !strcmp(base, "."))
		return tool_usage(c, "bad --output-file");
	file = xasprintf("%s.gz", base);
	printf("nvidia-bug-report.sh will now collect information about your system and create "
	       "the file '%s' in the current directory.\n\n", file);
	fp = fopen(file, "w");
	if (!fp) {
		fprintf(stderr, "nvidia-bug-report.sh: cannot write %s: %s\n", file, strerror(errno));
		free(file);
		return 1;
	}
	json_dumpf(c->st, fp, JSON_INDENT(2));
	fclose(fp);
	free(file);
	printf("*** Complete.\n");
	return 0;
}

/* ---- dispatch ------------------------------------------------------------------------ */

struct tool_call {
	const struct lab_tool *t;
	struct tool_ctx *c;
	int argc;
	char **argv;
	int rc;
};

static int
call_locked(json_t *st, void *arg, struct rbx_err *err)
{
	struct tool_call *tc = arg;

	(void)err;
	tc->c->st = st;
	lab_cluster_settle(tc->c);
	tc->rc = tc->t->fn(tc->c, tc->argc, tc->argv);
	fflush(stdout);
	return 0;
}

int
lab_tool_main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');
	const struct lab_tool *t;
	struct tool_ctx c = {0};
	struct rbx_err err;
	int rc;

	name = name ? name + 1 : argv[0];
	c.tool = name;
	c.node_dir = getenv(LAB_ENV_STATE);
	c.node = getenv("RBX_LAB_NODE");
	if (!c.node_dir || !c.node) {
		fprintf(stderr, "%s: this is rbx's lab simulation; it runs only inside an rbx lab run\n",
			name);
		return 127;
	}
	for (t = lab_tools_table; t->name; t++)
		if (!strcmp(t->name, name))
			break;
	if (!t->name && !lab_is_refused(name))
		return lab_stub_main(c.node_dir, c.node, name); /* a site's command, if stubbed */
	if (!t->name) {
		fprintf(stderr, "rbx lab: '%s' is not simulated in the lab\n", name);
		return 127;
	}
	if (t->writes) {
		struct tool_call tc = {t, &c, argc, argv, 0};
		if (lab_node_update(c.node_dir, c.node, call_locked, &tc, &err) < 0) {
			fprintf(stderr, "rbx lab: %s\n", err.msg);
			return 255;
		}
		return tc.rc;
	}
	c.st = lab_node_load(c.node_dir, c.node, &err);
	if (!c.st) {
		fprintf(stderr, "rbx lab: %s\n", err.msg);
		return 255;
	}
	lab_cluster_settle(&c); /* seen, not saved: a pure function of the clock */
	rc = t->fn(&c, argc, argv);
	json_decref(c.st);
	fflush(stdout);
	return rc;
}

bool
lab_is_tool(const char *argv0)
{
	const char *base = strrchr(argv0, '/');
	const struct lab_tool *t;

	base = base ? base + 1 : argv0;
	for (t = lab_tools_table; t->name; t++)
		if (!strcmp(base, t->name))
			return true;
	/* Inside a lab step, rbx under another name is a stub for a site's command. */
	if (getenv(LAB_ENV_STATE) && getenv("RBX_LAB_NODE") && strncmp(base, "rbx", 3) != 0)
		return true;
	return lab_is_refused(base);
}
