/* lab_faults_cluster.c - the faults `rbx lab inject` puts in what surrounds a node: its
 * Slurm job and drain, Kubernetes labels and device plugin, serving, its BMC. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "lab/lab.h"
#include "lab/lab_internal.h"

int
f_drained(struct fault_ctx *f)
{
	json_t *sc = json_object_get(f->st, "sched");

	if (!*f->val)
		return err_set(f->err, "drained=REASON needs a reason");
	jset_bool(sc, "cordoned", true);
	jset_bool(sc, "drained", true);
	jset_str(sc, "reason", f->val);
	return 0;
}

int
f_jobs(struct fault_ctx *f)
{
	jset_int(json_object_get(f->st, "sched"), "jobs", strtol(f->val, NULL, 10));
	return 0;
}

int
f_plugin(struct fault_ctx *f)
{
	char *end;
	long n;

	/* A restarted plugin that never registers again (CrashLoopBackOff). */
	if (!strcmp(f->val, "crashloop")) {
		jset_bool(f->st, "device_plugin_crashloop", true);
		return 0;
	}
	/* The device plugin marked GPUs unhealthy and advertises fewer. */
	n = strtol(f->val, &end, 10);
	if (*end || end == f->val || n < 0)
		return err_set(f->err, "plugin=%s: use plugin=N (GPUs advertised) or plugin=crashloop", f->val);
	jset_int(f->st, "device_plugin_gpus", n);
	return 0;
}

int
f_slurm(struct fault_ctx *f)
{
	if (strcmp(f->val, "down") != 0 && strcmp(f->val, "up") != 0)
		return err_set(f->err, "slurm=%s: use slurm=down (or up)", f->val);
	jset_bool(json_object_get(f->st, "cluster"), "slurm_up", strcmp(f->val, "down") != 0);
	return 0;
}

int
f_label(struct fault_ctx *f)
{
	if (!strcmp(f->val, "forbidden"))
		jset_bool(f->st, "label_forbidden", true);
	else if (!strcmp(f->val, "wrong"))
		jset_str(json_object_get(f->st, "labels"), "network.topology.rbx.dev/spine", "spine-4");
	else if (!strcmp(f->val, "missing"))
		json_object_del(json_object_get(f->st, "labels"), "network.topology.rbx.dev/spine");
	else
		return err_set(f->err, "label=%s: use label=wrong, missing or forbidden", f->val);
	return 0;
}

/* Live ranks of the cluster's job on this node (use with job=here): Slurm owns them. */
int
f_job_procs(struct fault_ctx *f)
{
	json_t *job = json_object_get(json_object_get(f->st, "cluster"), "job");
	char *end;
	long n = strtol(f->val, &end, 10), i;

	if (*end || end == f->val || n < 1 || n > 64)
		return err_set(f->err, "job_procs=%s: a count of processes from 1 to 64", f->val);

	for (i = 0; i < n; i++)
		json_array_append_new(json_object_get(f->st, "procs"),
				      json_pack("{s:I, s:I, s:s, s:i, s:b, s:s}", "pid", (json_int_t)(41000 + i),
						"gpu", (json_int_t)f->gpu_index, "name", "python3", "mem",
						61440, "unkillable", 0, "job", jstr(job, "id")));
	return 0;
}

int
f_loss(struct fault_ctx *f)
{
	jset_bool(json_object_get(f->st, "training"), "loss_diverges", !strcmp(f->val, "diverge"));
	return 0;
}

int
f_slo(struct fault_ctx *f)
{
	json_t *s = json_object_get(f->st, "serving");

	if (!strcmp(f->val, "bad-deploy"))
		jset_bool(s, "bad_revision", true);
	else if (!strcmp(f->val, "capacity"))
		jset_int(s, "needed_replicas", 6);
	else
		return err_set(f->err, "slo=%s: use slo=bad-deploy or slo=capacity", f->val);
	return 0;
}

int
f_deploy(struct fault_ctx *f)
{
	jset_bool(json_object_get(f->st, "serving"), "stuck", !strcmp(f->val, "stuck"));
	return 0;
}

int
f_kv(struct fault_ctx *f)
{
	jset_bool(json_object_get(f->st, "serving"), "kv_pressure", !strcmp(f->val, "pressure"));
	return 0;
}

/* A vLLM from before the rename: it exports vllm:gpu_cache_usage_perc, not kv_cache_usage_perc. */
int
f_vllm(struct fault_ctx *f)
{
	if (!strcmp(f->val, "absent")) { /* Prometheus has no vLLM series: its scrape is broken */
		jset_bool(json_object_get(f->st, "serving"), "no_metrics", true);
		return 0;
	}
	if (strcmp(f->val, "old"))
		return err_set(f->err, "vllm=%s: use vllm=old or vllm=absent", f->val);
	jset_bool(json_object_get(f->st, "serving"), "old_metrics", true);
	return 0;
}

int
f_bmc(struct fault_ctx *f)
{
	json_t *b = json_object_get(f->st, "bmc");

	if (!strcmp(f->val, "hung"))
		jset_bool(b, "alive", false);
	else if (!strcmp(f->val, "misconfigured"))
		jset_bool(b, "lan_ok", false);
	else if (!strcmp(f->val, "dhcp-lost")) {
		/* Its DHCP lease is gone: no address until the source is made static. */
		jset_bool(b, "lan_ok", false);
		jset_str(b, "ipsrc", "dhcp");
	}
	else if (!strcmp(f->val, "dead")) {
		jset_bool(b, "alive", false);
		jset_bool(b, "dead", true);
	} else
		return err_set(f->err, "bmc=%s: use hung, misconfigured, dhcp-lost or dead", f->val);
	return 0;
}

int
f_job(struct fault_ctx *f)
{
	json_t *j = json_object_get(json_object_get(f->st, "cluster"), "job");

	if (!strcmp(f->val, "gone"))
		jset_bool(j, "gone", true);
	else if (!strcmp(f->val, "pinned"))
		jset_bool(j, "pinned", true);
	else if (!strcmp(f->val, "here"))
		jset_bool(j, "on_node", true);
	else if (!strcmp(f->val, "unkillable"))
		jset_bool(j, "unkillable", true); /* requeued, it stays COMPLETING: "Kill task failed" */
	else if (!strcmp(f->val, "requeued") || !strcmp(f->val, "pending")) {
		/* Requeued just now (its processes being killed), or a minute ago (waiting). */
		jset_str(j, "state", !strcmp(f->val, "requeued") ? "COMPLETING" : "PENDING");
		jset_int(j, "requeued_at", lab_now(f->st) - (!strcmp(f->val, "requeued") ? 0 : 60));
		jset_int(j, "requeues", jint(j, "requeues") + 1);
	} else
		return err_set(f->err, "job=%s: use job=gone, pinned, here, unkillable, requeued or pending", f->val);
	return 0;
}
