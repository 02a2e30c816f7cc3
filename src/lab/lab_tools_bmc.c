/* lab_tools_bmc.c - the lab's out-of-band and metrics endpoints: ipmitool against
 * the simulated BMC, and a curl that answers only Prometheus queries and Redfish. */
#define _GNU_SOURCE
#include <string.h>
#include <time.h>

#include "lab/lab.h"
#include "lab/lab_internal.h"


/* ---- ipmitool ---------------------------------------------------------------------------- */

/* The BMC's LAN setting: as configured (lan_ok), or lost (0.0.0.0, as a real reset BMC prints). */
static const char *
bmc_ip(json_t *bmc)
{
	if (json_object_get(bmc, "ip"))
		return jstr(bmc, "ip");
	return jtrue(bmc, "lan_ok") ? jstr(bmc, "address") : "0.0.0.0";
}

static const char *
bmc_mask(json_t *bmc)
{
	if (json_object_get(bmc, "netmask"))
		return jstr(bmc, "netmask");
	return jtrue(bmc, "lan_ok") ? "255.255.255.0" : "0.0.0.0";
}

/*
 * lan set 1 ipsrc static|dhcp, ipaddr X, netmask X, defgw ipaddr X. An address
 * set while the source is DHCP does not take: the DHCP client owns it.
 */
static int
lan_set(struct tool_ctx *c, json_t *bmc, const char *what, const char *v, const char *v2)
{
	json_object_set_new(bmc, "ip", json_string(bmc_ip(bmc)));
	json_object_set_new(bmc, "netmask", json_string(bmc_mask(bmc)));
	if (!strcmp(what, "ipsrc") && (!strcmp(v, "static") || !strcmp(v, "dhcp"))) {
		jset_str(bmc, "ipsrc", v);
	} else if (!strcmp(what, "ipaddr")) {
		printf("Setting LAN IP Address to %s\n", v);
		if (strcmp(jstr(bmc, "ipsrc"), "dhcp"))
			jset_str(bmc, "ip", v);
	} else if (!strcmp(what, "netmask")) {
		printf("Setting LAN Subnet Mask to %s\n", v);
		jset_str(bmc, "netmask", v);
	} else if (!strcmp(what, "defgw") && !strcmp(v, "ipaddr") && v2) {
		printf("Setting LAN Default Gateway IP to %s\n", v2);
	} else {
		return tool_usage(c, "the lab simulates lan set 1 ipsrc|ipaddr|netmask|defgw ipaddr");
	}
	jset_bool(bmc, "lan_ok", strcmp(jstr(bmc, "ipsrc"), "dhcp") &&
				 !strcmp(jstr(bmc, "ip"), jstr(bmc, "address")) &&
				 strcmp(jstr(bmc, "netmask"), "0.0.0.0"));
	c->dirty = true;
	return 0;
}

