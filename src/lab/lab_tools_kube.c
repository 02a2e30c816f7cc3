/* lab_tools_kube.c - the lab's Kubernetes API as kubectl shows it: the node, its labels
 * and allocatable resources, the serving deployment, the device plugin and MIG manager pods. */
#define _GNU_SOURCE
#include <string.h>
#include <time.h>

#include "lab/lab.h"
#include "lab/lab_internal.h"

/* ---- kubectl ---------------------------------------------------------------------------- */

/*
 * While a restarted device plugin has not registered again, the kubelet keeps
 * its resources with allocatable 0 (kubernetes/kubernetes#99571; "~8s" in
 * openshift/sriov-network-operator#812): a check of the name alone passes then.
 */
#define PLUGIN_REGISTERS_S 10

static json_t *
allocatable(struct tool_ctx *c)
{
	json_t *a = json_pack("{s:s, s:s}", "cpu", "224", "memory", "2113470580Ki"), *g;
	size_t i, k;
	char n[16];
	long long mig[8] = {0};
	bool restarting = json_object_get(c->st, "device_plugin_restarted_at") &&
			  (jtrue(c->st, "device_plugin_crashloop") ||
			   lab_now(c->st) - jint(c->st, "device_plugin_restarted_at") < PLUGIN_REGISTERS_S);

	snprintf(n, sizeof(n), "%lld", restarting ? 0 : jint(c->st, "device_plugin_gpus"));
	json_object_set_new(a, "nvidia.com/gpu", json_string(n));
	json_array_foreach(jgpus(c), i, g) {
		json_t *gi;
		json_array_foreach(json_object_get(g, "gis"), k, gi)
			mig[jint(gi, "profile") & 7]++;
	}
	static const char *const names[] = {"1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb",
					    "7g.80gb"};
	for (i = 0; i < 6; i++) {
		char key[64];
		if (!mig[i])
			continue;
		snprintf(key, sizeof(key), "nvidia.com/mig-%s", names[i]);
		snprintf(n, sizeof(n), "%lld", restarting ? 0 : mig[i]);
		json_object_set_new(a, key, json_string(n));
	}
	return a;
}

/* Walk a kubectl jsonpath like {.metadata.labels.network\.topology\.x/spine}. */
static void
print_jsonpath(json_t *doc, const char *path)
{
	char key[256];
	const char *p = path;
	json_t *cur = doc;

	if (*p == '{')
		p++;
	while (*p && *p != '}' && cur) {
		size_t n = 0;
		if (*p == '.')
			p++;
		while (*p && *p != '}' && *p != '.' && *p != '[' && n + 1 < sizeof(key)) {
			if (*p == '\\' && p[1])
				p++;
			key[n++] = *p++;
		}
		key[n] = 0;
		cur = json_object_get(cur, key);
		if (*p == '[') {
			cur = json_array_get(cur, (size_t)strtoul(p + 1, NULL, 10));
			p = strchr(p, ']') ? strchr(p, ']') + 1 : p + strlen(p);
		}
	}
	if (json_is_string(cur))
		printf("%s", json_string_value(cur));
	else if (json_is_boolean(cur))
		printf("%s", json_is_true(cur) ? "true" : "false");
	else if (json_is_integer(cur))
		printf("%lld", (long long)json_integer_value(cur));
	else if (cur)
		json_dumpf(cur, stdout, JSON_COMPACT | JSON_SORT_KEYS);
}

static json_t *
node_doc(struct tool_ctx *c)
{
	return json_pack("{s:{s:s, s:O}, s:{s:b}, s:{s:o}}", "metadata", "name", c->node, "labels",
			 json_object_get(c->st, "labels"), "spec", "unschedulable",
			 jtrue(json_object_get(c->st, "sched"), "cordoned"), "status", "allocatable",
			 allocatable(c));
}

