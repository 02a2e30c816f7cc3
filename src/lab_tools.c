/* lab_tools.c - the lab's simulated tools: dispatch by argv[0], shared helpers,
 * and the GPU tools (nvidia-smi, dcgmi, kernel log, bug report), in the real formats. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rbx/lab.h"
#include "lab_internal.h"

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
	{"kill", tool_kill, true},
	{"nv-fabricmanager", tool_nv_fabricmanager, false},
	{"all_reduce_perf", tool_all_reduce_perf, false},
	{"nvbandwidth", tool_nvbandwidth, false},
	{"ibstat", tool_ibstat, false},
	{"perfquery", tool_perfquery, false},
	{"ipmitool", tool_ipmitool, true},
	{"curl", tool_curl, false},
	{"sinfo", tool_sinfo, false},
	{"squeue", tool_squeue, false},
	{"scontrol", tool_scontrol, true},
	{"sbatch", tool_sbatch, true},
	{"scancel", tool_scancel, true},
	{"kubectl", tool_kubectl, true},
	{NULL, NULL, false},
};

/* ---- helpers ------------------------------------------------------------------------ */

bool
jtrue(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

long long
jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_real(v) ? (long long)json_real_value(v) : (long long)json_integer_value(v);
}

void
jset_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, json_string(v));
}

void
jset_int(json_t *o, const char *k, long long v)
{
	json_object_set_new(o, k, json_integer(v));
}

void
jset_bool(json_t *o, const char *k, bool v)
{
	json_object_set_new(o, k, json_boolean(v));
}

json_t *
jgpus(struct tool_ctx *c)
{
	return json_object_get(c->st, "gpus");
}

bool
arg_has(int argc, char **argv, const char *flag)
{
	int k;

	for (k = 1; k < argc; k++)
		if (!strcmp(argv[k], flag))
			return true;
	return false;
}

const char *
arg_val(int argc, char **argv, const char *flag)
{
	size_t n = strlen(flag);
	int k;

	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], flag) && k + 1 < argc)
			return argv[k + 1];
		if (!strncmp(argv[k], flag, n) && argv[k][n] == '=')
			return argv[k] + n + 1;
		if (flag[0] == '-' && flag[1] != '-' && !strncmp(argv[k], flag, n) && argv[k][n])
			return argv[k] + n;
	}
	return NULL;
}

int
tool_usage(struct tool_ctx *c, const char *msg)
{
	fprintf(stderr, "%s: %s\n", c->tool, msg);
	return 2;
}

bool
service_active(json_t *st, const char *unit)
{
	return !strcmp(jstr(json_object_get(st, "services"), unit), "active");
}

void
lab_log_kernel(json_t *st, long long when, const char *msg)
{
	json_array_append_new(json_object_get(st, "kernel_log"),
			      json_pack("{s:I, s:I, s:s}", "t", (json_int_t)when, "boot",
					(json_int_t)jint(st, "boot"), "msg", msg));
}

/* What a GPU reset clears, unless the fault is in the hardware. */
void
lab_repair_on_reset(json_t *st, json_t *g)
{
	if (jtrue(st, "persistent"))
		return;
	jset_bool(g, "remap_pending", false);
	json_object_set(g, "ecc_mode", json_object_get(g, "ecc_pending"));
	json_object_set(g, "mig_mode", json_object_get(g, "mig_pending"));
	jset_bool(g, "nvlink_down", false);
}

/* ---- nvidia-smi ---------------------------------------------------------------------- */

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

/* nvidia-smi cannot talk to a driver that is not loaded or does not match its library. */
static int
smi_driver_check(struct tool_ctx *c)
{
	if (!jtrue(c->st, "module_loaded")) {
		printf("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
		       "Make sure that the latest NVIDIA driver is installed and running.\n\n");
		return 9;
	}
	if (strcmp(jstr(c->st, "module_version"), jstr(c->st, "driver"))) {
		printf("Failed to initialize NVML: Driver/library version mismatch\n"
		       "NVML library version: %.6s\n", jstr(c->st, "driver"));
		return 18;
	}
	return 0;
}

static int
gpu_temp(struct tool_ctx *c, json_t *g)
{
	long long t = jint(g, "temp");

	/* A power cap cools a hot GPU, unless the cooling itself has failed. */
	if (jint(g, "hot") && !jtrue(c->st, "cooling_failed") &&
	    jint(g, "power_limit") < jint(g, "default_power_limit"))
		t = 60 + jint(g, "index") % 5;
	return (int)t;
}

