/* lab_state.c - what a healthy simulated node looks like: one JSON document that
 * every simulated tool reads and changes. Faults edit it; reboots and resets repair it. */
#include <string.h>
#include <time.h>

#include "lab/lab.h"
#include "lab/lab_internal.h"

/* The template says the format it is written in: LAB_STATE_FORMAT, as a string. */
#define LAB_STR2(x) #x
#define LAB_STR(x) LAB_STR2(x)
#define LAB_FORMAT_STR LAB_STR(LAB_STATE_FORMAT)

/*
 * An 8x H100 SXM node on Debian 12 with the 550 driver, in service. The values
 * are what the real tools would report; the golden image figures (image-drift)
 * and the repos (driver upgrades) are part of the scene.
 */
static const char healthy[] = "{"
	"\"format\": " LAB_FORMAT_STR ","
	"\"boot\": 1,"
	"\"model\": \"NVIDIA H100 80GB HBM3\","
	"\"driver\": \"550.90.07\","
	"\"module_loaded\": true,"
	"\"module_version\": \"550.90.07\","
	"\"cuda\": \"12.4\","
	"\"gsp_fw\": \"550.90.07\","
	"\"vbios\": \"96.00.89.00.01\","
	"\"kernel\": \"6.1.0-27-amd64\","
	"\"next_entry\": \"\","
	"\"distro\": \"Debian\","
	"\"kernels\": [\"6.1.0-27-amd64\"],"
	"\"dkms\": {\"6.1.0-27-amd64\": \"550.90.07\"},"
	"\"secure_boot\": false,"
	"\"persistent\": false,"
	"\"dcgm\": \"pass\","
	"\"fm_version\": \"550.90.07\","
	"\"node_type\": \"hgx-h100\", \"nvswitch\": true,"
	"\"services\": {\"nvidia-persistenced\": \"active\", \"nvidia-dcgm\": \"active\","
	"  \"nvidia-fabricmanager\": \"active\"},"
	"\"broken_services\": [],"
	"\"packages\": {\"nvidia-driver-550\": \"550.90.07-1\", \"nvidia-fabricmanager-550\": \"550.90.07-1\","
	"  \"libnvidia-compute-550\": \"550.90.07-1\", \"datacenter-gpu-manager\": \"1:3.3.6\","
	"  \"linux-image-6.1.0-27-amd64\": \"6.1.115-1\", \"linux-headers-6.1.0-27-amd64\": \"6.1.115-1\","
	"  \"nvidia-container-toolkit\": \"1.16.2-1\", \"firmware-nvidia-gsp\": \"550.90.07-1\"},"
	"\"held\": [],"
	"\"repo\": {\"nvidia-driver-550\": [\"550.54.15-1\", \"550.90.07-1\"],"
	"  \"nvidia-driver-560\": [\"560.35.03-1\"],"
	"  \"nvidia-fabricmanager-550\": [\"550.54.15-1\", \"550.90.07-1\"],"
	"  \"nvidia-fabricmanager-560\": [\"560.35.03-1\"],"
	"  \"libnvidia-compute-550\": [\"550.54.15-1\", \"550.90.07-1\"],"
	"  \"libnvidia-compute-560\": [\"560.35.03-1\"],"
	"  \"firmware-nvidia-gsp\": [\"550.54.15-1\", \"550.90.07-1\", \"560.35.03-1\"]},"
	"\"apt_broken\": false,"
	"\"acs\": false,"
	"\"ib\": {\"state\": \"Active\", \"rate\": 400, \"symbol_errors\": 0, \"link_downed\": 0,"
	"  \"rcv_errors\": 0},"
	"\"bmc\": {\"address\": \"192.0.2.42\", \"lan_ok\": true, \"alive\": true, \"dead\": false},"
	"\"procs\": [],"
	"\"clock_cap_mhz\": 0,"
	"\"throttle\": \"\","
	"\"cooling_failed\": false,"
	"\"labels\": {\"nvidia.com/gpu.present\": \"true\", \"nvidia.com/gpu.count\": \"8\","
	"  \"nvidia.com/mig.config\": \"all-disabled\","
	"  \"network.topology.rbx.dev/spine\": \"spine-1\","
	"  \"network.topology.rbx.dev/leaf\": \"leaf-3\"},"
	"\"label_forbidden\": false,"
	"\"device_plugin_gpus\": 8,"
	"\"cluster\": {"
	"  \"slurm_up\": true,"
	"  \"pending\": [{\"id\": \"5121\", \"user\": \"alice\", \"partition\": \"gpu\","
	"     \"reason\": \"Resources\", \"gpus\": 8}],"
	"  \"job\": {\"id\": \"4242\", \"name\": \"llm-7b\", \"state\": \"RUNNING\", \"nodes\": 16,"
	"     \"excluded\": \"\", \"requeues\": 0, \"gone\": false, \"on_node\": false},"
	"  \"spine_peers\": 15"
	"},"
	"\"serving\": {\"deployment\": \"llm-serve\", \"revision\": 7, \"good_revision\": 6,"
	"  \"replicas\": 4, \"needed_replicas\": 4, \"env\": {\"MAX_NUM_SEQS\": \"256\","
	"  \"GPU_MEMORY_UTILIZATION\": \"0.90\"}, \"bad_revision\": false, \"kv_pressure\": false,"
	"  \"stuck\": false},"
	"\"training\": {\"params_b\": 7, \"tokens_per_sec\": 1200000, \"gpus\": 128, \"loss_diverges\": false},"
	"\"kernel_log\": [],"
	"\"sched\": {\"cordoned\": false, \"drained\": false, \"reason\": \"\", \"jobs\": 0, \"history\": []}"
	"}";

static const char *const bus_ids[LAB_NGPUS] = {"18", "2a", "3a", "5d", "9a", "ab", "ba", "db"};

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
	return json_pack("{s:i, s:s, s:s, s:s, s:i, s:b, s:b, s:b, s:i, s:i, s:s, s:s, s:i, s:i,"
			 " s:i, s:i, s:s, s:s, s:[], s:b, s:i, s:i, s:i}",
			 "index", i, "bus", bus_ids[i], "serial", serial, "uuid", uuid, "temp",
			 31 + (i * 3) % 7, "lost", 0, "remap_pending", 0, "remap_failed", 0,
			 "remap_corr", 0, "remap_uncorr", 0, "ecc_mode", "Enabled", "ecc_pending",
			 "Enabled", "sbe", 0, "dbe", 0, "power_limit", 700, "default_power_limit", 700,
			 "mig_mode", "Disabled", "mig_pending", "Disabled", "gis", "nvlink_down", 0,
			 "pcie_gen", 5, "pcie_width", 16, "hot", 0);
}

json_t *
lab_state_new(const char *node)
{
	json_error_t je;
	json_t *st = json_loads(healthy, 0, &je), *gpus = json_array();
	int i;

	if (!st) {
		/* The document above is a constant; a parse error is a bug in this file,
		 * which every lab test would meet first. */
		(void)je;
		abort();
	}
	for (i = 0; i < LAB_NGPUS; i++)
		json_array_append_new(gpus, new_gpu(node, i));
	json_object_set_new(st, "gpus", gpus);
	json_object_set_new(st, "node", json_string(node));
	json_object_set_new(st, "boot_time", json_integer((json_int_t)time(NULL) - 86400));
	return st;
}