int
tool_ipmitool(struct tool_ctx *c, int argc, char **argv)
{
	json_t *bmc = json_object_get(c->st, "bmc");
	bool lan = arg_val(argc, argv, "-H") != NULL;
	int k = 1;

	/* Skip the connection options to reach the subcommand. */
	while (k < argc && argv[k][0] == '-') {
		if (!strcmp(argv[k], "-E") || !strcmp(argv[k], "-v"))
			k++;
		else
			k += 2;
	}
	if (k >= argc)
		return tool_usage(c, "ipmitool [-I lanplus -H BMC -U USER -E] COMMAND");
	if (lan && (!jtrue(bmc, "alive") || !jtrue(bmc, "lan_ok"))) {
		fprintf(stderr, "Error: Unable to establish IPMI v2 / RMCP+ session\n");
		return 1;
	}
	if (!jtrue(bmc, "alive") && strcmp(argv[k], "sdr")) {
		if (!strcmp(argv[k], "mc") && k + 2 < argc && !strcmp(argv[k + 1], "reset")) {
			printf("Sent %s reset command to MC\n", argv[k + 2]);
			if (!jtrue(bmc, "dead"))
				jset_bool(bmc, "alive", true);
			c->dirty = true;
			return 0;
		}
		fprintf(stderr, "Get Device ID command failed: 0xff Unspecified error\n");
		return 1;
	}
	if (!strcmp(argv[k], "chassis") && k + 2 < argc && !strcmp(argv[k + 1], "power")) {
		if (!strcmp(argv[k + 2], "status"))
			printf("Chassis Power is %s\n", jtrue(c->st, "powered_off") ? "off" : "on");
		else {
			printf("Chassis Power Control: %s\n", argv[k + 2]);
			jset_bool(c->st, "powered_off", !strcmp(argv[k + 2], "soft") || !strcmp(argv[k + 2], "off"));
			c->dirty = true;
		}
		return 0;
	}
	if (!strcmp(argv[k], "mc") && k + 1 < argc && !strcmp(argv[k + 1], "info")) {
		printf("Device ID                 : 32\nDevice Revision           : 1\nFirmware Revision "
		       "        : 2.10\nIPMI Version              : 2.0\nManufacturer Name         : "
		       "Supermicro\nProduct ID                : 6929 (0x1b11)\nDevice Available          : "
		       "yes\n");
		return 0;
	}
	if (!strcmp(argv[k], "mc") && k + 2 < argc && !strcmp(argv[k + 1], "reset")) {
		printf("Sent %s reset command to MC\n", argv[k + 2]);
		return 0;
	}
	if (!strcmp(argv[k], "lan") && k + 2 < argc && !strcmp(argv[k + 1], "print")) {
		printf("Set in Progress         : Set Complete\nIP Address Source       : %s\n"
		       "IP Address              : %s\nSubnet Mask             : %s\n"
		       "Default Gateway IP      : 192.0.2.1\n",
		       !strcmp(jstr(bmc, "ipsrc"), "dhcp") ? "DHCP Address" : "Static Address",
		       bmc_ip(bmc), bmc_mask(bmc));
		return 0;
	}
	if (!strcmp(argv[k], "lan") && k + 4 < argc && !strcmp(argv[k + 1], "set"))
		return lan_set(c, bmc, argv[k + 3], argv[k + 4], k + 5 < argc ? argv[k + 5] : NULL);
	if (!strcmp(argv[k], "sel") && k + 1 < argc && !strcmp(argv[k + 1], "elist")) {
		printf("   1 | 11/24/2026 | 05:40:12 | Power Supply PS2 Status | Failure detected | Asserted\n"
		       "   2 | 11/24/2026 | 05:41:07 | Critical Interrupt #0x19 | PCI PERR | Asserted\n");
		return 0;
	}
	if (!strcmp(argv[k], "sdr") && k + 2 < argc && !strcmp(argv[k + 1], "type")) {
		if (!strcasecmp(argv[k + 2], "Fan")) {
			printf("FAN1             | 30h | ok  | 29.1 | 8400 RPM\n");
			printf("FAN2             | 31h | ok  | 29.2 | 8500 RPM\n");
			printf(jtrue(c->st, "cooling_failed") ? "FAN3             | 32h | cr  | 29.3 | 0 RPM\n"
							      : "FAN3             | 32h | ok  | 29.3 | 8400 RPM\n");
		} else {
			printf("Inlet Temp       | 04h | ok  | 64.1 | %d degrees C\n",
			       jtrue(c->st, "room_hot") ? 38 : 24); /* the room's air, not the node's fans */
			printf("Exhaust Temp     | 05h | ok  | 64.2 | %d degrees C\n",
			       jtrue(c->st, "cooling_failed") ? 68 : 45);
		}
		return 0;
	}
	fprintf(stderr, "rbx lab: 'ipmitool %s' is not simulated in the lab\n", argv[k]);
	return 127;
}

/* ---- curl: Prometheus and Redfish ---------------------------------------------------------- */