static int
gpu_sm_clock(struct tool_ctx *c, json_t *g)
{
	int clk = service_active(c->st, "nvidia-persistenced") ? 1980 : 345;

	if (jint(c->st, "clock_cap_mhz") && clk > jint(c->st, "clock_cap_mhz"))
		clk = (int)jint(c->st, "clock_cap_mhz");
	if (gpu_temp(c, g) >= 89 || !strcmp(jstr(c->st, "throttle"), "thermal"))
		clk = clk > 1200 ? 1200 : clk;
	return clk;
}

static const char *
throttle_state(struct tool_ctx *c, json_t *g, const char *reason)
{
	bool hot = gpu_temp(c, g) >= 89 || !strcmp(jstr(c->st, "throttle"), "thermal");

	if (!strcmp(reason, "hw_thermal") || !strcmp(reason, "sw_thermal"))
		return hot ? "Active" : "Not Active";
	if (!strcmp(reason, "sw_power"))
		return jint(g, "power_limit") < jint(g, "default_power_limit") ? "Active" : "Not Active";
	if (!strcmp(reason, "idle"))
		return gpu_sm_clock(c, g) < 400 ? "Active" : "Not Active";
	return "Not Active";
}

static bool
want_section(const char *display, const char *name)
{
	return !display || strcasestr(display, name) != NULL;
}

static unsigned
mig_gi_count(json_t *g)
{
	return (unsigned)json_array_size(json_object_get(g, "gis"));
}

static int
smi_q(struct tool_ctx *c, const char *display, long index)
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
	kv(0, "Attached GPUs", "%zu", json_array_size(jgpus(c)));
	json_array_foreach(jgpus(c), i, g) {
		if (index >= 0 && (long)i != index)
			continue;
		if (jtrue(g, "lost")) {
			smi_lost(g);
			rc = 15;
			continue;
		}
		printf("GPU 00000000:%s:00.0\n", jstr(g, "bus"));
		if (!display) {
			kv(1, "Product Name", "%s", jstr(c->st, "model"));
			kv(1, "Persistence Mode", "%s",
			   service_active(c->st, "nvidia-persistenced") ? "Enabled" : "Disabled");
			printf("    MIG Mode\n");
			kv(2, "Current", "%s", jstr(g, "mig_mode"));
			kv(2, "Pending", "%s", jstr(g, "mig_pending"));
			kv(1, "Serial Number", "%s", jstr(g, "serial"));
			kv(1, "GPU UUID", "%s", jstr(g, "uuid"));
			kv(1, "VBIOS Version", "%s", jstr(c->st, "vbios"));
			printf("    Inforom Version\n");
			kv(2, "Image Version", "G520.0200.00.05");
			kv(1, "GSP Firmware Version", "%s", jstr(c->st, "gsp_fw"));
			printf("    Fabric\n");
			if (service_active(c->st, "nvidia-fabricmanager") &&
			    !strcmp(jstr(c->st, "fm_version"), jstr(c->st, "driver"))) {
				kv(2, "State", "Completed");
				kv(2, "Status", "Success");
			} else {
				kv(2, "State", "In Progress");
				kv(2, "Status", "N/A");
			}
		}
		if (want_section(display, "PCI") && display) {
			printf("    PCI\n        GPU Link Info\n            PCIe Generation\n");
			kv(4, "Max", "5");
			kv(4, "Current", "%lld", jint(g, "pcie_gen"));
			printf("            Link Width\n");
			kv(4, "Max", "16x");
			kv(4, "Current", "%lldx", jint(g, "pcie_width"));
		}
		if (want_section(display, "ECC")) {
			printf("    ECC Mode\n");
			kv(2, "Current", "%s", jstr(g, "ecc_mode"));
			kv(2, "Pending", "%s", jstr(g, "ecc_pending"));
			printf("    ECC Errors\n        Volatile\n");
			kv(3, "SRAM Correctable", "%lld", jint(g, "sbe"));
			kv(3, "SRAM Uncorrectable", "0");
			kv(3, "DRAM Correctable", "0");
			kv(3, "DRAM Uncorrectable", "%lld", jint(g, "dbe"));
		}
		if (want_section(display, "ROW_REMAPPER")) {
			printf("    Remapped Rows\n");
			kv(2, "Correctable Error", "%lld", jint(g, "remap_corr"));
			kv(2, "Uncorrectable Error", "%lld", jint(g, "remap_uncorr"));
			kv(2, "Pending", "%s", jtrue(g, "remap_pending") ? "Yes" : "No");
			kv(2, "Remapping Failure Occurred", "%s", jtrue(g, "remap_failed") ? "Yes" : "No");
			printf("        Bank Remap Availability Histogram\n");
			kv(3, "Max", "%d bank(s)", jtrue(g, "remap_failed") ? 0 : 639);
			kv(3, "High", "%d bank(s)", jint(g, "remap_uncorr") ? 1 : 0);
			kv(3, "Partial", "0 bank(s)");
			kv(3, "Low", "0 bank(s)");
			kv(3, "None", "%d bank(s)", jtrue(g, "remap_failed") ? 640 : 0);
		}
		if (want_section(display, "TEMPERATURE")) {
			printf("    Temperature\n");
			kv(2, "GPU Current Temp", "%d C", gpu_temp(c, g));
			kv(2, "GPU T.Limit Temp", "N/A");
			kv(2, "GPU Shutdown Temp", "92 C");
			kv(2, "GPU Slowdown Temp", "89 C");
			kv(2, "GPU Max Operating Temp", "87 C");
			kv(2, "Memory Current Temp", "%d C", gpu_temp(c, g) + 6);
			kv(2, "Memory Max Operating Temp", "95 C");
		}
		if (want_section(display, "POWER")) {
			printf("    GPU Power Readings\n");
			kv(2, "Power Draw", "%.2f W", 68.5 + (double)i);
			kv(2, "Current Power Limit", "%lld.00 W", jint(g, "power_limit"));
			kv(2, "Requested Power Limit", "%lld.00 W", jint(g, "power_limit"));
			kv(2, "Default Power Limit", "%lld.00 W", jint(g, "default_power_limit"));
			kv(2, "Min Power Limit", "200.00 W");
			kv(2, "Max Power Limit", "700.00 W");
		}
		if (want_section(display, "PERFORMANCE")) {
			printf("    Performance State                     : P0\n");
			printf("    Clocks Event Reasons\n");
			kv(2, "Idle", "%s", throttle_state(c, g, "idle"));
			kv(2, "Applications Clocks Setting", "Not Active");
			kv(2, "SW Power Cap", "%s", throttle_state(c, g, "sw_power"));
			kv(2, "HW Slowdown", "%s", throttle_state(c, g, "hw_thermal"));
			kv(3, "HW Thermal Slowdown", "%s", throttle_state(c, g, "hw_thermal"));
			kv(3, "HW Power Brake Slowdown", "Not Active");
			kv(2, "Sync Boost", "Not Active");
			kv(2, "SW Thermal Slowdown", "%s", throttle_state(c, g, "sw_thermal"));
			kv(2, "Display Clock Setting", "Not Active");
		}
		printf("\n");
	}
	return rc;
}