static json_t *
deploy_doc(struct tool_ctx *c)
{
	json_t *s = json_object_get(c->st, "serving"), *env = json_array(), *v;
	const char *k;
	char rev[16];

	json_object_foreach(json_object_get(s, "env"), k, v)
		json_array_append_new(env, json_pack("{s:s, s:O}", "name", k, "value", v));
	snprintf(rev, sizeof(rev), "%lld", jint(s, "revision"));
	return json_pack("{s:{s:s, s:{s:s}}, s:{s:I, s:{s:{s:[{s:s, s:o}]}}}}", "metadata", "name",
			 jstr(s, "deployment"), "annotations", "deployment.kubernetes.io/revision", rev,
			 "spec", "replicas", (json_int_t)jint(s, "replicas"), "template", "spec",
			 "containers", "name", "vllm", "env", env);
}

static int
kubectl_get(struct tool_ctx *c, int argc, char **argv)
{
	const char *out = arg_val(argc, argv, "-o"), *sel = arg_val(argc, argv, "-l");
	const char *what = argc > 2 ? argv[2] : "";
	json_t *doc = NULL;
	size_t i;

	if (!strcmp(what, "nodes") && sel) {
		/* key=value: this node and its peers that carry the same label. */
		const char *eq = strchr(sel, '=');
		char *key = eq ? xstrndup(sel, (size_t)(eq - sel)) : xstrdup(sel);
		bool match = eq && !strcmp(jstr(json_object_get(c->st, "labels"), key), eq + 1);
		long peers = jint(json_object_get(c->st, "cluster"), "spine_peers");
		if (match) {
			printf("node/%s\n", c->node);
			for (i = 1; i <= (size_t)peers; i++)
				printf("node/gpu-peer-%02zu\n", i);
		} else if (eq) {
			for (i = 1; i <= (size_t)peers; i++)
				printf("node/gpu-peer-%02zu\n", i);
		}
		free(key);
		return 0;
	}
	if (!strcmp(what, "pods")) {
		json_t *p;
		if (!arg_has(argc, argv, "--no-headers"))
			printf("NAMESPACE   NAME                     READY   STATUS    RESTARTS   AGE\n");
		json_array_foreach(json_object_get(json_object_get(c->st, "cluster"), "pending"), i, p)
			printf("research    train-%s-worker-0    0/1     Pending   0          14m\n",
			       jstr(p, "id"));
		return 0;
	}
	if (!strcmp(what, "node") && argc > 3)
		doc = node_doc(c);
	else if (!strcmp(what, "deployment") && argc > 3)
		doc = deploy_doc(c);
	if (!doc)
		return tool_usage(c, "the lab simulates get node N|nodes -l K=V|pods|deployment D");
	if (out && !strncmp(out, "jsonpath=", 9)) {
		/* A template: literal text between {...} expressions, as kubectl prints it. */
		const char *p = out + 9;
		while (*p) {
			const char *open = strchr(p, '{'), *close;
			if (!open) {
				fputs(p, stdout);
				break;
			}
			fwrite(p, 1, (size_t)(open - p), stdout);
			close = strchr(open, '}');
			if (!close)
				break;
			print_jsonpath(doc, open);
			p = close + 1;
		}
	}
	else if (out && !strcmp(out, "json"))
		json_dumpf(doc, stdout, JSON_INDENT(2));
	else
		printf("NAME   STATUS\n%s   Ready\n", argc > 3 ? argv[3] : "");
	if (out)
		printf("\n");
	json_decref(doc);
	return 0;
}

static int
kubectl_describe(struct tool_ctx *c, int argc, char **argv)
{
	unsigned have = (unsigned)jint(c->st, "device_plugin_gpus");

	(void)argc;
	printf("Name:         %s\nNamespace:    research\nStatus:       Pending\nEvents:\n  Type     "
	       "Reason            Age   From               Message\n  ----     ------            ----  "
	       "----               -------\n", argc > 3 ? argv[3] : "pod");
	if (have < 8)
		printf("  Warning  FailedScheduling  14m   default-scheduler  0/16 nodes are available: 1 "
		       "Insufficient nvidia.com/gpu, 15 node(s) didn't match Pod's node affinity/selector. "
		       "preemption: 0/16 nodes are available: 16 Preemption is not helpful for "
		       "scheduling.\n");
	else
		printf("  Warning  FailedScheduling  14m   default-scheduler  0/16 nodes are available: 16 "
		       "Insufficient nvidia.com/gpu. preemption: 0/16 nodes are available: 16 No "
		       "preemption victims found for incoming pod.\n");
	return 0;
}

