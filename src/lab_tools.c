/* lab_tools.c - the lab's simulated tools: rbx answers as nvidia-smi, dcgmi,
 * journalctl, dmesg, ... when run under those names, in the real tools' formats. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rbx/lab.h"

struct tool_ctx {
	const char *node;
	const char *node_dir;
	json_t *st;
};

static int
fail_usage(const char *tool, const char *msg)
{
	fprintf(stderr, "%s: %s\n", tool, msg);
	return 2;
}

static json_t *
gpus(struct tool_ctx *c)
{
	return json_object_get(c->st, "gpus");
}

static bool
jtrue(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static long long
jint(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static int
save(struct tool_ctx *c, int (*fn)(json_t *, void *, struct rbx_err *), void *arg)
{
	struct rbx_err err;

	if (lab_node_update(c->node_dir, c->node, fn, arg, &err) < 0) {
		fprintf(stderr, "rbx lab: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* ---- nvidia-smi ----------------------------------------------------------------- */

struct smi_args {
	bool list, query, reset, noheader, nounits, csv;
	const char *display;
	const char *query_gpu;
	const char *query_remap;
	const char *query_apps;
	const char *ecc;
	long index; /* -1: all */
};

static void
kv(int indent, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
kv(int indent, const char *key, const char *fmt, ...)
{
	va_list ap;
	int pad = 42 - indent * 4 - (int)strlen(key);

	printf("%*s%s%*s: ", indent * 4, "", key, pad > 0 ? pad : 1, "");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
smi_lost(json_t *g)
{
	fprintf(stderr, "Unable to determine the device handle for GPU0000:%s:00.0: Unknown Error\n",
		jstr(g, "bus"));
}

static bool
want_section(const struct smi_args *a, const char *name)
{
	return !a->display || strcasestr(a->display, name) != NULL;
}

static int
smi_q(struct tool_ctx *c, const struct smi_args *a)
{
	char ts[64];
	time_t now = time(NULL);
	json_t *g;
	size_t i;
	int rc = 0;

	strftime(ts, sizeof(ts), "%a %b %e %H:%M:%S %Y", localtime(&now));
	printf("\n==============NVSMI LOG==============\n\n");
	kv(0, "Timestamp", "%s", ts);
	kv(0, "Driver Version", "%s", jstr(c->st, "driver"));
	kv(0, "CUDA Version", "%s", jstr(c->st, "cuda"));
	printf("\n");
	kv(0, "Attached GPUs", "%zu", json_array_size(gpus(c)));
	json_array_foreach(gpus(c), i, g) {
		if (a->index >= 0 && (long)i != a->index)
			continue;
		if (jtrue(g, "lost")) {
			smi_lost(g);
			rc = 15;
			continue;
		}
		printf("GPU 00000000:%s:00.0\n", jstr(g, "bus"));
		if (!a->display) {
			kv(1, "Product Name", "%s", jstr(c->st, "model"));
			kv(1, "Persistence Mode", "%s",
			   !strcmp(jstr(json_object_get(c->st, "services"), "nvidia-persistenced"),
				   "active")
				   ? "Enabled"
				   : "Disabled");
			kv(1, "Serial Number", "%s", jstr(g, "serial"));
			kv(1, "GPU UUID", "%s", jstr(g, "uuid"));
			kv(1, "VBIOS Version", "96.00.89.00.01");
			printf("    Inforom Version\n");
			kv(2, "Image Version", "G520.0200.00.05");
			kv(1, "GSP Firmware Version", "%s", jstr(c->st, "driver"));
			printf("    Fabric\n");
			kv(2, "State", "Completed");
			kv(2, "Status", "Success");
		}
		if (want_section(a, "ECC")) {
			printf("    ECC Mode\n");
			kv(2, "Current", "%s", jstr(g, "ecc_mode"));
			kv(2, "Pending", "%s", jstr(g, "ecc_pending"));
			printf("    ECC Errors\n        Volatile\n");
			kv(3, "SRAM Correctable", "%lld", jint(g, "sbe"));
			kv(3, "SRAM Uncorrectable", "0");
			kv(3, "DRAM Correctable", "0");
			kv(3, "DRAM Uncorrectable", "%lld", jint(g, "dbe"));
		}
		if (want_section(a, "ROW_REMAPPER")) {
			printf("    Remapped Rows\n");
			kv(2, "Correctable Error", "%lld", jint(g, "remap_corr"));
			kv(2, "Uncorrectable Error", "%lld", jint(g, "remap_uncorr"));
			kv(2, "Pending", "%s", jtrue(g, "remap_pending") ? "Yes" : "No");
			kv(2, "Remapping Failure Occurred", "%s",
			   jtrue(g, "remap_failed") ? "Yes" : "No");
			printf("        Bank Remap Availability Histogram\n");
			kv(3, "Max", "%d bank(s)", jtrue(g, "remap_failed") ? 0 : 639);
			kv(3, "High", "%d bank(s)", jint(g, "remap_uncorr") ? 1 : 0);
			kv(3, "Partial", "0 bank(s)");
			kv(3, "Low", "0 bank(s)");
			kv(3, "None", "%d bank(s)", jtrue(g, "remap_failed") ? 640 : 0);
		}
		if (want_section(a, "TEMPERATURE")) {
			printf("    Temperature\n");
			kv(2, "GPU Current Temp", "%lld C", jint(g, "temp"));
			kv(2, "GPU T.Limit Temp", "N/A");
			kv(2, "GPU Shutdown Temp", "92 C");
			kv(2, "GPU Slowdown Temp", "89 C");
			kv(2, "GPU Max Operating Temp", "87 C");
			kv(2, "Memory Current Temp", "%lld C", jint(g, "temp") + 6);
			kv(2, "Memory Max Operating Temp", "95 C");
		}
		printf("\n");
	}
	return rc;
}

struct gpu_field {
	const char *name;
	const char *unit; /* header suffix and value unit */
};

static const struct gpu_field gpu_fields[] = {
	{"index", NULL}, {"name", NULL}, {"pci.bus_id", NULL}, {"serial", NULL}, {"uuid", NULL},
	{"driver_version", NULL}, {"temperature.gpu", NULL}, {"temperature.memory", NULL},
	{"persistence_mode", NULL}, {"ecc.mode.current", NULL}, {"ecc.mode.pending", NULL},
	{"memory.used", "MiB"}, {"memory.total", "MiB"}, {"utilization.gpu", "%"},
	{"power.draw", "W"}, {"clocks.sm", "MHz"}, {"clocks.max.sm", "MHz"},
	{"gpu_bus_id", NULL}, {"remapped_rows.correctable", NULL},
	{"remapped_rows.uncorrectable", NULL}, {"remapped_rows.pending", NULL},
	{"remapped_rows.failure", NULL}, {NULL, NULL},
};

static const struct gpu_field *
find_field(const char *name)
{
	const struct gpu_field *f;

	for (f = gpu_fields; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

static void
field_value(struct tool_ctx *c, json_t *g, const char *name, char *out, size_t n)
{
	bool persist = !strcmp(jstr(json_object_get(c->st, "services"), "nvidia-persistenced"),
			       "active");

	if (!strcmp(name, "index"))
		snprintf(out, n, "%lld", jint(g, "index"));
	else if (!strcmp(name, "name"))
		snprintf(out, n, "%s", jstr(c->st, "model"));
	else if (!strcmp(name, "pci.bus_id") || !strcmp(name, "gpu_bus_id"))
		snprintf(out, n, "00000000:%s:00.0", jstr(g, "bus"));
	else if (!strcmp(name, "serial"))
		snprintf(out, n, "%s", jstr(g, "serial"));
	else if (!strcmp(name, "uuid"))
		snprintf(out, n, "%s", jstr(g, "uuid"));
	else if (!strcmp(name, "driver_version"))
		snprintf(out, n, "%s", jstr(c->st, "driver"));
	else if (!strcmp(name, "temperature.gpu"))
		snprintf(out, n, "%lld", jint(g, "temp"));
	else if (!strcmp(name, "temperature.memory"))
		snprintf(out, n, "%lld", jint(g, "temp") + 6);
	else if (!strcmp(name, "persistence_mode"))
		snprintf(out, n, "%s", persist ? "Enabled" : "Disabled");
	else if (!strcmp(name, "ecc.mode.current"))
		snprintf(out, n, "%s", jstr(g, "ecc_mode"));
	else if (!strcmp(name, "ecc.mode.pending"))
		snprintf(out, n, "%s", jstr(g, "ecc_pending"));
	else if (!strcmp(name, "memory.used"))
		snprintf(out, n, "0");
	else if (!strcmp(name, "memory.total"))
		snprintf(out, n, "81559");
	else if (!strcmp(name, "utilization.gpu"))
		snprintf(out, n, "0");
	else if (!strcmp(name, "power.draw"))
		snprintf(out, n, "%.2f", 68.5 + (double)jint(g, "index"));
	else if (!strcmp(name, "clocks.sm"))
		snprintf(out, n, "%d", persist ? 1980 : 345);
	else if (!strcmp(name, "clocks.max.sm"))
		snprintf(out, n, "1980");
	else if (!strcmp(name, "remapped_rows.correctable"))
		snprintf(out, n, "%lld", jint(g, "remap_corr"));
	else if (!strcmp(name, "remapped_rows.uncorrectable"))
		snprintf(out, n, "%lld", jint(g, "remap_uncorr"));
	else if (!strcmp(name, "remapped_rows.pending"))
		snprintf(out, n, "%d", jtrue(g, "remap_pending"));
	else if (!strcmp(name, "remapped_rows.failure"))
		snprintf(out, n, "%d", jtrue(g, "remap_failed"));
	else
		snprintf(out, n, "[N/A]");
}

static int
smi_query(struct tool_ctx *c, const struct smi_args *a, const char *list)
{
	char *copy = xstrdup(list), *save = NULL, *tok;
	const char *names[32];
	size_t nn = 0, i, k;
	json_t *g;
	int rc = 0;

	if (!a->csv) {
		free(copy);
		return fail_usage("nvidia-smi", "--format=csv is required with a query");
	}
	for (tok = strtok_r(copy, ",", &save); tok && nn < 32; tok = strtok_r(NULL, ",", &save)) {
		if (!find_field(tok)) {
			printf("Field \"%s\" is not a valid field to query.\n\n", tok);
			free(copy);
			return 2;
		}
		names[nn++] = tok;
	}
	if (!a->noheader) {
		for (k = 0; k < nn; k++) {
			const struct gpu_field *f = find_field(names[k]);
			printf("%s%s", k ? ", " : "", names[k]);
			if (f->unit && !a->nounits)
				printf(" [%s]", f->unit);
		}
		printf("\n");
	}
	json_array_foreach(gpus(c), i, g) {
		if (a->index >= 0 && (long)i != a->index)
			continue;
		if (jtrue(g, "lost")) {
			smi_lost(g);
			rc = 15;
			continue;
		}
		for (k = 0; k < nn; k++) {
			const struct gpu_field *f = find_field(names[k]);
			char v[128];
			field_value(c, g, names[k], v, sizeof(v));
			printf("%s%s", k ? ", " : "", v);
			if (f->unit && !a->nounits)
				printf(" %s", f->unit);
		}
		printf("\n");
	}
	free(copy);
	return rc;
}

struct reset_arg {
	long index;
	int rc;
};

static int
apply_reset(json_t *st, void *arg, struct rbx_err *err)
{
	struct reset_arg *r = arg;
	json_t *g = json_array_get(json_object_get(st, "gpus"), (size_t)r->index);
	json_t *svc = json_object_get(st, "services");

	(void)err;
	if (jtrue(g, "lost")) {
		printf("Unable to reset GPU 00000000:%s:00.0: GPU is lost. Reboot the system to "
		       "recover this GPU\n", jstr(g, "bus"));
		r->rc = 15;
		return 0;
	}
	/* DCGM's hostengine holds the device; persistenced may stay (per NVIDIA's FM guide). */
	if (!strcmp(jstr(svc, "nvidia-dcgm"), "active")) {
		printf("The following GPUs could not be reset:\n  GPU 00000000:%s:00.0: In use by "
		       "another client\n\n1 device is currently being used by one or more other "
		       "processes (e.g., Fabric Manager, CUDA application, graphics application "
		       "such as an X server, or a monitoring application such as another instance "
		       "of nvidia-smi). Please first kill all processes using this device and all "
		       "compute applications running in the system.\n", jstr(g, "bus"));
		r->rc = 255;
		return 0;
	}
	if (!jtrue(st, "persistent")) {
		json_object_set_new(g, "remap_pending", json_false());
		json_object_set_new(g, "ecc_mode", json_copy(json_object_get(g, "ecc_pending")));
	}
	printf("GPU 00000000:%s:00.0 was successfully reset.\nAll done.\n", jstr(g, "bus"));
	r->rc = 0;
	return 0;
}

struct ecc_arg {
	long index;
	const char *mode;
};

static int
apply_ecc(json_t *st, void *arg, struct rbx_err *err)
{
	struct ecc_arg *e = arg;
	json_t *g;
	size_t i;

	(void)err;
	json_array_foreach(json_object_get(st, "gpus"), i, g) {
		if (e->index >= 0 && (long)i != e->index)
			continue;
		json_object_set_new(g, "ecc_pending", json_string(e->mode));
		printf("%s ECC support for GPU 00000000:%s:00.0.\n",
		       !strcmp(e->mode, "Enabled") ? "Enabled" : "Disabled", jstr(g, "bus"));
	}
	printf("All done.\nReboot required.\n");
	return 0;
}

static int
tool_nvidia_smi(struct tool_ctx *c, int argc, char **argv)
{
	struct smi_args a = {0};
	json_t *g;
	size_t i;
	int k, rc = 0;

	a.index = -1;
	for (k = 1; k < argc; k++) {
		const char *s = argv[k];
		if (!strcmp(s, "-L") || !strcmp(s, "--list-gpus"))
			a.list = true;
		else if (!strcmp(s, "-q") || !strcmp(s, "--query"))
			a.query = true;
		else if (!strcmp(s, "-r") || !strcmp(s, "--gpu-reset"))
			a.reset = true;
		else if ((!strcmp(s, "-d") || !strcmp(s, "--display")) && k + 1 < argc)
			a.display = argv[++k];
		else if ((!strcmp(s, "-i") || !strcmp(s, "--id")) && k + 1 < argc)
			a.index = strtol(argv[++k], NULL, 10);
		else if (!strncmp(s, "-i", 2) && s[2])
			a.index = strtol(s + 2, NULL, 10);
		else if ((!strcmp(s, "-e") || !strcmp(s, "--ecc-config")) && k + 1 < argc)
			a.ecc = argv[++k];
		else if (!strncmp(s, "--query-gpu=", 12))
			a.query_gpu = s + 12;
		else if (!strncmp(s, "--query-remapped-rows=", 22))
			a.query_remap = s + 22;
		else if (!strncmp(s, "--query-compute-apps=", 21))
			a.query_apps = s + 21;
		else if (!strncmp(s, "--format=", 9)) {
			a.csv = strstr(s, "csv") != NULL;
			a.noheader = strstr(s, "noheader") != NULL;
			a.nounits = strstr(s, "nounits") != NULL;
		} else {
			fprintf(stderr, "Invalid combination of input arguments. Please run "
					"'nvidia-smi -h' for help.\n");
			return 2;
		}
	}
	if (a.index >= (long)json_array_size(gpus(c)) || a.index < -1) {
		printf("No devices were found\n");
		return 6;
	}
	if (a.reset) {
		struct reset_arg r = {a.index, 0};
		if (a.index < 0)
			return fail_usage("nvidia-smi", "-r needs -i N in the lab");
		return save(c, apply_reset, &r) < 0 ? 255 : r.rc;
	}
	if (a.ecc) {
		struct ecc_arg e = {a.index, !strcmp(a.ecc, "1") ? "Enabled" : "Disabled"};
		return save(c, apply_ecc, &e) < 0 ? 255 : 0;
	}
	if (a.query_gpu)
		return smi_query(c, &a, a.query_gpu);
	if (a.query_remap)
		return smi_query(c, &a, a.query_remap);
	if (a.query_apps) {
		if (!a.noheader)
			printf("%s\n", a.query_apps);
		return 0;
	}
	if (a.query)
		return smi_q(c, &a);
	json_array_foreach(gpus(c), i, g) {
		if (a.index >= 0 && (long)i != a.index)
			continue;
		if (jtrue(g, "lost")) {
			smi_lost(g);
			rc = 15;
			continue;
		}
		printf("GPU %zu: %s (UUID: %s)\n", i, jstr(c->st, "model"), jstr(g, "uuid"));
	}
	return rc;
}

/* ---- dcgmi ---------------------------------------------------------------------- */

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
	{"Deployment", "Inforom", 1}, {"Integration", "PCIe", 2}, {"Hardware", "GPU Memory", 2},
	{"Hardware", "Diagnostic", 3}, {"Stress", "Targeted Stress", 3},
	{"Stress", "Targeted Power", 3}, {"Stress", "Memory Bandwidth", 3},
	{"Stress", "SM Stress", 3}, {"Hardware", "Memtest", 4}, {"Hardware", "Pulse Test", 4},
	{NULL, NULL, 0},
};

/* Which GPU fails a row, or -1 when it passes. */
static long
diag_failing_gpu(struct tool_ctx *c, const struct diag_row *r, int level)
{
	json_t *g;
	size_t i;

	json_array_foreach(gpus(c), i, g) {
		if (!strcmp(r->name, "Page Retirement/Row Remap") &&
		    (jtrue(g, "remap_pending") || jtrue(g, "remap_failed")))
			return (long)i;
		if (!strcmp(r->name, "Persistence Mode") && jtrue(g, "lost"))
			return (long)i;
	}
	if (!strcmp(jstr(c->st, "dcgm"), "fail") &&
	    ((level == 2 && !strcmp(r->name, "GPU Memory")) ||
	     (level >= 3 && !strcmp(r->name, "Diagnostic"))))
		return 3;
	return -1;
}

static int
tool_dcgmi(struct tool_ctx *c, int argc, char **argv)
{
	const struct diag_row *r;
	const char *section = "";
	bool json = false;
	int level = 1, k, failed = 0;
	json_t *out, *tests;

	if (argc < 2 || strcmp(argv[1], "diag"))
		return fail_usage("dcgmi", "the lab simulates 'dcgmi diag -r LEVEL [-j]'");
	for (k = 2; k < argc; k++) {
		if (!strcmp(argv[k], "-r") && k + 1 < argc)
			level = atoi(argv[++k]);
		else if (!strcmp(argv[k], "-j"))
			json = true;
	}
	if (level < 1 || level > 4)
		return fail_usage("dcgmi", "-r takes 1, 2, 3 or 4");
	if (strcmp(jstr(json_object_get(c->st, "services"), "nvidia-dcgm"), "active")) {
		printf("Error: unable to establish a connection to the specified host: localhost\n"
		       "Error: Unable to connect to host engine. Host engine connection "
		       "invalid/disconnected.\n");
		return 255;
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
		long bad;
		char res[64];
		if (r->level > level)
			continue;
		bad = diag_failing_gpu(c, r, level);
		if (bad >= 0)
			failed++;
		if (bad >= 0)
			snprintf(res, sizeof(res), "Fail - GPU: %ld", bad);
		else
			snprintf(res, sizeof(res), "Pass%s", r->level >= 2 ? " - All" : "");
		json_array_append_new(tests, json_pack("{s:s, s:s, s:s}", "category", r->section,
						       "name", r->name, "status",
						       bad >= 0 ? "Fail" : "Pass"));
		if (json)
			continue;
		if (strcmp(section, r->section)) {
			section = r->section;
			printf("+-----  %-19s+------------------------------------------------+\n",
			       section);
		}
		printf("| %-25s | %-46s |\n", r->name, res);
		if (bad >= 0)
			printf("| %-25s | %-46s |\n", "Warning",
			       "GPU 3: check DCGM and system logs; reset GPU");
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

/* ---- kernel log: journalctl -k, dmesg ----------------------------------------------- */

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
		else if (*end == 'm' && end[1] != 's')
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
tool_kernel_log(struct tool_ctx *c, int argc, char **argv, bool dmesg)
{
	long long boot = jint(c->st, "boot");
	time_t since = 0, now = time(NULL), boot_time = (time_t)jint(c->st, "boot_time");
	bool human = false;
	json_t *e;
	size_t i;
	int k;

	for (k = 1; k < argc; k++) {
		const char *s = argv[k], *v = NULL;
		if (!strncmp(s, "--since=", 8))
			v = s + 8;
		else if ((!strcmp(s, "--since") || !strcmp(s, "-S")) && k + 1 < argc)
			v = argv[++k];
		else if (!strcmp(s, "-b") && k + 1 < argc && argv[k + 1][0] == '-')
			boot += strtol(argv[++k], NULL, 10);
		else if (!strcmp(s, "-T"))
			human = true;
		if (v && !parse_since(v, now, &since)) {
			fprintf(stderr, "Failed to parse timestamp: %s\n", v);
			return 1;
		}
	}
	json_array_foreach(json_object_get(c->st, "kernel_log"), i, e) {
		time_t t = (time_t)jint(e, "t");
		char ts[64];
		if (jint(e, "boot") != boot || t < since)
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

/* ---- nvidia-bug-report.sh, systemctl --------------------------------------------- */

static int
tool_bug_report(struct tool_ctx *c, int argc, char **argv)
{
	const char *name = "nvidia-bug-report.log.gz", *base;
	FILE *fp;
	int k;

	for (k = 1; k < argc; k++)
		if (!strcmp(argv[k], "--output-file") && k + 1 < argc)
			name = argv[++k];
	/* Only ever write into the lab's scratch dir, whatever path was asked for. */
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (!*base || !strcmp(base, "..") || !strcmp(base, "."))
		return fail_usage("nvidia-bug-report.sh", "bad --output-file");
	printf("nvidia-bug-report.sh will now collect information about your system and create "
	       "the file '%s' in the current directory.\n\n", base);
	fp = fopen(base, "w");
	if (!fp) {
		fprintf(stderr, "nvidia-bug-report.sh: cannot write %s: %s\n", base, strerror(errno));
		return 1;
	}
	json_dumpf(c->st, fp, JSON_INDENT(2));
	fclose(fp);
	printf("*** Complete.\n");
	return 0;
}

struct svc_arg {
	const char *verb;
	char **units;
	int n;
};

static int
apply_svc(json_t *st, void *arg, struct rbx_err *err)
{
	struct svc_arg *a = arg;
	json_t *svc = json_object_get(st, "services");
	int k;

	(void)err;
	for (k = 0; k < a->n; k++) {
		char *u = xstrdup(a->units[k]), *dot = strstr(u, ".service");
		if (dot)
			*dot = 0;
		if (!strcmp(a->verb, "stop"))
			json_object_set_new(svc, u, json_string("inactive"));
		else if (!strcmp(a->verb, "start") || !strcmp(a->verb, "restart"))
			json_object_set_new(svc, u, json_string("active"));
		free(u);
	}
	return 0;
}

static int
tool_systemctl(struct tool_ctx *c, int argc, char **argv)
{
	json_t *svc = json_object_get(c->st, "services");
	struct svc_arg a = {NULL, xcalloc((size_t)argc, sizeof(char *)), 0};
	int k, rc = 0;

	for (k = 1; k < argc; k++) {
		if (argv[k][0] == '-')
			continue;
		if (!a.verb)
			a.verb = argv[k];
		else
			a.units[a.n++] = argv[k];
	}
	if (!a.verb || !a.n) {
		free(a.units);
		return fail_usage("systemctl", "the lab simulates start|stop|restart|is-active|status UNIT...");
	}
	for (k = 0; k < a.n; k++) {
		char *u = xstrdup(a.units[k]), *dot = strstr(u, ".service");
		if (dot)
			*dot = 0;
		if (!json_object_get(svc, u)) {
			fprintf(stderr, "Failed to %s %s.service: Unit %s.service not loaded.\n", a.verb,
				u, u);
			rc = 5;
		}
		free(u);
	}
	if (rc == 0 && (!strcmp(a.verb, "is-active") || !strcmp(a.verb, "status"))) {
		for (k = 0; k < a.n; k++) {
			char *u = xstrdup(a.units[k]), *dot = strstr(u, ".service");
			const char *s;
			if (dot)
				*dot = 0;
			s = jstr(svc, u);
			if (!strcmp(a.verb, "status"))
				printf("* %s.service\n     Active: %s\n", u,
				       !strcmp(s, "active") ? "active (running)" : "inactive (dead)");
			else
				printf("%s\n", s);
			if (strcmp(s, "active"))
				rc = 3;
			free(u);
		}
	} else if (rc == 0 && strcmp(a.verb, "stop") && strcmp(a.verb, "start") &&
		   strcmp(a.verb, "restart")) {
		fprintf(stderr, "rbx lab: 'systemctl %s' is not simulated in the lab\n", a.verb);
		rc = 127;
	} else if (rc == 0 && save(c, apply_svc, &a) < 0) {
		rc = 1;
	}
	free(a.units);
	return rc;
}

/* ---- dispatch ---------------------------------------------------------------------- */

int
lab_tool_main(int argc, char **argv)
{
	const char *tool = strrchr(argv[0], '/');
	struct tool_ctx c;
	struct rbx_err err;
	int rc;

	tool = tool ? tool + 1 : argv[0];
	c.node_dir = getenv(LAB_ENV_STATE);
	c.node = getenv("RBX_LAB_NODE");
	if (!c.node_dir || !c.node) {
		fprintf(stderr, "%s: this is rbx's lab simulation; it runs only inside an rbx lab run\n",
			tool);
		return 127;
	}
	if (!strcmp(tool, "nvidia-smi") || !strcmp(tool, "dcgmi") || !strcmp(tool, "journalctl") ||
	    !strcmp(tool, "dmesg") || !strcmp(tool, "nvidia-bug-report.sh") ||
	    !strcmp(tool, "systemctl")) {
		c.st = lab_node_load(c.node_dir, c.node, &err);
		if (!c.st) {
			fprintf(stderr, "rbx lab: %s\n", err.msg);
			return 255;
		}
	} else {
		fprintf(stderr, "rbx lab: '%s' is not simulated in the lab\n", tool);
		return 127;
	}
	if (!strcmp(tool, "nvidia-smi"))
		rc = tool_nvidia_smi(&c, argc, argv);
	else if (!strcmp(tool, "dcgmi"))
		rc = tool_dcgmi(&c, argc, argv);
	else if (!strcmp(tool, "journalctl"))
		rc = tool_kernel_log(&c, argc, argv, false);
	else if (!strcmp(tool, "dmesg"))
		rc = tool_kernel_log(&c, argc, argv, true);
	else if (!strcmp(tool, "nvidia-bug-report.sh"))
		rc = tool_bug_report(&c, argc, argv);
	else
		rc = tool_systemctl(&c, argc, argv);
	json_decref(c.st);
	fflush(stdout);
	return rc;
}