struct gpu_field {
	const char *name;
	const char *unit;
};

static const struct gpu_field gpu_fields[] = {
	{"index", NULL}, {"name", NULL}, {"pci.bus_id", NULL}, {"serial", NULL}, {"uuid", NULL},
	{"driver_version", NULL}, {"vbios_version", NULL}, {"temperature.gpu", NULL},
	{"temperature.memory", NULL}, {"persistence_mode", NULL}, {"ecc.mode.current", NULL},
	{"ecc.mode.pending", NULL}, {"memory.used", "MiB"}, {"memory.total", "MiB"},
	{"utilization.gpu", "%"}, {"power.draw", "W"}, {"power.limit", "W"},
	{"power.default_limit", "W"}, {"enforced.power.limit", "W"}, {"clocks.sm", "MHz"},
	{"clocks.max.sm", "MHz"}, {"pstate", NULL}, {"mig.mode.current", NULL},
	{"mig.mode.pending", NULL}, {"pcie.link.gen.current", NULL}, {"pcie.link.gen.max", NULL},
	{"pcie.link.width.current", NULL}, {"pcie.link.width.max", NULL},
	{"clocks_event_reasons.hw_thermal_slowdown", NULL},
	{"clocks_event_reasons.sw_thermal_slowdown", NULL}, {"gpu_bus_id", NULL},
	{"remapped_rows.correctable", NULL}, {"remapped_rows.uncorrectable", NULL},
	{"remapped_rows.pending", NULL}, {"remapped_rows.failure", NULL}, {"pid", NULL},
	{"process_name", NULL}, {"used_memory", "MiB"}, {"gpu_uuid", NULL}, {NULL, NULL},
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

static long long
gpu_mem_used(struct tool_ctx *c, long idx)
{
	json_t *p;
	size_t i;
	long long used = 0;

	json_array_foreach(json_object_get(c->st, "procs"), i, p)
		if (jint(p, "gpu") == idx)
			used += jint(p, "mem");
	return used;
}

static void
field_value(struct tool_ctx *c, json_t *g, const char *name, char *out, size_t n)
{
	long idx = (long)jint(g, "index");

	if (!strcmp(name, "index"))
		snprintf(out, n, "%ld", idx);
	else if (!strcmp(name, "name"))
		snprintf(out, n, "%s", jstr(c->st, "model"));
	else if (!strcmp(name, "pci.bus_id") || !strcmp(name, "gpu_bus_id"))
		snprintf(out, n, "00000000:%s:00.0", jstr(g, "bus"));
	else if (!strcmp(name, "serial"))
		snprintf(out, n, "%s", jstr(g, "serial"));
	else if (!strcmp(name, "uuid") || !strcmp(name, "gpu_uuid"))
		snprintf(out, n, "%s", jstr(g, "uuid"));
	else if (!strcmp(name, "driver_version"))
		snprintf(out, n, "%s", jstr(c->st, "driver"));
	else if (!strcmp(name, "vbios_version"))
		snprintf(out, n, "%s", jstr(c->st, "vbios"));
	else if (!strcmp(name, "temperature.gpu"))
		snprintf(out, n, "%d", gpu_temp(c, g));
	else if (!strcmp(name, "temperature.memory"))
		snprintf(out, n, "%d", gpu_temp(c, g) + 6);
	else if (!strcmp(name, "persistence_mode"))
		snprintf(out, n, "%s",
			 service_active(c->st, "nvidia-persistenced") ? "Enabled" : "Disabled");
	else if (!strcmp(name, "ecc.mode.current"))
		snprintf(out, n, "%s", jstr(g, "ecc_mode"));
	else if (!strcmp(name, "ecc.mode.pending"))
		snprintf(out, n, "%s", jstr(g, "ecc_pending"));
	else if (!strcmp(name, "memory.used"))
		snprintf(out, n, "%lld", gpu_mem_used(c, idx));
	else if (!strcmp(name, "memory.total"))
		snprintf(out, n, "81559");
	else if (!strcmp(name, "utilization.gpu"))
		snprintf(out, n, "0");
	else if (!strcmp(name, "power.draw"))
		snprintf(out, n, "%.2f", 68.5 + (double)idx);
	else if (!strcmp(name, "power.limit") || !strcmp(name, "enforced.power.limit"))
		snprintf(out, n, "%lld.00", jint(g, "power_limit"));
	else if (!strcmp(name, "power.default_limit"))
		snprintf(out, n, "%lld.00", jint(g, "default_power_limit"));
	else if (!strcmp(name, "clocks.sm"))
		snprintf(out, n, "%d", gpu_sm_clock(c, g));
	else if (!strcmp(name, "clocks.max.sm"))
		snprintf(out, n, "1980");
	else if (!strcmp(name, "pstate"))
		snprintf(out, n, "P0");
	else if (!strcmp(name, "mig.mode.current"))
		snprintf(out, n, "%s", jstr(g, "mig_mode"));
	else if (!strcmp(name, "mig.mode.pending"))
		snprintf(out, n, "%s", jstr(g, "mig_pending"));
	else if (!strcmp(name, "pcie.link.gen.current"))
		snprintf(out, n, "%lld", jint(g, "pcie_gen"));
	else if (!strcmp(name, "pcie.link.gen.max"))
		snprintf(out, n, "5");
	else if (!strcmp(name, "pcie.link.width.current"))
		snprintf(out, n, "%lld", jint(g, "pcie_width"));
	else if (!strcmp(name, "pcie.link.width.max"))
		snprintf(out, n, "16");
	else if (!strcmp(name, "clocks_event_reasons.hw_thermal_slowdown"))
		snprintf(out, n, "%s", throttle_state(c, g, "hw_thermal"));
	else if (!strcmp(name, "clocks_event_reasons.sw_thermal_slowdown"))
		snprintf(out, n, "%s", throttle_state(c, g, "sw_thermal"));
	else if (!strcmp(name, "remapped_rows.correctable"))
		snprintf(out, n, "%lld", jint(g, "remap_corr"));
	else if (!strcmp(name, "remapped_rows.uncorrectable"))
		snprintf(out, n, "%lld", jint(g, "remap_uncorr"));
	else if (!strcmp(name, "remapped_rows.pending"))
		snprintf(out, n, "%s", jtrue(g, "remap_pending") ? "Yes" : "No");
	else if (!strcmp(name, "remapped_rows.failure"))
		snprintf(out, n, "%s", jtrue(g, "remap_failed") ? "Yes" : "No");
	else
		snprintf(out, n, "[N/A]");
}

static int
parse_fields(const char *list, char ***names, size_t *nn)
{
	char *copy = xstrdup(list), *save = NULL, *tok;

	*names = xcalloc(64, sizeof(char *));
	*nn = 0;
	for (tok = strtok_r(copy, ",", &save); tok && *nn < 63; tok = strtok_r(NULL, ",", &save)) {
		if (!find_field(tok)) {
			printf("Field \"%s\" is not a valid field to query.\n\n", tok);
			free(copy);
			for (size_t k = 0; k < *nn; k++)
				free((*names)[k]);
			free(*names);
			return -1;
		}
		(*names)[(*nn)++] = xstrdup(tok);
	}
	free(copy);
	return 0;
}

static void
print_header(char **names, size_t nn, bool nounits)
{
	size_t k;

	for (k = 0; k < nn; k++) {
		const struct gpu_field *f = find_field(names[k]);
		printf("%s%s", k ? ", " : "", names[k]);
		if (f->unit && !nounits)
			printf(" [%s]", f->unit);
	}
	printf("\n");
}

static int
smi_query(struct tool_ctx *c, const char *list, const char *format, long index)
{
	bool noheader = format && strstr(format, "noheader"), nounits = format && strstr(format, "nounits");
	char **names;
	size_t nn, i, k;
	json_t *g;
	int rc = 0;

	if (!format || !strstr(format, "csv"))
		return tool_usage(c, "--format=csv is required with a query");
	if (parse_fields(list, &names, &nn) < 0)
		return 2;
	if (!noheader)
		print_header(names, nn, nounits);
	json_array_foreach(jgpus(c), i, g) {
		if (index >= 0 && (long)i != index)
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
			if (f->unit && !nounits && strcmp(v, "[N/A]"))
				printf(" %s", f->unit);
		}
		printf("\n");
	}
	for (k = 0; k < nn; k++)
		free(names[k]);
	free(names);
	return rc;
}