static double
prom_value(struct tool_ctx *c, const char *q)
{
	json_t *s = json_object_get(c->st, "serving"), *t = json_object_get(c->st, "training");
	bool slo_bad = jtrue(s, "bad_revision") || jint(s, "replicas") < jint(s, "needed_replicas") ||
		       jtrue(s, "kv_pressure");

	if (strstr(q, "vllm:") && jtrue(s, "no_metrics"))
		return -1; /* an empty result */
	if (strstr(q, "num_preemptions_total"))
		return jtrue(s, "kv_pressure") ? 3.2 : 0;
	/* vLLM renamed the gauge in 2025 (vllm#18354): an old one has only gpu_cache_usage_perc,
	 * a new one only kv_cache_usage_perc by default; a name it lacks is an empty result. */
	if (strstr(q, jtrue(s, "old_metrics") ? "gpu_cache_usage_perc" : "kv_cache_usage_perc"))
		return jtrue(s, "kv_pressure") ? 0.99 : 0.62;
	/* Requests queue when there are too few replicas, and when each got slower (a bad deploy). */
	if (strstr(q, "num_requests_waiting"))
		return jint(s, "replicas") < jint(s, "needed_replicas") ? 42 : jtrue(s, "bad_revision") ? 17 : 0;
	/* The load, now or an hour ago: more of it is what asks for more replicas. */
	if (strstr(q, "request_success_total"))
		return !strstr(q, "offset") && jint(s, "needed_replicas") > 4 ? 64.0 : 40.0;
	if (strstr(q, "time_to_first_token") || strstr(q, "inter_token_latency"))
		return slo_bad ? 18.5 : 0.4;
	if (strstr(q, "tokens")) {
		double tps = (double)jint(t, "tokens_per_sec");
		long long cap = jint(c->st, "clock_cap_mhz");
		if (cap && cap < 1980)
			tps *= (double)cap / 1980.0;
		if (!strcmp(jstr(c->st, "throttle"), "thermal"))
			tps *= 0.6;
		return tps;
	}
	return -1;
}

/*
 * A BMC's Redfish service, pretty-printed as bmcweb and iDRAC print it ("Health": "OK",
 * with spaces): the Managers collection names the manager, whose id differs by
 * vendor ("bmc" on OpenBMC, "1", "iDRAC.Embedded.1").
 */
static int
redfish_get(const char *path)
{
	json_t *doc;
	size_t n = strlen(path);

	while (n > 0 && path[n - 1] == '/')
		n--;
	if (n == strlen("/redfish/v1/Managers") && !strncmp(path, "/redfish/v1/Managers", n))
		doc = json_pack("{s:s, s:s, s:[{s:s}], s:i}", "@odata.id", "/redfish/v1/Managers", "Name",
				"Manager Collection", "Members", "@odata.id", "/redfish/v1/Managers/bmc",
				"Members@odata.count", 1);
	else if (n == strlen("/redfish/v1/Managers/bmc") && !strncmp(path, "/redfish/v1/Managers/bmc", n))
		doc = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}}", "@odata.id", "/redfish/v1/Managers/bmc",
				"Id", "bmc", "ManagerType", "BMC", "FirmwareVersion", "2.10", "Status", "State",
				"Enabled", "Health", "OK");
	else
		doc = json_pack("{s:{s:s, s:s}}", "error", "code", "Base.1.13.0.ResourceNotFound", "message",
				"The requested resource was not found.");
	json_dumpf(doc, stdout, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(doc);
	return 0;
}

int
tool_curl(struct tool_ctx *c, int argc, char **argv)
{
	const char *url = NULL, *query = NULL;
	int k;

	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--data-urlencode") && k + 1 < argc)
			query = argv[++k];
		else if ((!strcmp(argv[k], "-u") || !strcmp(argv[k], "-H") || !strcmp(argv[k], "-X") ||
			  !strcmp(argv[k], "-d")) && k + 1 < argc)
			k++;
		else if (argv[k][0] != '-')
			url = argv[k];
	}
	if (!url)
		return tool_usage(c, "curl URL");
	if (strstr(url, "/api/v1/query")) {
		double v;
		if (!query)
			query = strstr(url, "query=");
		v = query ? prom_value(c, query) : -1;
		if (v < 0)
			printf("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}\n");
		else
			printf("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":"
			       "[{\"metric\":{},\"value\":[%lld,\"%g\"]}]}}\n", lab_now(c->st), v);
		return 0;
	}
	if (strstr(url, "/redfish/v1/")) {
		json_t *bmc = json_object_get(c->st, "bmc");
		if (!jtrue(bmc, "alive") || !jtrue(bmc, "lan_ok")) {
			fprintf(stderr, "curl: (28) Failed to connect to %s port 443 after 10001 ms: "
					"Timeout was reached\n", jstr(bmc, "address"));
			return 28;
		}
		return redfish_get(strstr(url, "/redfish/v1/"));
	}
	fprintf(stderr, "rbx lab: curl to '%s' is not simulated in the lab (only Prometheus "
			"queries and Redfish are)\n", url);
	return 127;
}
