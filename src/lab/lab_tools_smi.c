/* lab_tools_smi.c - the lab's nvidia-smi, what it shows: the -q sections and the
 * --query-gpu/--query-compute-apps CSV, in the real tool's formats, from the node's state. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "lab/lab.h"
#include "lab/lab_internal.h"

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

void
smi_lost(json_t *g)
{
	fprintf(stderr, "Unable to determine the device handle for GPU0000:%s:00.0: Unknown Error\n",
		jstr(g, "bus"));
}

/* nvidia-smi cannot talk to a driver that is not loaded or does not match its library. */
int
smi_driver_check(struct tool_ctx *c)
{
	if (!jtrue(c->st, "module_loaded")) {
		printf("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
		       "Make sure that the latest NVIDIA driver is installed and running.\n\n");
		return 9;
	}
	if (jint(c->st, "gsp_failed_boot")) { /* loaded, but no GPU initialised */
		printf("No devices were found\n");
		return 6;
	}
	if (strcmp(jstr(c->st, "module_version"), jstr(c->st, "driver"))) {
		printf("Failed to initialize NVML: Driver/library version mismatch\n"
		       "NVML library version: %.6s\n", jstr(c->st, "driver"));
		return 18;
	}
	return 0;
}

static int
gpu_sm_clock(struct tool_ctx *c, json_t *g)
{
	/* Idle, a GPU clocks down whatever its persistence (a real idle RTX 4090: 210 MHz). */
	int clk = lab_gpu_busy(c, g) ? 1980 : 210;

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

unsigned
mig_gi_count(json_t *g)
{
	return (unsigned)json_array_size(json_object_get(g, "gis"));
}

int
smi_q(struct tool_ctx *c, const char *display, long index)
{
	char ts[64];
	time_t now = (time_t)lab_now(c->st);
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
			kv(1, "Persistence Mode", "%s", lab_persistence_on(c->st) ? "Enabled" : "Disabled");
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
			if (!jtrue(c->st, "nvswitch")) {
				/* No NVSwitch, no fabric to join (the PCIe capture in tests/fixtures/real). */
				kv(2, "State", "N/A");
				kv(2, "Status", "N/A");
			} else if (service_active(c->st, "nvidia-fabricmanager") &&
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
			kv(4, "Current", "%lld", gpu_link_gen(c, g));
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
			kv(2, "Memory Current Temp", "%d C", gpu_mem_temp(c, g));
			kv(2, "Memory Max Operating Temp", "95 C");
		}
		if (want_section(display, "POWER")) {
			printf("    GPU Power Readings\n");
			kv(2, "Power Draw", "%.2f W", 68.5 + (double)i);
			kv(2, "Current Power Limit", "%lld.00 W", jint(g, "power_limit"));
			kv(2, "Requested Power Limit", "%lld.00 W", jint(g, "power_limit"));
			kv(2, "Default Power Limit", "%lld.00 W", jint(g, "default_power_limit"));
			kv(2, "Min Power Limit", "%lld.00 W", lab_power_min(g));
			kv(2, "Max Power Limit", "%lld.00 W", lab_power_max(g));
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
		snprintf(out, n, "%d", gpu_mem_temp(c, g));
	else if (!strcmp(name, "persistence_mode"))
		snprintf(out, n, "%s", lab_persistence_on(c->st) ? "Enabled" : "Disabled");
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
		snprintf(out, n, "%lld", gpu_link_gen(c, g));
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

int
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

int
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
		if (jtrue(p, "nvml")) /* an NVML client has no compute context to list */
			continue;
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

