/* serve_auto.c - runs rbx serve starts from incidents (runbooks on the auto list), each an
 * `rbx run` of its own, bounded by a circuit breaker only an operator's recorded reset clears. */
#define _GNU_SOURCE
#include "app/serve.h"

#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/alerts.h"
#include "app/runner.h"
#include "core/runbook.h"
#include "io/journal.h"

static char *
serve_dir(void)
{
	char *state = util_state_dir(), *d = xasprintf("%s/serve", state);

	free(state);
	return d;
}

/* The breaker's state: STATE/serve/breaker.json; absent means closed. */
json_t *
serve_breaker_state(void)
{
	char *dir = serve_dir(), *path = xasprintf("%s/breaker.json", dir), *text;
	struct rbx_err err;
	size_t len;
	json_t *st = NULL;

	text = util_read_file(path, 65536, &len, &err);
	if (text)
		st = json_loadb(text, len, 0, NULL);
	free(text);
	free(path);
	free(dir);
	return st ? st : json_pack("{s:b}", "tripped", 0);
}

static int
write_json(const char *name, json_t *doc, struct rbx_err *err)
{
	char *dir = serve_dir(), *path = xasprintf("%s/%s", dir, name);
	char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int rc = util_mkdir_p(dir, 0700, err);

	if (rc == 0)
		rc = util_write_file_atomic(path, text, strlen(text), 0600, err);
	free(text);
	free(path);
	free(dir);
	return rc;
}

/*
 * The breaker's state changes in two threads: an incident's (MHD's) and the main loop's,
 * which collects the auto runs that end. One lock keeps a reset from crossing a trip.
 */
static pthread_mutex_t breaker_mu = PTHREAD_MUTEX_INITIALIZER;

/* STATE/serve/starts.json: each auto run started since the last reset (an array). */
static json_t *
starts_load(void)
{
	char *dir = serve_dir(), *path = xasprintf("%s/starts.json", dir), *text;
	struct rbx_err err;
	json_t *starts = NULL;
	size_t len;

	text = util_read_file(path, 8u << 20, &len, &err);
	starts = text ? json_loadb(text, len, 0, NULL) : NULL;
	free(text);
	free(path);
	free(dir);
	if (json_is_array(starts))
		return starts;
	json_decref(starts);
	return json_array();
}

static bool
in_pool_since(json_t *start, const char *pool, int64_t since)
{
	return json_integer_value(json_object_get(start, "at")) >= since &&
	       !strcmp(json_string_value(json_object_get(start, "pool")) ?: "", pool);
}

/* Auto runs started in the window, in the node's pool. */
static size_t
starts_in_window(json_t *starts, const char *pool, int64_t since)
{
	json_t *s;
	size_t i, n = 0;

	json_array_foreach(starts, i, s)
		n += in_pool_since(s, pool, since);
	return n;
}

/* A start's run, found by the requested_by it was given: did it end failed (exit 1, rolled
 * back; 4, the rollback failed)? The journals say, so a restart of rbx serve loses none. */
static bool
start_failed(const char *state_dir, json_t *start)
{
	const char *by = json_string_value(json_object_get(start, "by"));
	const char *node = json_string_value(json_object_get(start, "node"));
	json_t *runs, *run;
	json_int_t code = 0;
	size_t i;

	if (!by || !node)
		return false;
	runs = serve_runs_list(state_dir, node, 50);
	json_array_foreach(runs, i, run)
		if (!strcmp(json_string_value(json_object_get(run, "requested_by")) ?: "", by)) {
			code = json_integer_value(json_object_get(run, "exit"));
			break;
		}
	json_decref(runs);
	return code == 1 || code == 4;
}

static size_t
failures_in_window(const char *state_dir, json_t *starts, const char *pool, int64_t since)
{
	json_t *s;
	size_t i, n = 0;

	json_array_foreach(starts, i, s)
		n += in_pool_since(s, pool, since) && start_failed(state_dir, s);
	return n;
}

/* Whether either limit is reached in the pool; reason says which. */
static bool
limit_reached(const struct serve_opts *o, json_t *starts, const char *pool, char *reason,
	      size_t len)
{
	int64_t since = util_wall_ms() - o->breaker_window_ms;
	size_t n = starts_in_window(starts, pool, since);

	if (n >= (size_t)o->breaker_nodes) {
		snprintf(reason, len, "%zu nodes of pool '%s' taken out by auto runs within %llds", n,
			 pool, o->breaker_window_ms / 1000);
		return true;
	}
	n = failures_in_window(o->state_dir, starts, pool, since);
	if (n >= (size_t)o->breaker_failures) {
		snprintf(reason, len, "%zu auto runs failed in pool '%s' within %llds", n, pool,
			 o->breaker_window_ms / 1000);
		return true;
	}
	return false;
}