static int
smi_apps(struct tool_ctx *c, const char *list, const char *format)
{
	bool noheader = format && strstr(format, "noheader"), nounits = format && strstr(format, "nounits");
	char **names;
	size_t nn, i, k;
	json_t *p;

	if (parse_fields(list, &names, &nn) < 0)
		return 2;
	if (!noheader)
		print_header(names, nn, nounits);
	json_array_foreach(json_object_get(c->st, "procs"), i, p) {
		json_t *g = json_array_get(jgpus(c), (size_t)jint(p, "gpu"));
		for (k = 0; k < nn; k++) {
			if (!strcmp(names[k], "pid"))
				printf("%s%lld", k ? ", " : "", jint(p, "pid"));
			else if (!strcmp(names[k], "process_name"))
				printf("%s%s", k ? ", " : "", jstr(p, "name"));
			else if (!strcmp(names[k], "used_memory"))
				printf("%s%lld%s", k ? ", " : "", jint(p, "mem"), nounits ? "" : " MiB");
			else if (!strcmp(names[k], "gpu_uuid"))
				printf("%s%s", k ? ", " : "", jstr(g, "uuid"));
			else if (!strcmp(names[k], "gpu_bus_id"))
				printf("%s00000000:%s:00.0", k ? ", " : "", jstr(g, "bus"));
			else
				printf("%s[N/A]", k ? ", " : "");
		}
		printf("\n");
	}
	for (k = 0; k < nn; k++)
		free(names[k]);
	free(names);
	return 0;
}