static int
kubectl_label(struct tool_ctx *c, int argc, char **argv)
{
	json_t *labels = json_object_get(c->st, "labels");
	int k;

	if (jtrue(c->st, "label_forbidden")) {
		fprintf(stderr, "Error from server (Forbidden): nodes \"%s\" is forbidden: User "
				"\"system:serviceaccount:ops:rbx\" cannot patch resource \"nodes\" in API "
				"group \"\" at the cluster scope\n", c->node);
		return 1;
	}
	for (k = 4; k < argc; k++) {
		const char *eq = strchr(argv[k], '=');
		size_t n = strlen(argv[k]);
		if (argv[k][0] == '-')
			continue;
		if (eq) {
			char *key = xstrndup(argv[k], (size_t)(eq - argv[k]));
			if (*jstr(labels, key) && !arg_has(argc, argv, "--overwrite")) {
				fprintf(stderr, "error: '%s' already has a value (%s), and --overwrite is "
						"false\n", key, jstr(labels, key));
				free(key);
				return 1;
			}
			jset_str(labels, key, eq + 1);
			free(key);
		} else if (n && argv[k][n - 1] == '-') {
			char *key = xstrndup(argv[k], n - 1);
			json_object_del(labels, key);
			free(key);
		}
	}
	c->dirty = true;
	printf("node/%s labeled\n", c->node);
	return 0;
}

static void
serving_settle(json_t *st)
{
	json_t *s = json_object_get(st, "serving"), *env = json_object_get(s, "env");

	/* Fewer sequences and more KV memory relieve the pressure, unless it is persistent. */
	if (!jtrue(st, "persistent") && atoi(jstr(env, "MAX_NUM_SEQS")) <= 128 &&
	    atof(jstr(env, "GPU_MEMORY_UTILIZATION")) >= 0.94)
		jset_bool(s, "kv_pressure", false);
}

static int
kubectl_deploy(struct tool_ctx *c, int argc, char **argv)
{
	json_t *s = json_object_get(c->st, "serving");
	const char *verb = argv[1], *target = NULL, *rep = arg_val(argc, argv, "--replicas");
	int k;

	for (k = 2; k < argc; k++)
		if (!strncmp(argv[k], "deployment/", 11))
			target = argv[k] + 11;
	if (!strcmp(verb, "rollout") && argc > 2 && !target)
		for (k = 3; k < argc; k++)
			if (!strncmp(argv[k], "deployment/", 11))
				target = argv[k] + 11;
	if (!target || strcmp(target, jstr(s, "deployment"))) {
		fprintf(stderr, "Error from server (NotFound): deployments.apps \"%s\" not found\n",
			target ? target : "");
		return 1;
	}
	if (!strcmp(verb, "scale") && rep) {
		jset_int(s, "replicas", atoll(rep));
		printf("deployment.apps/%s scaled\n", target);
	} else if (!strcmp(verb, "set") && argc > 2 && !strcmp(argv[2], "env")) {
		for (k = 3; k < argc; k++) {
			const char *eq = strchr(argv[k], '=');
			if (eq && strncmp(argv[k], "deployment/", 11)) {
				char *key = xstrndup(argv[k], (size_t)(eq - argv[k]));
				jset_str(json_object_get(s, "env"), key, eq + 1);
				free(key);
			}
		}
		jset_int(s, "revision", jint(s, "revision") + 1);
		serving_settle(c->st);
		printf("deployment.apps/%s env updated\n", target);
	} else if (!strcmp(verb, "rollout") && argc > 2 && !strcmp(argv[2], "undo")) {
		const char *to = arg_val(argc, argv, "--to-revision");
		long long rev = to ? atoll(to) : jint(s, "good_revision");
		jset_int(s, "revision", rev);
		if (rev <= jint(s, "good_revision") && !jtrue(c->st, "persistent"))
			jset_bool(s, "bad_revision", false);
		printf("deployment.apps/%s rolled back\n", target);
	} else if (!strcmp(verb, "rollout") && argc > 2 && !strcmp(argv[2], "status")) {
		if (jtrue(s, "stuck")) {
			printf("Waiting for deployment \"%s\" rollout to finish: 1 of %lld updated replicas "
			       "are available...\n", target, jint(s, "replicas"));
			fprintf(stderr, "error: timed out waiting for the condition\n");
			return 1;
		}
		printf("deployment \"%s\" successfully rolled out\n", target);
		return 0;
	} else {
		return tool_usage(c, "the lab simulates scale, set env, rollout undo|status on deployment/NAME");
	}
	c->dirty = true;
	return 0;
}