static void
trip(const char *pool, const char *reason)
{
	struct rbx_err err;
	json_t *st = json_pack("{s:b, s:I, s:s, s:s}", "tripped", 1, "since",
			       (json_int_t)util_wall_ms(), "pool", pool, "reason", reason);

	write_json("breaker.json", st, &err);
	json_decref(st);
}

static bool
tripped(char *why, size_t whylen)
{
	json_t *br = serve_breaker_state();
	bool on = json_is_true(json_object_get(br, "tripped"));

	if (on)
		snprintf(why, whylen, "the breaker is tripped (%s): an operator resets it",
			 json_string_value(json_object_get(br, "reason")) ?: "?");
	json_decref(br);
	return on;
}

static bool
on_auto_list(const struct serve_opts *o, const char *rb)
{
	size_t i;

	for (i = 0; i < o->nauto; i++)
		if (!strcmp(o->auto_runbooks[i], rb))
			return true;
	return false;
}

/* `rbx run RB --node N --yes` in a process of its own (exec'd: the server has threads). */
static pid_t
spawn_run(const struct serve_opts *o, const char *rb, const char *node, const char *logdir,
	  const char *by)
{
	char *log = xasprintf("%s/%s-%lld.log", logdir, node, (long long)util_wall_ms());
	const char *argv[14];
	int k = 0, fd;
	pid_t pid;

	argv[k++] = "rbx";
	argv[k++] = "run";
	argv[k++] = rb;
	argv[k++] = "--node";
	argv[k++] = node;
	argv[k++] = "--yes";
	argv[k++] = "--requested-by";
	argv[k++] = by;
	for (int i = 0; i < 3 && o->run_args[i]; i++)
		argv[k++] = o->run_args[i];
	argv[k] = NULL;
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	free(log);
	pid = fork();
	if (pid == 0) {
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execv("/proc/self/exe", (char *const *)argv);
		_exit(127);
	}
	if (fd >= 0)
		close(fd);
	return pid;
}

const char *
serve_auto_consider(const struct serve_opts *o, const struct alert_item *it, const char *rb,
		    const char *node, const char *pool, char *why, size_t whylen)
{
	char *dir, *logdir, by[200], reason[256];
	const char *action = "refused";
	struct rbx_err err;
	json_t *starts;
	char run_id[160];
	pid_t pid;

	if (!rb || !node || !on_auto_list(o, rb))
		return NULL; /* waits for an operator */
	if (alerts_handled(o->state_dir, it, run_id, sizeof(run_id))) {
		snprintf(why, whylen, "this alert started a run already");
		return "handled";
	}
	pthread_mutex_lock(&breaker_mu);
	if (tripped(why, whylen)) {
		pthread_mutex_unlock(&breaker_mu);
		return "held";
	}
	starts = starts_load();
	if (limit_reached(o, starts, pool, reason, sizeof(reason))) {
		trip(pool, reason);
		snprintf(why, whylen, "the breaker tripped: %s", reason);
		json_decref(starts);
		pthread_mutex_unlock(&breaker_mu);
		return "held";
	}
	/* Intent first: the start and the alert are on disk before the run exists. The start
	 * keeps the requested_by its run's journal will hold, to find how the run ended. */
	snprintf(run_id, sizeof(run_id), "auto:%s", node);
	snprintf(by, sizeof(by), "rbx serve: alert %s (%s)", it->fingerprint,
		 strmap_get(&it->labels, "alertname"));
	json_array_append_new(starts, json_pack("{s:I, s:s, s:s, s:s, s:s}", "at",
						(json_int_t)util_wall_ms(), "node", node, "pool", pool,
						"runbook", rb, "by", by));
	if (write_json("starts.json", starts, &err) < 0 ||
	    alerts_remember(o->state_dir, it, run_id, &err) < 0) {
		snprintf(why, whylen, "%s", err.msg);
		json_decref(starts);
		pthread_mutex_unlock(&breaker_mu);
		return "refused";
	}
	json_decref(starts);
	pthread_mutex_unlock(&breaker_mu);
	dir = serve_dir();
	logdir = xasprintf("%s/logs", dir);
	util_mkdir_p(logdir, 0700, &err);
	pid = spawn_run(o, rb, node, logdir, by);
	if (pid > 0)
		action = "started";
	snprintf(why, whylen, pid > 0 ? "rbx run %s --node %s started (its output in %s)"
				       : "could not start rbx run %s --node %s (%s)", rb, node, logdir);
	free(logdir);
	free(dir);
	return action;
}