static int
smi_reset(struct tool_ctx *c, long index)
{
	json_t *g = json_array_get(jgpus(c), (size_t)index);

	if (jtrue(g, "lost")) {
		printf("Unable to reset GPU 00000000:%s:00.0: GPU is lost. Reboot the system to "
		       "recover this GPU\n", jstr(g, "bus"));
		return 15;
	}
	/* DCGM's hostengine holds the device; persistenced may stay (per NVIDIA's FM guide). */
	if (service_active(c->st, "nvidia-dcgm") || json_array_size(json_object_get(c->st, "procs"))) {
		printf("The following GPUs could not be reset:\n  GPU 00000000:%s:00.0: In use by "
		       "another client\n\n1 device is currently being used by one or more other "
		       "processes (e.g., Fabric Manager, CUDA application, graphics application "
		       "such as an X server, or a monitoring application such as another instance "
		       "of nvidia-smi). Please first kill all processes using this device and all "
		       "compute applications running in the system.\n", jstr(g, "bus"));
		return 255;
	}
	lab_repair_on_reset(c->st, g);
	c->dirty = true;
	printf("GPU 00000000:%s:00.0 was successfully reset.\nAll done.\n", jstr(g, "bus"));
	return 0;
}

static const struct {
	int id;
	const char *name;
	int slices;
} mig_profiles[] = {
	{19, "1g.10gb", 1}, {15, "1g.20gb", 1}, {14, "2g.20gb", 2}, {9, "3g.40gb", 3},
	{5, "4g.40gb", 4}, {0, "7g.80gb", 7}, {-1, NULL, 0},
};

