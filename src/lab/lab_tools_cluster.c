/* lab_tools_cluster.c - the lab's views of the cluster around a node: Slurm and the
 * its scheduler (kubectl: lab_tools_kube.c); the BMC and HTTP APIs are in lab_tools_bmc.c.
 * Every answer comes from the node's state; nothing here opens a socket. */
#define _GNU_SOURCE
#include <string.h>
#include <time.h>

#include "lab/lab.h"
#include "lab/lab_internal.h"

static json_t *
cluster(struct tool_ctx *c)
{
	return json_object_get(c->st, "cluster");
}

/*
 * A requeued job, as Slurm 22.05 did it on loopback (tests/fixtures/real,
 * scontrol-show-job.requeued-*): COMPLETING while its processes are killed
 * (about 50 s), then PENDING with Reason=BeginTime for 121 s, then RUNNING at
 * the next scheduling pass (about 20 s later), never on a node it excludes or
 * one that is drained.
 */
#define REQUEUE_COMPLETING_S 50
#define REQUEUE_ELIGIBLE_S (REQUEUE_COMPLETING_S + 121)
#define REQUEUE_STARTS_S (REQUEUE_ELIGIBLE_S + 20)

static bool names_node(const char *list, const char *node);

static void
end_job_procs(struct tool_ctx *c, const char *id)
{
	json_t *procs = json_object_get(c->st, "procs");
	size_t i = 0;

	while (i < json_array_size(procs)) {
		json_t *p = json_array_get(procs, i);
		if (!strcmp(jstr(p, "job"), id) && !jtrue(p, "unkillable"))
			json_array_remove(procs, i);
		else
			i++;
	}
}

/* scontrol listpids [JOBID]: the processes of the job steps on this node (real 22.05 format). */
static int
list_pids(struct tool_ctx *c, json_t *j, const char *id)
{
	json_t *p;
	size_t i;
	int n = 0;

	if (jtrue(j, "on_node") && !jtrue(j, "gone") && (!id || !strcmp(id, jstr(j, "id"))) &&
	    strcmp(jstr(j, "state"), "PENDING"))
		json_array_foreach(json_object_get(c->st, "procs"), i, p) {
			if (strcmp(jstr(p, "job"), jstr(j, "id")))
				continue;
			if (!n++)
				printf("PID      JOBID    STEPID   LOCALID GLOBALID\n");
			/* The batch script's own process has task ids; what it started, "-". */
			printf("%-8lld %-8s %-8s %-7s %-8s\n", jint(p, "pid"), jstr(j, "id"), "batch",
			       n == 1 ? "0" : "-", n == 1 ? "0" : "-");
		}
	if (n)
		return 0;
	fprintf(stderr, "No job steps exist on this node.\n");
	return 1;
}

static void
job_settle(struct tool_ctx *c, json_t *j)
{
	long long age = lab_now(c->st) - jint(j, "requeued_at");
	const char *state = jstr(j, "state");
	const char *next = state;

	if (!json_object_get(j, "requeued_at"))
		return;
	if (!strcmp(state, "COMPLETING") && age >= REQUEUE_COMPLETING_S && !jtrue(j, "unkillable"))
		next = "PENDING";
	if (strcmp(next, state) && !strcmp(next, "PENDING"))
		end_job_procs(c, jstr(j, "id")); /* Slurm killed its processes */
	if (!strcmp(next, "PENDING") && age >= REQUEUE_STARTS_S)
		next = "RUNNING";
	if (next == state)
		return;
	jset_str(j, "state", next);
	if (!strcmp(next, "RUNNING")) {
		json_object_del(j, "requeued_at");
		jset_bool(j, "on_node", !names_node(jstr(j, "excluded"), c->node) &&
						!jtrue(json_object_get(c->st, "sched"), "cordoned"));
	}
	c->dirty = true;
}

/* The cluster's job, as lab_cluster_settle left it for this tool call. */
static json_t *
job(struct tool_ctx *c)
{
	return json_object_get(cluster(c), "job");
}

void
lab_cluster_settle(struct tool_ctx *c)
{
	job_settle(c, job(c));
}

static bool
job_pending(json_t *j)
{
	return !strcmp(jstr(j, "state"), "PENDING") || !strcmp(jstr(j, "state"), "COMPLETING");
}

