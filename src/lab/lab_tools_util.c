/* lab_tools_util.c - what the lab's tools and state code share: JSON field access,
 * argument lookup, usage errors, the kernel log, repair on reset, a GPU's temperature. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lab/lab.h"
#include "lab/lab_internal.h"

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

long long
lab_now(json_t *st)
{
	return (long long)time(NULL) + jint(st, "clock_skew_ms") / 1000;
}

bool
lab_persistence_on(json_t *st)
{
	if (json_object_get(st, "persistence_mode"))
		return jtrue(st, "persistence_mode");
	return service_active(st, "nvidia-persistenced") && !jtrue(st, "persistenced_no_pm");
}

long long
lab_power_min(json_t *gpu)
{
	return jint(gpu, "min_power_limit") ? jint(gpu, "min_power_limit") : 200;
}

long long
lab_power_max(json_t *gpu)
{
	return jint(gpu, "max_power_limit") ? jint(gpu, "max_power_limit") : 700;
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

/* What a GPU reset clears, unless the fault is in the hardware (not a pending ECC mode: a boot does that). */
void
lab_repair_on_reset(json_t *st, json_t *g)
{
	if (jtrue(st, "persistent"))
		return;
	jset_bool(g, "remap_pending", false);
	json_object_set(g, "mig_mode", json_object_get(g, "mig_pending"));
	jset_bool(g, "nvlink_down", false);
}

int
gpu_temp(struct tool_ctx *c, json_t *g)
{
	long long t = jint(g, "temp");

	/* A power cap cools a hot GPU, unless the cooling itself has failed. */
	if (jint(g, "hot") && !jtrue(c->st, "cooling_failed") &&
	    jint(g, "power_limit") < jint(g, "default_power_limit"))
		t = 60 + jint(g, "index") % 5;
	return (int)t;
}

/*
 * The link's current generation: an idle GPU drops its link to gen 1 to save power
 * (a real idle RTX 4090 shows Current 1 of Max 4); under work it runs at what it trained to.
 */
bool
lab_gpu_busy(struct tool_ctx *c, json_t *g)
{
	json_t *p, *job = json_object_get(json_object_get(c->st, "cluster"), "job");
	size_t i;

	if (jtrue(job, "on_node") && !jtrue(job, "gone") && !strcmp(jstr(job, "state"), "RUNNING"))
		return true;
	json_array_foreach(json_object_get(c->st, "procs"), i, p)
		if (jint(p, "gpu") == jint(g, "index") && !jtrue(p, "nvml"))
			return true;
	return false;
}

long long
gpu_link_gen(struct tool_ctx *c, json_t *g)
{
	return lab_gpu_busy(c, g) ? jint(g, "pcie_gen") : 1;
}

/* HBM temperature: a few degrees above the core, or its own (memtemp=); a cap cools both. */
int
gpu_mem_temp(struct tool_ctx *c, json_t *g)
{
	long long m = jint(g, "mem_temp");

	if (!m)
		return gpu_temp(c, g) + 6;
	if (!jtrue(c->st, "cooling_failed") && jint(g, "power_limit") < jint(g, "default_power_limit"))
		return 66 + (int)(jint(g, "index") % 5);
	return (int)m;
}

/* A training run's loss at a step: the same curve on every node and every run. */
static double
train_loss(long step)
{
	return 1.9 + 6.0 / sqrt((double)step) + 0.002 * (double)((step * 7919) % 5);
}

void
lab_train_append(FILE *fp, long from, long to, double jump)
{
	long s;

	for (s = from; s <= to; s++)
		fprintf(fp, "step %ld loss %.4f lr %.3e tokens_per_sec 135200\n", s, train_loss(s) + jump,
			3e-4 * (1.0 - (double)s / 100000.0));
}

/* Is s one of the strings of the JSON array arr? */
bool
lab_in_list(json_t *arr, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (!strcmp(json_string_value(v), s))
			return true;
	return false;
}