/*
 * The GPU Operator's MIG manager, restarted, applies the node's nvidia.com/mig.config
 * again and writes the outcome to nvidia.com/mig.config.state; it restarts the device
 * plugin as part of that. Where no manager runs, the selector matches no pod.
 */
static int
mig_manager_restart(struct tool_ctx *c)
{
	json_t *labels = json_object_get(c->st, "labels"), *g;
	const char *want = jstr(labels, "nvidia.com/mig.config");
	bool off = !strcmp(want, "all-disabled");
	size_t i;

	if (!jtrue(c->st, "mig_manager")) {
		fprintf(stderr, "No resources found\n");
		return 0;
	}
	if (!off && strcmp(want, "all-3g.40gb")) {
		jset_str(labels, "nvidia.com/mig.config.state", "failed");
	} else {
		json_array_foreach(jgpus(c), i, g) {
			json_t *gis = json_object_get(g, "gis");
			json_array_clear(gis);
			jset_str(g, "mig_mode", off ? "Disabled" : "Enabled");
			jset_str(g, "mig_pending", off ? "Disabled" : "Enabled");
			if (!off) { /* two 3g.40gb, table index 3 */
				json_array_append_new(gis, json_pack("{s:i}", "profile", 3));
				json_array_append_new(gis, json_pack("{s:i}", "profile", 3));
			}
		}
		jset_str(labels, "nvidia.com/mig.config.state", "success");
	}
	jset_int(c->st, "device_plugin_gpus", lab_visible_gpus(c));
	jset_int(c->st, "device_plugin_restarted_at", lab_now(c->st));
	c->dirty = true;
	printf("pod \"nvidia-mig-manager-5tq8w\" deleted\n");
	return 0;
}

int
tool_kubectl(struct tool_ctx *c, int argc, char **argv)
{
	const char *sel;

	if (argc < 2)
		return tool_usage(c, "kubectl VERB ...");
	if (!strcmp(argv[1], "get"))
		return kubectl_get(c, argc, argv);
	if (!strcmp(argv[1], "describe"))
		return kubectl_describe(c, argc, argv);
	if (!strcmp(argv[1], "label") && argc > 3)
		return kubectl_label(c, argc, argv);
	if (!strcmp(argv[1], "delete") && argc > 2 && !strcmp(argv[2], "pod") &&
	    (sel = arg_val(argc, argv, "-l")) && !strcmp(sel, "app=nvidia-mig-manager"))
		return mig_manager_restart(c);
	if (!strcmp(argv[1], "delete") && argc > 2 && !strcmp(argv[2], "pod")) {
		/* Restarting the device plugin makes it count the GPUs it can see again. */
		jset_int(c->st, "device_plugin_gpus", lab_visible_gpus(c));
		jset_int(c->st, "device_plugin_restarted_at", lab_now(c->st));
		c->dirty = true;
		printf("pod \"nvidia-device-plugin-daemonset-x7k2p\" deleted\n");
		return 0;
	}
	if (!strcmp(argv[1], "scale") || !strcmp(argv[1], "set") || !strcmp(argv[1], "rollout"))
		return kubectl_deploy(c, argc, argv);
	fprintf(stderr, "rbx lab: 'kubectl %s' is not simulated in the lab\n", argv[1]);
	return 127;
}
