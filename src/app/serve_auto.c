/* serve_auto.c - runs rbx serve starts from incidents (runbooks on the auto list), each an
 * `rbx run` of its own, bounded by a circuit breaker only an operator's recorded reset clears. */
#define _GNU_SOURCE
#include "app/serve.h"

#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
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

/* Auto runs started in the window, in the node's pool (STATE/serve/starts.json). */
static size_t
starts_in_window(json_t *starts, const char *pool, int64_t since)
{
	json_t *s;
	size_t i, n = 0;

	json_array_foreach(starts, i, s)
		if (json_integer_value(json_object_get(s, "at")) >= since &&
		    !strcmp(json_string_value(json_object_get(s, "pool")) ?: "", pool))
			n++;
	return n;
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
	char *dir, *logdir, *path, *text;
	struct rbx_err err;
	json_t *br, *starts = NULL;
	char run_id[160];
	size_t len, n;
	int64_t now = util_wall_ms();
	pid_t pid;

	if (!rb || !node || !on_auto_list(o, rb))
		return NULL; /* waits for an operator */
	if (alerts_handled(o->state_dir, it, run_id, sizeof(run_id))) {
		snprintf(why, whylen, "this alert started a run already");
		return "handled";
	}
	br = serve_breaker_state();
	if (json_is_true(json_object_get(br, "tripped"))) {
		snprintf(why, whylen, "the breaker is tripped (%s): an operator resets it",
			 json_string_value(json_object_get(br, "reason")) ?: "?");
		json_decref(br);
		return "held";
	}
	json_decref(br);
	dir = serve_dir();
	path = xasprintf("%s/starts.json", dir);
	text = util_read_file(path, 8u << 20, &len, &err);
	starts = text ? json_loadb(text, len, 0, NULL) : NULL;
	free(text);
	free(path);
	if (!json_is_array(starts)) {
		json_decref(starts);
		starts = json_array();
	}
	n = starts_in_window(starts, pool, now - o->breaker_window_ms);
	if (n >= (size_t)o->breaker_nodes) {
		json_t *st = json_pack("{s:b, s:I, s:s, s:s}", "tripped", 1, "since", (json_int_t)now,
				       "pool", pool, "reason", "");
		char reason[256];
		snprintf(reason, sizeof(reason), "%zu nodes of pool '%s' taken out by auto runs within "
			 "%llds", n, pool, o->breaker_window_ms / 1000);
		json_object_set_new(st, "reason", json_string(reason));
		write_json("breaker.json", st, &err);
		json_decref(st);
		snprintf(why, whylen, "the breaker tripped: %s", reason);
		json_decref(starts);
		free(dir);
		return "held";
	}
	/* Intent first: the start and the alert are on disk before the run exists. */
	snprintf(run_id, sizeof(run_id), "auto:%s", node);
	json_array_append_new(starts, json_pack("{s:I, s:s, s:s, s:s}", "at", (json_int_t)now, "node",
						node, "pool", pool, "runbook", rb));
	if (write_json("starts.json", starts, &err) < 0 ||
	    alerts_remember(o->state_dir, it, run_id, &err) < 0) {
		snprintf(why, whylen, "%s", err.msg);
		json_decref(starts);
		free(dir);
		return "refused";
	}
	json_decref(starts);
	logdir = xasprintf("%s/logs", dir);
	util_mkdir_p(logdir, 0700, &err);
	{
		char by[200];
		snprintf(by, sizeof(by), "rbx serve: alert %s (%s)", it->fingerprint,
			 strmap_get(&it->labels, "alertname"));
		pid = spawn_run(o, rb, node, logdir, by);
	}
	snprintf(why, whylen, pid > 0 ? "rbx run %s --node %s started (its output in %s)"
				       : "could not start rbx run %s --node %s (%s)", rb, node, logdir);
	free(logdir);
	free(dir);
	return pid > 0 ? "started" : "refused";
}

void
serve_auto_reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

void
serve_breaker_reset(const char *by, struct serve_reply *r)
{
	struct rbx_err err;
	char now[40];
	json_t *st;

	util_iso_time(util_wall_ms(), now, sizeof(now));
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