/* A profile by ID ("9") or name ("3g.40gb"). */
static int
mig_profile(const char *s)
{
	bool num = *s && strspn(s, "0123456789") == strlen(s);
	int i;

	for (i = 0; mig_profiles[i].name; i++)
		if (num ? atoi(s) == mig_profiles[i].id : !strcmp(s, mig_profiles[i].name))
			return i;
	return -1;
}

static int
smi_mig(struct tool_ctx *c, int argc, char **argv, long index)
{
	const char *cgi = arg_val(argc, argv, "-cgi");
	json_t *g;
	size_t i, k;
	int rc = 0;

	json_array_foreach(jgpus(c), i, g) {
		json_t *gis = json_object_get(g, "gis"), *gi;
		if (index >= 0 && (long)i != index)
			continue;
		if (arg_has(argc, argv, "-lgi") || arg_has(argc, argv, "-lci")) {
			if (strcmp(jstr(g, "mig_mode"), "Enabled")) {
				printf("No MIG-enabled devices found.\n");
				rc = 6;
				continue;
			}
			if (!json_array_size(gis)) {
				printf("No GPU instances found: Not Found\n");
				continue;
			}
			bool ci = arg_has(argc, argv, "-lci");
			printf("+-------------------------------------------------------+\n");
			printf(ci ? "| Compute instances:                                    |\n"
				  : "| GPU instances:                                        |\n");
			printf(ci ? "| GPU     GPU       Name             Profile   Instance  |\n"
				  : "| GPU   Name             Profile  Instance   Placement  |\n");
			printf("|=======================================================|\n");
			json_array_foreach(gis, k, gi) {
				int p = (int)jint(gi, "profile");
				if (ci)
					printf("|   %zu      %2zu       MIG %-12s     0         0      |\n", i,
					       k + 1, mig_profiles[p].name);
				else
					printf("|   %zu  MIG %-12s    %2d       %2zu          %zu:%d     |\n", i,
					       mig_profiles[p].name, mig_profiles[p].id, k + 1, k,
					       mig_profiles[p].slices);
			}
			printf("+-------------------------------------------------------+\n");
		} else if (arg_has(argc, argv, "-dci")) {
			if (jtrue(c->st, "mig_busy") && json_array_size(gis)) {
				printf("Unable to destroy compute instance ID 0 from GPU %zu GPU instance ID 1: "
				       "In use by another client\n", i);
				rc = 255;
				continue;
			}
			json_array_foreach(gis, k, gi)
				printf("Successfully destroyed compute instance ID  0 from GPU %zu GPU "
				       "instance ID %2zu\n", i, k + 1);
		} else if (arg_has(argc, argv, "-dgi")) {
			if (jtrue(c->st, "mig_busy") && json_array_size(gis)) {
				printf("Unable to destroy GPU instance ID 1 from GPU %zu: In use by another "
				       "client\n", i);
				rc = 255;
				continue;
			}
			json_array_foreach(gis, k, gi)
				printf("Successfully destroyed GPU instance ID %2zu from GPU %zu\n", k + 1, i);
			json_array_clear(gis);
			c->dirty = true;
		} else if (cgi) {
			char *copy = xstrdup(cgi), *save = NULL, *tok;
			int used = 0;
			json_array_foreach(gis, k, gi)
				used += mig_profiles[jint(gi, "profile")].slices;
			for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				int p = mig_profile(tok);
				if (p < 0) {
					printf("Unable to create a GPU instance on GPU %zu using profile %s: "
					       "Invalid Argument\n", i, tok);
					rc = 2;
					break;
				}
				if (used + mig_profiles[p].slices > 7) {
					printf("Unable to create a GPU instance on GPU %zu using profile %d: "
					       "Insufficient Resources\n", i, mig_profiles[p].id);
					rc = 255;
					break;
				}
				used += mig_profiles[p].slices;
				json_array_append_new(gis, json_pack("{s:i}", "profile", p));
				printf("Successfully created GPU instance ID %2zu on GPU %zu using profile MIG "
				       "%s (ID %2d)\n", json_array_size(gis), i, mig_profiles[p].name,
				       mig_profiles[p].id);
				if (arg_has(argc, argv, "-C"))
					printf("Successfully created compute instance ID  0 on GPU %zu GPU "
					       "instance ID %2zu using profile MIG %s (ID  2)\n",
					       i, json_array_size(gis), mig_profiles[p].name);
			}
			free(copy);
			c->dirty = true;
		} else {
			return tool_usage(c, "the lab simulates mig -lgi, -lci, -dci, -dgi, -cgi LIST [-C]");
		}
	}
	return rc;
}

