/* sched_file.c - the guard for nodes outside any scheduler: the cordon, its reason
 * and a history kept in $STATE/guard/NODE.json, changed under a lock, written atomically. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "backends/sched.h"

struct file_sched {
	char *path; /* $STATE/guard/NODE.json */
	char *lock; /* $STATE/guard/NODE.lock */
};

static json_t *
load(const char *path, struct rbx_err *err)
{
	json_error_t je;
	json_t *st;

	if (access(path, F_OK) != 0)
		return json_pack("{s:b, s:b, s:s, s:[]}", "cordoned", 0, "drained", 0, "reason", "",
				 "history");
	st = json_load_file(path, 0, &je);
	if (!json_is_object(st)) {
		err_set(err, "guard state %s is unreadable: %s", path,
			st ? "not a JSON object" : je.text);
		json_decref(st);
		return NULL;
	}
	if (!json_is_array(json_object_get(st, "history")))
		json_object_set_new(st, "history", json_array());
	return st;
}

static int
file_state(struct sched *s, struct sched_state *out, struct rbx_err *err)
{
	struct file_sched *f = s->priv;
	json_t *st = load(f->path, err);

	if (!st)
		return -1;
	memset(out, 0, sizeof(*out));
	out->cordoned = json_is_true(json_object_get(st, "cordoned"));
	out->drained = json_is_true(json_object_get(st, "drained"));
	snprintf(out->reason, sizeof(out->reason), "%s",
		 json_string_value(json_object_get(st, "reason")) ?: "");
	json_decref(st);
	return 0;
}

/* Change the state file under its lock: cordoned/drained as given, the reason, one history row. */
static int
file_change(struct sched *s, const char *op, int cordoned, int drained, const char *reason,
	    struct rbx_err *err)
{
	struct file_sched *f = s->priv;
	json_t *st = NULL;
	char *text = NULL;
	int fd, rc = -1;

	fd = open(f->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		err_set(err, "cannot lock %s: %s", f->lock, strerror(errno));
		goto out;
	}
	if (!(st = load(f->path, err)))
		goto out;
	if (cordoned >= 0)
		json_object_set_new(st, "cordoned", json_boolean(cordoned));
	if (drained >= 0)
		json_object_set_new(st, "drained", json_boolean(drained));
	json_object_set_new(st, "reason", json_string(reason ? reason : ""));
	json_array_append_new(json_object_get(st, "history"),
			      json_pack("{s:I, s:s, s:s}", "t", (json_int_t)time(NULL), "op", op,
					"reason", reason ? reason : ""));
	text = json_dumps(st, JSON_INDENT(1) | JSON_SORT_KEYS);
	rc = util_write_file_atomic(f->path, text, strlen(text), 0600, err);
out:
	free(text);
	json_decref(st);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int
file_cordon(struct sched *s, const char *reason, struct rbx_err *err)
{
	return file_change(s, "cordon", 1, -1, reason, err);
}

/* No scheduler places work here, so once cordoned there is none left to wait for. */
static int
file_drain(struct sched *s, const char *reason, long long timeout_ms, struct rbx_err *err)
{
	(void)timeout_ms;
	return file_change(s, "drain", 1, 1, reason, err);
}

static int
file_uncordon(struct sched *s, struct rbx_err *err)
{
	return file_change(s, "uncordon", 0, 0, "", err);
}

static int
file_set_reason(struct sched *s, const char *reason, struct rbx_err *err)
{
	return file_change(s, "reason", -1, -1, reason, err);
}

static void
file_free(struct sched *s)
{
	struct file_sched *f = s->priv;

	free(f->path);
	free(f->lock);
	free(f);
}

static void
file_describe(struct sched *s, const char *reason, struct buf *out)
{
	struct file_sched *f = s->priv;

	buf_addf(out, "cordon and drain recorded in %s (reason: %s)", f->path, reason);
}

static const struct sched_ops file_ops = {
	"file", file_state, file_cordon, file_drain, file_uncordon, file_set_reason, file_free,
	file_describe,
};

struct sched *
sched_file_new(const char *state_dir, const char *node, struct rbx_err *err)
{
	char *dir = xasprintf("%s/guard", state_dir);
	struct sched *s = NULL;
	struct file_sched *f;

	if (!util_valid_node_name(node)) {
		err_set(err, "'%s' is not a valid node name for the file guard", node);
		goto out;
	}
	if (util_mkdir_p(dir, 0700, err) < 0)
		goto out;
	f = xcalloc(1, sizeof(*f));
	f->path = xasprintf("%s/%s.json", dir, node);
	f->lock = xasprintf("%s/%s.lock", dir, node);
	s = xcalloc(1, sizeof(*s));
	s->ops = &file_ops;
	s->node = xstrdup(node);
	s->priv = f;
out:
	free(dir);
	return s;
}
