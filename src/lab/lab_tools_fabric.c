/* lab_tools_fabric.c - the lab's fabric tools: Fabric Manager, nccl-tests
 * all_reduce_perf, nvbandwidth, InfiniBand ibstat/perfquery, in the real output shapes. */
#define _GNU_SOURCE
#include <math.h>
#include <string.h>

#include "lab/lab.h"
#include "lab/lab_internal.h"

/* CUDA waits for the NVLink fabric only where there is one (NVSwitch boards). */
static bool
fabric_ok(json_t *st)
{
	return !jtrue(st, "nvswitch") || (service_active(st, "nvidia-fabricmanager") &&
					 !strcmp(jstr(st, "fm_version"), jstr(st, "driver")));
}

/* Large-message all-reduce bus bandwidth of the node, GB/s. */
double
lab_busbw(json_t *st)
{
	json_t *g;
	size_t i;
	/* Model figures: NVSwitch all-reduce on an HGX H100; through PCIe without NVSwitches. */
	double bw = jtrue(st, "nvswitch") ? 478.0 : 21.0;

	json_array_foreach(json_object_get(st, "gpus"), i, g) {
		/* The ring falls back to PCIe through the host; PCIe width alone does not show here. */
		if (jtrue(g, "nvlink_down"))
			bw = 21.0;
	}
	if (jint(st, "clock_cap_mhz") && jint(st, "clock_cap_mhz") < 1980)
		bw *= 0.97;
	return bw;
}

double
lab_h2d_gbps(json_t *st, long gpu)
{
	json_t *g = json_array_get(json_object_get(st, "gpus"), (size_t)gpu);
	double per_lane = jint(g, "pcie_gen") >= 5 ? 3.45 : 1.72;

	return per_lane * (double)jint(g, "pcie_width");
}

/*
 * GPU to GPU: over NVLink through the NVSwitches where they are; else over PCIe,
 * through the switch above both at about the slower link's speed, or, with ACS
 * redirecting, up through the root complex at a fraction of it.
 */
static bool
acs_redirects(json_t *st)
{
	json_t *v;
	const char *k;
	size_t cleared = 0;

	/* acs=on sets every GPU's switch port; setpci writes land in acs_ports. */
	json_object_foreach(json_object_get(st, "acs_ports"), k, v) {
		if (strcmp(json_string_value(v), "0000"))
			return true;
		cleared++;
	}
	return jtrue(st, "acs") && cleared < json_array_size(json_object_get(st, "gpus"));
}

double
lab_p2p_gbps(json_t *st, long a, long b)
{
	double ha = lab_h2d_gbps(st, a), hb = lab_h2d_gbps(st, b);

	if (jtrue(st, "nvswitch"))
		return 370.5;
	if (acs_redirects(st))
		return 11.4;
	return 0.9 * (ha < hb ? ha : hb);
}

int
tool_nv_fabricmanager(struct tool_ctx *c, int argc, char **argv)
{
	if (!arg_has(argc, argv, "--version") && !arg_has(argc, argv, "-v"))
		return tool_usage(c, "the lab simulates 'nv-fabricmanager --version'");
	printf("Fabric Manager version is : %s\n", jstr(c->st, "fm_version"));
	return 0;
}

int
tool_all_reduce_perf(struct tool_ctx *c, int argc, char **argv)
{
	const char *b = arg_val(argc, argv, "-b"), *e = arg_val(argc, argv, "-e");
	const char *g = arg_val(argc, argv, "-g"), *minbw = getenv("NCCL_TESTS_MIN_BW");
	double peak = lab_busbw(c->st), sum = 0;
	unsigned long long lo = 8, hi = 8ULL << 30, s;
	int ngpus = g ? atoi(g) : 1, n = 0, i;

	if (b)
		lo = strtoull(b, NULL, 10) << (strchr(b, 'G') ? 30 : strchr(b, 'M') ? 20 : strchr(b, 'K') ? 10 : 0);
	if (e)
		hi = strtoull(e, NULL, 10) << (strchr(e, 'G') ? 30 : strchr(e, 'M') ? 20 : strchr(e, 'K') ? 10 : 0);
	jset_int(c->st, "nvlink_traffic", jint(c->st, "nvlink_traffic") + 1);
	c->dirty = true;
	if (!fabric_ok(c->st)) {
		printf("%s: Test CUDA failure common.cu:892 'system not yet initialized'\n .. %s pid "
		       "4312: Test failure common.cu:1080\n", c->node, c->node);
		return 1;
	}
	printf("# nThread 1 nGpus %d minBytes %llu maxBytes %llu step: 2(factor) warmup iters: 5 "
	       "iters: 20 agg iters: 1 validation: 1 graph: 0\n#\n# Using devices\n", ngpus, lo, hi);
	for (i = 0; i < ngpus; i++)
		printf("#  Rank %2d Group  0 Pid   4312 on %10s device  %d [0x%s] %s\n", i, c->node, i,
		       jstr(json_array_get(jgpus(c), (size_t)i), "bus"), jstr(c->st, "model"));
	printf("#\n#                                                              out-of-place      "
	       "                 in-place          \n#       size         count      type   redop    "
	       "root     time   algbw   busbw #wrong     time   algbw   busbw #wrong\n#        (B)    "
	       "(elements)                               (us)  (GB/s)  (GB/s)            (us)  (GB/s)"
	       "  (GB/s)       \n");
	for (s = lo; s <= hi; s *= 2) {
		double bw = peak * (double)s / ((double)s + 64.0 * 1048576.0);
		double algbw = bw * ngpus / (2.0 * (ngpus > 1 ? ngpus - 1 : 1));
		double us = algbw > 0 ? (double)s / (algbw * 1e3) : 0;
		printf("%12llu  %12llu     float     sum      -1  %7.1f  %6.2f  %6.2f      0  %7.1f  "
		       "%6.2f  %6.2f      0\n", s, s / 4, us, algbw, bw, us, algbw, bw);
		sum += bw;
		n++;
	}
	printf("# Out of bounds values : 0 OK\n");
	if (minbw) {
		bool ok = n && sum / n >= 0.9 * atof(minbw);
		printf("# Avg bus bandwidth    : %.3f %s\n#\n", n ? sum / n : 0, ok ? "OK" : "FAILED");
		return ok ? 0 : 1;
	}
	printf("# Avg bus bandwidth    : %.3f \n#\n", n ? sum / n : 0);
	return 0;
}

