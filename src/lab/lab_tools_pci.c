/* lab_tools_pci.c - the lab's PCI tools: lspci (devices, their bridges, link state)
 * and setpci (ACS control), over the simulated node's GPUs and switch ports. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "lab/lab.h"
#include "lab/lab_internal.h"

/*
 * The bridges above GPU g, hop 1 to 3: root port, switch upstream port, switch
 * downstream port, on the three buses below the GPU's (lspci -PP's path).
 */
static void
gpu_bridge(json_t *g, int hop, char *out, size_t n)
{
	unsigned long b = strtoul(jstr(g, "bus"), NULL, 16);

	snprintf(out, n, "%02lx:%s", b - (unsigned long)(4 - hop), hop == 1 ? "01.0" : "00.0");
}

int
tool_lspci(struct tool_ctx *c, int argc, char **argv)
{
	const char *dev = arg_val(argc, argv, "-d"), *slot = arg_val(argc, argv, "-s");
	bool vv = arg_has(argc, argv, "-vv") || arg_has(argc, argv, "-vvv"),
	     nn = arg_has(argc, argv, "-nn");
	json_t *g;
	size_t i;

	bool paths = arg_has(argc, argv, "-PP");
	/* -d 10de::0302: NVIDIA's 3D controllers only, not its NVSwitch bridges. */
	bool gpus_only = dev && strstr(dev, "::0302");

	if (dev && strncmp(dev, "10de", 4))
		return 0;
	json_array_foreach(jgpus(c), i, g) {
		char bdf[16];
		if (jtrue(g, "lost"))
			continue;
		snprintf(bdf, sizeof(bdf), "%s:00.0", jstr(g, "bus"));
		if (slot && !strstr(slot, bdf) && strcmp(slot, jstr(g, "bus")))
			continue;
		for (int hop = 1; paths && hop <= 3; hop++) {
			char br[16];
			gpu_bridge(g, hop, br, sizeof(br));
			printf("%s/", br);
		}
		if (nn)
			printf("%s 3D controller [0302]: NVIDIA Corporation GH100 [%s] [10de:%s] (rev a1)\n",
			       bdf, jtrue(c->st, "nvswitch") ? "H100 SXM5 80GB" : "H100 PCIe",
			       jtrue(c->st, "nvswitch") ? "2330" : "2331");
		else
			printf("%s 3D controller: NVIDIA Corporation GH100 [%s] (rev a1)\n", bdf,
			       jtrue(c->st, "nvswitch") ? "H100 SXM5 80GB" : "H100 PCIe");
		if (vv) {
			printf("\t\tLnkCap:\tPort #0, Speed 32GT/s, Width x16, ASPM not supported\n");
			printf("\t\tLnkSta:\tSpeed %s, Width x%lld%s\n",
			       jint(g, "pcie_gen") >= 5 ? "32GT/s" : "16GT/s (downgraded)",
			       jint(g, "pcie_width"), jint(g, "pcie_width") < 16 ? " (downgraded)" : "");
		}
	}
	/*
	 * An HGX board's NVSwitches show as NVIDIA bridges of class 0680 (the form of
	 * tests/fixtures/real/lspci-nn.azure-a100-sxm4-80gb.txt); a PCIe node has none.
	 */
	for (i = 0; jtrue(c->st, "nvswitch") && !slot && !gpus_only && i < 4; i++)
		printf(nn ? "%04zx:00:00.0 Bridge [0680]: NVIDIA Corporation Device [10de:22a3] (rev a1)\n"
			  : "%04zx:00:00.0 Bridge: NVIDIA Corporation Device 22a3 (rev a1)\n", i + 5);
	if (!dev && !slot)
		printf(nn ? "b4:00.0 PCI bridge [0604]: Broadcom / LSI PEX890xx PCIe Gen 5 Switch [1000:c030] (rev b0)\n"
			  : "b4:00.0 PCI bridge: Broadcom / LSI PEX890xx PCIe Gen 5 Switch (rev b0)\n");
	if (vv && !dev && !slot)
		printf("\t\tACSCtl:\tSrcValid+ TransBlk- ReqRedir%c CmpltRedir%c UpstreamFwd+ "
		       "EgressCtrl- DirectTrans-\n", jtrue(c->st, "acs") ? '+' : '-',
		       jtrue(c->st, "acs") ? '+' : '-');
	return 0;
}

/* Whether bdf is the switch downstream port above a GPU (lspci -PP's third hop). */
static bool
gpu_downstream_port(struct tool_ctx *c, const char *bdf)
{
	json_t *g;
	size_t i;
	char port[16];

	json_array_foreach(jgpus(c), i, g) {
		gpu_bridge(g, 3, port, sizeof(port));
		if (!strcmp(port, bdf))
			return true;
	}
	return false;
}

/*
 * setpci -s BDF ECAP_ACS+0x6.w[=VALUE]: a bridge's ACS control. The switch ports
 * above the GPUs hold it (acs=on sets redirection on all of them; acs_ports holds
 * what was written since), the old "first bridge" b4:00.0 its own.
 */
int
tool_setpci(struct tool_ctx *c, int argc, char **argv)
{
	const char *bdf = arg_val(argc, argv, "-s");
	json_t *ports = json_object_get(c->st, "acs_ports");
	int k;

	if (!ports) {
		ports = json_object();
		json_object_set_new(c->st, "acs_ports", ports);
	}
	for (k = 1; k < argc; k++) {
		const char *eq = strchr(argv[k], '=');
		bool ds = bdf && gpu_downstream_port(c, bdf);
		if (strncmp(argv[k], "ECAP_ACS", 8))
			continue;
		if (eq) {
			if (ds)
				jset_str(ports, bdf, strtol(eq + 1, NULL, 16) ? "001d" : "0000");
			else
				jset_bool(c->st, "acs_first_bridge", strtol(eq + 1, NULL, 16) != 0);
			c->dirty = true;
			return 0;
		}
		if (ds)
			printf("%s\n", *jstr(ports, bdf) ? jstr(ports, bdf)
							 : jtrue(c->st, "acs") ? "001d" : "0000");
		else
			printf("%s\n", jtrue(c->st, "acs_first_bridge") ? "001d" : "0000");
		return 0;
	}
	return tool_usage(c, "the lab simulates 'setpci -s BDF ECAP_ACS+0x6.w[=VALUE]'");
}
