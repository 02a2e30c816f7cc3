/* lab_tools_smi_ctl.c - the lab's nvidia-smi, what it changes (reset, MIG, NVLink)
 * and its topology, and the command line that dispatches to both halves. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "lab/lab.h"
#include "lab/lab_internal.h"

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
	/* The driver said the node must reboot (XID 154): a reset leaves the fault as it is. */
	if (!jtrue(g, "needs_reboot"))
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
			/* A flaky link counts errors with every transfer (all_reduce_perf runs). */
			long long more = jtrue(g, "nvlink_flaky") ? 37 * jint(c->st, "nvlink_traffic") : 0;
			if (arg_has(argc, argv, "-e"))
				printf("\t Link %d: Replay Errors: %lld\n\t Link %d: Recovery Errors: %d\n"
				       "\t Link %d: CRC Errors: %lld\n", l, (down ? 12 : 0) + more / 4, l,
				       down ? 3 : 0, l, (down ? 41 : 0) + more);
			else
				printf(down ? "\t Link %d: <inactive>\n" : "\t Link %d: 26.562 GB/s\n", l);
		}
	}
	return 0;
}

static bool
p2p_ok(struct tool_ctx *c, json_t *a, json_t *b)
{
	/* Across NVSwitches, peers see each other only once Fabric Manager set them up. */
	return !jtrue(a, "nvlink_down") && !jtrue(b, "nvlink_down") &&
	       (!jtrue(c->st, "nvswitch") || service_active(c->st, "nvidia-fabricmanager"));
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
		json_array_foreach(jgpus(c), i, g) {
			if (index >= 0 && (long)i != index)
				continue;
			if (w < lab_power_min(g) || w > lab_power_max(g)) {
				printf("Provided power limit %ld.00 W is not a valid power limit which should "
				       "be between %lld.00 W and %lld.00 W for GPU 00000000:%s:00.0\n"
				       "Terminating early due to previous errors.\n",
				       w, lab_power_min(g), lab_power_max(g), jstr(g, "bus"));
				return 2;
			}
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
	if ((v = arg_val(argc, argv, "-pm")) != NULL || (v = arg_val(argc, argv, "--persistence-mode"))) {
		/* With the daemon running, nvidia-smi asks it; without, the legacy kernel mode. */
		bool on = !strcmp(v, "1") || !strcasecmp(v, "ENABLED");
		jset_bool(c->st, "persistence_mode", on);
		c->dirty = true;
		json_array_foreach(jgpus(c), i, g)
			printf("%s persistence mode for GPU 00000000:%s:00.0.\n", on ? "Enabled" : "Disabled",
			       jstr(g, "bus"));
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