int
tool_nvbandwidth(struct tool_ctx *c, int argc, char **argv)
{
	const char *t = arg_val(argc, argv, "-t");
	size_t n = json_array_size(jgpus(c)), i, j;
	bool d2d = t && (!strcmp(t, "device_to_device_memcpy_read_ce") ||
			 !strcmp(t, "device_to_device_memcpy_write_ce"));
	double sum = 0;

	if (!t || (strcmp(t, "host_to_device_memcpy_ce") && strcmp(t, "device_to_host_memcpy_ce") && !d2d))
		return tool_usage(c, "the lab simulates -t host_to_device_memcpy_ce|device_to_host_memcpy_ce|"
				     "device_to_device_memcpy_read_ce|device_to_device_memcpy_write_ce");
	printf("nvbandwidth Version: v0.5\nBuilt from Git version: \n\nNOTE: This tool reports "
	       "current measured bandwidth on your system.\nAdditional system-specific tuning may be "
	       "required to achieve maximal peak bandwidth.\n\nCUDA Runtime Version: 12040\nCUDA "
	       "Driver Version: 12040\nDriver Version: %s\n\n", jstr(c->st, "driver"));
	for (i = 0; i < n; i++)
		printf("Device %zu: %s\n", i, jstr(c->st, "model"));
	/* The matrix as nvbandwidth's PeerValueMatrix prints it: a space and the column
	 * numbers in 10-wide fields; each row its bare index, then 10-wide values. */
	printf("\nRunning %s.\nmemcpy CE %s bandwidth (GB/s)\n ", t,
	       d2d ? (strstr(t, "write") ? "GPU(row) <- GPU(column)" : "GPU(row) -> GPU(column)")
		   : t[0] == 'h' ? "CPU(row) -> GPU(column)" : "CPU(row) <- GPU(column)");
	for (i = 0; i < n; i++)
		printf("%10zu", i);
	for (i = 0; i < (d2d ? n : 1); i++) {
		printf("\n%zu", i);
		for (j = 0; j < n; j++) {
			double bw = d2d ? lab_p2p_gbps(c->st, (long)i, (long)j) : lab_h2d_gbps(c->st, (long)j);
			if (d2d && i == j) {
				printf("%10s", "N/A");
				continue;
			}
			sum += bw;
			printf("%10.2f", bw);
		}
	}
	printf("\n\nSUM %s %.2f\n", t, sum);
	return 0;
}

int
tool_ibstat(struct tool_ctx *c, int argc, char **argv)
{
	json_t *ib = json_object_get(c->st, "ib");

	if (arg_has(argc, argv, "-l")) {
		printf("mlx5_0\n");
		return 0;
	}
	printf("CA 'mlx5_0'\n\tCA type: MT4129\n\tNumber of ports: 1\n\tFirmware version: "
	       "28.39.1002\n\tHardware version: 0\n\tNode GUID: 0xa088c20300f3a1b2\n\tSystem image "
	       "GUID: 0xa088c20300f3a1b2\n\tPort 1:\n\t\tState: %s\n\t\tPhysical state: %s\n\t\t"
	       "Rate: %lld\n\t\tBase lid: 12\n\t\tLMC: 0\n\t\tSM lid: 1\n\t\tCapability mask: "
	       "0xa651e848\n\t\tPort GUID: 0xa088c20300f3a1b2\n\t\tLink layer: InfiniBand\n",
	       jstr(ib, "state"), !strcmp(jstr(ib, "state"), "Active") ? "LinkUp" : "Polling",
	       jint(ib, "rate"));
	return 0;
}

int
tool_perfquery(struct tool_ctx *c, int argc, char **argv)
{
	json_t *ib = json_object_get(c->st, "ib");
	/* A failing link keeps counting; one that erred long ago does not (ib=old-errors). */
	long long grow = jtrue(ib, "rising") ? lab_now(c->st) - jint(ib, "t0") : 0;

	(void)argc;
	(void)argv;
	if (grow < 0)
		grow = 0;
	printf("# Port counters: Lid 12 port 1 (CapMask: 0x5A00)\nPortSelect:......................1\n"
	       "CounterSelect:...................0x0000\nSymbolErrorCounter:..............%lld\n"
	       "LinkErrorRecoveryCounter:........%lld\nLinkDownedCounter:...............%lld\n"
	       "PortRcvErrors:...................%lld\nPortRcvRemotePhysicalErrors:.....0\n"
	       "PortRcvSwitchRelayErrors:........0\nPortXmitDiscards:................0\n"
	       "PortXmitConstraintErrors:........0\nPortRcvConstraintErrors:.........0\n"
	       "LocalLinkIntegrityErrors:........0\nExcessiveBufferOverrunErrors:....0\n"
	       "VL15Dropped:.....................0\nPortXmitData:....................4294967295\n"
	       "PortRcvData:.....................4294967295\n",
	       jint(ib, "symbol_errors") + 3 * grow, jint(ib, "symbol_errors") ? 7LL : 0LL,
	       jint(ib, "link_downed"), jint(ib, "rcv_errors") + grow);
	return 0;
}