/* Whether a comma list of node names ("n41,n42") holds node (the lab's lists are plain). */
static bool
names_node(const char *list, const char *node)
{
	size_t n = strlen(node);
	const char *p;

	for (p = list; (p = strstr(p, node)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

static int
slurm_down(struct tool_ctx *c, const char *what)
{
	if (jtrue(cluster(c), "slurm_up"))
		return 0;
	fprintf(stderr, "%s: error: Unable to contact slurm controller (connect failure)\n", what);
	return 1;
}

unsigned
lab_visible_gpus(struct tool_ctx *c)
{
	json_t *g;
	size_t i;
	unsigned n = 0;

	if (!jtrue(c->st, "module_loaded"))
		return 0;
	json_array_foreach(jgpus(c), i, g)
		n += !jtrue(g, "lost");
	return n;
}

/* ---- Slurm ------------------------------------------------------------------------------ */

int
tool_sinfo(struct tool_ctx *c, int argc, char **argv)
{
	json_t *sc = json_object_get(c->st, "sched");
	const char *fmt = arg_val(argc, argv, "-o");

	if (slurm_down(c, "sinfo"))
		return 1;
	if (arg_has(argc, argv, "-R")) {
		if (!arg_has(argc, argv, "-h"))
			printf("REASON               USER      TIMESTAMP           NODELIST\n");
		if (jtrue(sc, "cordoned"))
			printf("%-20.20s root      2026-11-24T05:41:07 %s\n", jstr(sc, "reason"), c->node);
		return 0;
	}
	if (fmt && strstr(fmt, "%G"))
		printf("%s gpu:h100:%u %s\n", c->node, lab_visible_gpus(c),
		       jtrue(sc, "drained") ? "drain" : "idle");
	else
		printf("%s %s %s\n", c->node, jtrue(sc, "drained") ? "drained" : "idle",
		       jstr(sc, "reason"));
	return 0;
}

int
tool_squeue(struct tool_ctx *c, int argc, char **argv)
{
	const char *state = arg_val(argc, argv, "-t"), *jid = arg_val(argc, argv, "-j");
	json_t *p;
	size_t i;

	if (slurm_down(c, "squeue"))
		return 1;
	if (jid) {
		json_t *j = job(c);
		const char *on = arg_val(argc, argv, "-w");
		if (strcmp(jid, jstr(j, "id")) || jtrue(j, "gone")) {
			fprintf(stderr, "slurm_load_jobs error: Invalid job id specified\n");
			return 1;
		}
		/* -w: only if the job runs there. */
		if (on && !(jtrue(j, "on_node") && !strcmp(on, c->node) &&
			    strcmp(jstr(j, "state"), "PENDING")))
			return 0;
		printf("%s\n", jstr(j, "state"));
		return 0;
	}
	if (!arg_has(argc, argv, "-h"))
		printf("JOBID USER PARTITION REASON\n");
	if (state && !strcmp(state, "PD"))
		json_array_foreach(json_object_get(cluster(c), "pending"), i, p)
			printf("%s %s %s %s\n", jstr(p, "id"), jstr(p, "user"), jstr(p, "partition"),
			       lab_visible_gpus(c) < jint(p, "gpus") && !strcmp(jstr(p, "reason"), "Resources")
				       ? "Resources"
				       : jstr(p, "reason"));
	return 0;
}

static int
show_job(struct tool_ctx *c, const char *id)
{
	json_t *j = job(c);

	if (strcmp(id, jstr(j, "id")) || jtrue(j, "gone")) {
		fprintf(stderr, "slurm_load_jobs error: Invalid job id specified\n");
		return 1;
	}
	printf("JobId=%s JobName=%s\n   UserId=alice(1001) GroupId=research(1001)\n   JobState=%s "
	       "Reason=%s Dependency=(null)\n   Requeue=1 Restarts=%lld BatchFlag=1\n   NumNodes=%lld "
	       "NumCPUs=%lld NumTasks=%lld\n   TRES=cpu=%lld,gres/gpu=%lld\n   ExcNodeList=%s\n",
	       jstr(j, "id"), jstr(j, "name"), jstr(j, "state"),
	       !strcmp(jstr(j, "state"), "PENDING") && lab_now(c->st) - jint(j, "requeued_at") <
								 REQUEUE_ELIGIBLE_S
		       ? "BeginTime"
		       : "None",
	       jint(j, "requeues"), jint(j, "nodes"),
	       jint(j, "nodes") * 224, jint(j, "nodes") * 8, jint(j, "nodes") * 224,
	       jint(j, "nodes") * 8, *jstr(j, "excluded") ? jstr(j, "excluded") : "(null)");
	return 0;
}

int
tool_scontrol(struct tool_ctx *c, int argc, char **argv)
{
	json_t *sc = json_object_get(c->st, "sched"), *j = job(c);
	int k;

	if (slurm_down(c, "scontrol"))
		return 1;
	if (argc >= 4 && !strcmp(argv[1], "show") && !strcmp(argv[2], "node")) {
		printf("NodeName=%s Arch=x86_64 CoresPerSocket=56\n   CPUAlloc=0 CPUEfctv=224 CPUTot=224\n"
		       "   Gres=gpu:h100:%u\n   State=%s ThreadsPerCore=2\n   Reason=%s\n", argv[3],
		       lab_visible_gpus(c), jtrue(sc, "drained") ? "IDLE+DRAIN" : "IDLE",
		       *jstr(sc, "reason") ? jstr(sc, "reason") : "(null)");
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "show") && !strcmp(argv[2], "job"))
		return show_job(c, argv[3]);
	if (argc >= 2 && !strcmp(argv[1], "listpids"))
		return list_pids(c, j, argc >= 3 ? argv[2] : NULL);
	if (argc >= 3 && !strcmp(argv[1], "requeue")) {
		if (strcmp(argv[2], jstr(j, "id")) || jtrue(j, "gone")) {
			fprintf(stderr, "Requeue of JobId=%s failed: Invalid job id specified\n", argv[2]);
			return 1;
		}
		if (jtrue(j, "pinned")) {
			fprintf(stderr, "Requeue of JobId=%s failed: Requested operation is presently "
					"disabled\n", argv[2]);
			return 1;
		}
		if (job_pending(j)) {
			fprintf(stderr, "Job is pending execution for job %s\n", argv[2]);
			return 1;
		}
		/* Its processes are killed, then it waits in the queue (job_settle). */
		jset_int(j, "requeues", jint(j, "requeues") + 1);
		jset_str(j, "state", "COMPLETING");
		jset_int(j, "requeued_at", lab_now(c->st));
		c->dirty = true;
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "update")) {
		const char *id = NULL, *exc = NULL;
		for (k = 2; k < argc; k++) {
			if (!strncasecmp(argv[k], "JobId=", 6))
				id = argv[k] + 6;
			if (!strncasecmp(argv[k], "ExcNodeList=", 12))
				exc = argv[k] + 12;
		}
		if (id && (strcmp(id, jstr(j, "id")) || jtrue(j, "gone"))) {
			fprintf(stderr, "slurm_update error: Invalid job id specified\n");
			return 1;
		}
		/* Slurm changes a job's node list only while it waits (or is being requeued). */
		if (id && exc && !job_pending(j)) {
			fprintf(stderr, "Job is no longer pending execution for job %s\n", id);
			return 1;
		}
		if (id && exc) {
			jset_str(j, "excluded", exc);
			c->dirty = true;
			return 0;
		}
	}
	if (argc >= 2 && !strcmp(argv[1], "reconfigure"))
		return 0;
	return tool_usage(c, "the lab simulates show node|job, listpids, update JobId=.. ExcNodeList=.., requeue, reconfigure");
}

/* The resumed job logs from the checkpoint's step on: continuous, or with a jump. */
static void
resume_log(struct tool_ctx *c, const char *from)
{
	const char *mark = strstr(from, "/ckpt/step_");
	char *dir, *log;
	long step;
	FILE *fp;

	jset_str(c->st, "resumed_from", from);
	if (!mark)
		return;
	step = strtol(mark + 11, NULL, 10);
	dir = xstrndup(from, (size_t)(mark - from));
	log = xasprintf("%s/train.log", dir);
	fp = fopen(log, "a");
	if (fp) {
		fprintf(fp, "resumed from %s\n", from);
		lab_train_append(fp, step + 1, step + 50,
				 jtrue(json_object_get(c->st, "training"), "loss_diverges") ? 0.9 : 0.0);
		fclose(fp);
	}
	free(dir);
	free(log);
}

/* sbatch --parsable ... [--export=ALL,RESUME_FROM=DIR/step_N] SCRIPT: resume the job from a checkpoint. */
int
tool_sbatch(struct tool_ctx *c, int argc, char **argv)
{
	const char *exp = arg_val(argc, argv, "--export"), *from;
	json_t *j = job(c);
	char id[32];

	if (slurm_down(c, "sbatch"))
		return 1;
	snprintf(id, sizeof(id), "%lld", strtoll(jstr(j, "id"), NULL, 10) + 1);
	jset_str(j, "id", id);
	jset_str(j, "state", "RUNNING");
	json_object_del(j, "requeued_at");
	jset_bool(j, "gone", false);
	from = exp ? strstr(exp, "RESUME_FROM=") : NULL;
	if (from)
		resume_log(c, from + 12);
	c->dirty = true;
	if (arg_has(argc, argv, "--parsable"))
		printf("%s\n", id);
	else
		printf("Submitted batch job %s\n", id);
	return 0;
}

int
tool_scancel(struct tool_ctx *c, int argc, char **argv)
{
	json_t *j = job(c);

	if (slurm_down(c, "scancel"))
		return 1;
	if (argc < 2 || strcmp(argv[argc - 1], jstr(j, "id")) || jtrue(j, "gone")) {
		fprintf(stderr, "scancel: error: Kill job error on job id %s: Invalid job id specified\n",
			argc > 1 ? argv[argc - 1] : "");
		return 1;
	}
	jset_str(j, "state", "CANCELLED");
	c->dirty = true;
	return 0;
}