static int
smi_nvlink(struct tool_ctx *c, int argc, char **argv, long index)
{
	json_t *g;
	size_t i;
	int l;

	json_array_foreach(jgpus(c), i, g) {
		if (index >= 0 && (long)i != index)
			continue;
		printf("GPU %zu: %s (UUID: %s)\n", i, jstr(c->st, "model"), jstr(g, "uuid"));
		for (l = 0; l < 18; l++) {
			bool down = jtrue(g, "nvlink_down");
			if (arg_has(argc, argv, "-e"))
				printf("\t Link %d: Replay Errors: %d\n\t Link %d: Recovery Errors: %d\n"
				       "\t Link %d: CRC Errors: %d\n", l, down ? 12 : 0, l, down ? 3 : 0, l,
				       down ? 41 : 0);
			else
				printf(down ? "\t Link %d: <inactive>\n" : "\t Link %d: 26.562 GB/s\n", l);
		}
	}
	return 0;
}

static bool
p2p_ok(struct tool_ctx *c, json_t *a, json_t *b)
{
	return !jtrue(a, "nvlink_down") && !jtrue(b, "nvlink_down") &&
	       service_active(c->st, "nvidia-fabricmanager");
}

static int
smi_topo(struct tool_ctx *c, int argc, char **argv)
{
	json_t *a, *b;
	size_t i, k;
	bool p2p = arg_has(argc, argv, "-p2p");

	printf("\t");
	for (i = 0; i < json_array_size(jgpus(c)); i++)
		printf("GPU%zu\t", i);
	printf(p2p ? "\n" : "CPU Affinity\tNUMA Affinity\n");
	json_array_foreach(jgpus(c), i, a) {
		printf("GPU%zu\t", i);
		json_array_foreach(jgpus(c), k, b) {
			if (i == k)
				printf("X\t");
			else if (p2p)
				printf("%s\t", p2p_ok(c, a, b) ? "OK" : "NS");
			else
				printf("%s\t", p2p_ok(c, a, b) ? "NV18" : "SYS");
		}
		printf(p2p ? "\n" : "%s\t%zu\n", i < 4 ? "0-55,112-167" : "56-111,168-223", i / 4);
	}
	if (!p2p)
		printf("\nLegend:\n\n  X    = Self\n  SYS  = Connection traversing PCIe as well as the "
		       "SMP interconnect between NUMA nodes (e.g., QPI/UPI)\n  NV#  = Connection "
		       "traversing a bonded set of # NVLinks\n");
	else
		printf("\nLegend:\n\n  X    = Self\n  OK   = Status Ok\n  NS   = Not supported\n");
	return 0;
}