/* After an auto run failed: trip now, not at the next alert, so the dashboard says so. */
static void
recheck_failures(const struct serve_opts *o)
{
	char reason[256];
	json_t *starts, *s, *pools = json_object();
	const char *pool;
	size_t i;

	pthread_mutex_lock(&breaker_mu);
	if (tripped(reason, sizeof(reason)))
		goto out;
	starts = starts_load();
	json_array_foreach(starts, i, s)
		json_object_set(pools, json_string_value(json_object_get(s, "pool")) ?: "", json_null());
	json_object_foreach(pools, pool, s)
		if (limit_reached(o, starts, pool, reason, sizeof(reason))) {
			trip(pool, reason);
			break;
		}
	json_decref(starts);
out:
	json_decref(pools);
	pthread_mutex_unlock(&breaker_mu);
}

void
serve_auto_reap(const struct serve_opts *o)
{
	bool failed = false;
	int status;

	while (waitpid(-1, &status, WNOHANG) > 0)
		failed |= WIFEXITED(status) && (WEXITSTATUS(status) == 1 || WEXITSTATUS(status) == 4);
	if (failed)
		recheck_failures(o);
}

void
serve_breaker_reset(const char *by, struct serve_reply *r)
{
	struct rbx_err err;
	char now[40];
	json_t *st;

	util_iso_time(util_wall_ms(), now, sizeof(now));
	pthread_mutex_lock(&breaker_mu);
	st = json_pack("{s:b, s:s, s:s}", "tripped", 0, "reset_by", by, "reset_at", now);
	r->type = "text/plain; charset=utf-8";
	if (write_json("breaker.json", st, &err) < 0) {
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		buf_addf(&r->body, "%s\n", err.msg);
	} else {
		/* The window starts afresh: the runs before the reset no longer count. */
		json_t *none = json_array();
		write_json("starts.json", none, &err);
		json_decref(none);
		r->status = MHD_HTTP_OK;
		buf_addf(&r->body, "the breaker is reset (by %s at %s)\n", by, now);
	}
	pthread_mutex_unlock(&breaker_mu);
	json_decref(st);
}

void
serve_web_run(const struct serve_opts *o, const char *by, const char *body, size_t len,
	      struct serve_reply *r)
{
	json_t *doc = json_loadb(body, len, 0, NULL);
	const char *rb = json_string_value(json_object_get(doc, "runbook"));
	const char *node = json_string_value(json_object_get(doc, "node"));
	struct rbx_err err;
	char *path, *dir, *logdir, who[200];
	pid_t pid;

	r->type = "application/json";
	if (!rb || !node || !util_valid_slug(rb) || !util_valid_node_name(node)) {
		r->status = MHD_HTTP_BAD_REQUEST;
		buf_adds(&r->body, "{\"error\":\"give {\\\"runbook\\\": NAME, \\\"node\\\": NODE}\"}\n");
		json_decref(doc);
		return;
	}
	path = runbook_find(rb, &err);
	if (!path) {
		r->status = MHD_HTTP_NOT_FOUND;
		buf_adds(&r->body, "{\"error\":\"no such runbook\"}\n");
		json_decref(doc);
		return;
	}
	free(path);
	dir = serve_dir();
	logdir = xasprintf("%s/logs", dir);
	util_mkdir_p(logdir, 0700, &err);
	snprintf(who, sizeof(who), "rbx serve: operator %s", by);
	pid = spawn_run(o, rb, node, logdir, who);
	r->status = pid > 0 ? MHD_HTTP_ACCEPTED : MHD_HTTP_INTERNAL_SERVER_ERROR;
	serve_reply_json(r, json_pack("{s:b, s:s, s:s, s:s}", "started", pid > 0, "runbook", rb,
				      "node", node, "requested_by", who));
	free(logdir);
	free(dir);
	json_decref(doc);
}