int
tool_nvidia_smi(struct tool_ctx *c, int argc, char **argv)
{
	const char *idx = arg_val(argc, argv, "-i"), *fmt = arg_val(argc, argv, "--format");
	const char *v;
	long index = idx ? strtol(idx, NULL, 10) : -1;
	json_t *g;
	size_t i;
	int rc;

	if (arg_has(argc, argv, "--version")) {
		printf("NVIDIA-SMI version  : %s\nNVML version        : %.6s\nDRIVER version      : "
		       "%s\nCUDA Version        : %s\n", jstr(c->st, "driver"), jstr(c->st, "driver"),
		       jtrue(c->st, "module_loaded") ? jstr(c->st, "module_version") : "N/A",
		       jstr(c->st, "cuda"));
		return 0;
	}
	if ((rc = smi_driver_check(c)) != 0)
		return rc;
	if (idx && (index < 0 || index >= (long)json_array_size(jgpus(c)))) {
		printf("No devices were found\n");
		return 6;
	}
	if (argc > 1 && !strcmp(argv[1], "mig"))
		return smi_mig(c, argc, argv, index);
	if (argc > 1 && !strcmp(argv[1], "nvlink"))
		return smi_nvlink(c, argc, argv, index);
	if (argc > 1 && !strcmp(argv[1], "topo"))
		return smi_topo(c, argc, argv);
	if (arg_has(argc, argv, "-r") || arg_has(argc, argv, "--gpu-reset")) {
		if (index < 0)
			return tool_usage(c, "-r needs -i N in the lab");
		return smi_reset(c, index);
	}
	if ((v = arg_val(argc, argv, "-e")) != NULL || (v = arg_val(argc, argv, "--ecc-config"))) {
		json_array_foreach(jgpus(c), i, g) {
			if (index >= 0 && (long)i != index)
				continue;
			jset_str(g, "ecc_pending", !strcmp(v, "1") ? "Enabled" : "Disabled");
			printf("%s ECC support for GPU 00000000:%s:00.0.\n",
			       !strcmp(v, "1") ? "Enabled" : "Disabled", jstr(g, "bus"));
		}
		c->dirty = true;
		printf("All done.\nReboot required.\n");
		return 0;
	}
	if ((v = arg_val(argc, argv, "-mig")) != NULL) {
		json_array_foreach(jgpus(c), i, g) {
			if (index >= 0 && (long)i != index)
				continue;
			jset_str(g, "mig_pending", !strcmp(v, "1") ? "Enabled" : "Disabled");
			if (!mig_gi_count(g))
				json_object_set(g, "mig_mode", json_object_get(g, "mig_pending"));
			printf("%s MIG Mode for GPU 00000000:%s:00.0.\n",
			       !strcmp(v, "1") ? "Enabled" : "Disabled", jstr(g, "bus"));
		}
		c->dirty = true;
		printf("All done.\n");
		return 0;
	}
	if ((v = arg_val(argc, argv, "-pl")) != NULL || (v = arg_val(argc, argv, "--power-limit"))) {
		long w = strtol(v, NULL, 10);
		if (w < 200 || w > 700) {
			printf("Provided power limit %ld.00 W is not a valid power limit which should be "
			       "between 200.00 W and 700.00 W for GPU 00000000:18:00.0\nTerminating early due "
			       "to previous errors.\n", w);
			return 2;
		}
		json_array_foreach(jgpus(c), i, g) {
			if (index >= 0 && (long)i != index)
				continue;
			jset_int(g, "power_limit", w);
			printf("Power limit for GPU 00000000:%s:00.0 was set to %ld.00 W from %s W.\n",
			       jstr(g, "bus"), w, "previous");
		}
		c->dirty = true;
		printf("All done.\n");
		return 0;
	}
	if ((v = arg_val(argc, argv, "-lgc")) != NULL) {
		jset_int(c->st, "clock_cap_mhz", strtol(strchr(v, ',') ? strchr(v, ',') + 1 : v, NULL, 10));
		c->dirty = true;
		printf("GPU clocks set to \"(gpuClkMin %s)\" for GPU 00000000:18:00.0\nAll done.\n", v);
		return 0;
	}
	if (arg_has(argc, argv, "-rgc")) {
		jset_int(c->st, "clock_cap_mhz", 0);
		c->dirty = true;
		printf("All done.\n");
		return 0;
	}
	if ((v = arg_val(argc, argv, "--query-gpu")) != NULL)
		return smi_query(c, v, fmt, index);
	if ((v = arg_val(argc, argv, "--query-remapped-rows")) != NULL)
		return smi_query(c, v, fmt, index);
	if ((v = arg_val(argc, argv, "--query-compute-apps")) != NULL)
		return smi_apps(c, v, fmt);
	if (arg_has(argc, argv, "-q") || arg_has(argc, argv, "--query"))
		return smi_q(c, arg_val(argc, argv, "-d"), index);
	rc = 0;
	json_array_foreach(jgpus(c), i, g) {
		if (index >= 0 && (long)i != index)
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
	if (!strcmp(r->name, "Fabric Manager") &&
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
	time_t since = 0, now = time(NULL), boot_time = (time_t)jint(c->st, "boot_time");
	const char *v = arg_val(argc, argv, "--since"), *unit = arg_val(argc, argv, "-u");
	bool human = arg_has(argc, argv, "-T");
	json_t *e;
	size_t i;
	int k;

	if (!v)
		v = arg_val(argc, argv, "-S");
	if (v && !parse_since(v, now, &since)) {
		fprintf(stderr, "Failed to parse timestamp: %s\n", v);
		return 1;
	}
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
	FILE *fp;

	if (!name)
		name = "nvidia-bug-report.log.gz";
	/* Only ever write into the lab's scratch dir, whatever path was asked for. */
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (!*base || !strcmp(base, "..") || !strcmp(base, "."))
		return tool_usage(c, "bad --output-file");
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
	return lab_is_refused(base);
}
