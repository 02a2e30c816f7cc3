/* journal.c - the run journal: JSON lines appended with O_APPEND, intent synced
 * with fdatasync before the side effect it announces, read back tolerantly. */
#define _GNU_SOURCE
#include "io/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/utf8.h"

/* The test hook RBX_TEST_CRASH_AT: die by SIGKILL at one journal point. It is
 * compiled only into the test build (RBX_TEST_HOOKS, the Makefile's rbx-test). */
enum crash_mode { CRASH_NONE, CRASH_AFTER, CRASH_BEFORE, CRASH_TORN };

struct journal {
	int fd;
	char *path;
	char *run_id;
	long long seq;
	off_t good;	/* the file's size after the last durable record */
	bool failed;	/* a write failed: nothing more is appended */
	long long crash_seq;
	enum crash_mode crash;
};

/*
 * "N" or "after:N": SIGKILL once record N is written; "before:N": just
 * before it (its side effect done, if it records one); "torn:N": half of
 * it written, as a power loss leaves it.
 */
#ifdef RBX_TEST_HOOKS
static void
crash_hook_init(struct journal *j)
{
	const char *v = getenv("RBX_TEST_CRASH_AT");
	static const struct {
		const char *prefix;
		enum crash_mode mode;
	} modes[] = {{"after:", CRASH_AFTER}, {"before:", CRASH_BEFORE}, {"torn:", CRASH_TORN}};
	size_t i;

	if (!v || !*v)
		return;
	j->crash = CRASH_AFTER;
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strncmp(v, modes[i].prefix, strlen(modes[i].prefix))) {
			j->crash = modes[i].mode;
			v += strlen(modes[i].prefix);
		}
	j->crash_seq = strtoll(v, NULL, 10);
}
#else
static void
crash_hook_init(struct journal *j)
{
	j->crash = CRASH_NONE;
}
#endif

static void
crash_now(void)
{
#ifdef RBX_TEST_HOOKS
	raise(SIGKILL);
	_exit(137);
#endif
}

char *
journal_run_path(const char *state_dir, const char *run_id)
{
	return xasprintf("%s/runs/%s.jsonl", state_dir, run_id);
}

char *
journal_roll_path(const char *state_dir, const char *roll_id)
{
	return xasprintf("%s/rolls/%s.jsonl", state_dir, roll_id);
}

bool
journal_valid_run_id(const char *id)
{
	if (!id || !*id || *id == '.')
		return false;
	for (; *id; id++)
		if (!((*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z') ||
		      (*id >= '0' && *id <= '9') || *id == '.' || *id == '_' || *id == '-'))
			return false;
	return true;
}

/* kind: "runs" (a run's journal) or "rolls" (a roll's). */
static struct journal *
create_in(const char *state_dir, const char *kind, const char *run_id, struct rbx_err *err)
{
	struct journal *j = NULL;
	char *dir = xasprintf("%s/%s", state_dir, kind);
	int fd, dfd;

	if (util_mkdir_p(dir, 0700, err) < 0)
		goto out;
	j = xcalloc(1, sizeof(*j));
	j->fd = -1;
	j->path = xasprintf("%s/%s.jsonl", dir, run_id);
	j->run_id = xstrdup(run_id);
	fd = open(j->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_sys(err, "cannot create journal %s: %s", j->path, strerror(errno));
		journal_close(j);
		j = NULL;
		goto out;
	}
	fchmod(fd, 0600); /* whatever the umask */
	j->fd = fd;
	j->good = 0;
	crash_hook_init(j);
	/* The new directory entry must survive a crash too. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	free(dir);
	return j;
}

/* A record that did not become durable is cut off again: the file ends on its last good line. */
static int
append_failed(struct journal *j, const char *what, int e, struct rbx_err *err)
{
	j->failed = true;
	if (ftruncate(j->fd, j->good) == 0)
		fdatasync(j->fd);
	--j->seq;
	return err_sys(err, "cannot %s the journal %s: %s; rbx stops before its next side "
			    "effect (the journal ends on its last good record)",
		       what, j->path, strerror(e));
}

int
journal_append_record(struct journal *j, json_t *rec, bool sync, struct rbx_err *err)
{
	char ts[40];
	char *line;
	size_t len, off = 0;
	int r = -1;

	if (j->failed)
		return err_set(err, "the journal %s failed earlier: nothing more is written", j->path);
	util_iso_time(util_wall_ms(), ts, sizeof(ts));
	json_object_set_new(rec, "seq", json_integer(++j->seq));
	json_object_set_new(rec, "ts", json_string(ts));
	json_object_set_new(rec, "run", json_string(j->run_id));
	line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	if (!line) {
		--j->seq;
		return err_set(err, "cannot encode a journal record");
	}
	len = strlen(line);
	line = xrealloc(line, len + 2);
	line[len++] = '\n';
	line[len] = 0;
	if (j->crash == CRASH_BEFORE && j->seq == j->crash_seq)
		crash_now();
	if (j->crash == CRASH_TORN && j->seq == j->crash_seq) {
		ssize_t n = write(j->fd, line, len / 2);
		(void)n;
		fdatasync(j->fd);
		crash_now();
	}
	/* One write(2) per line with O_APPEND: a crash tears at most the last line. */
	while (off < len) {
		ssize_t n = write(j->fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = append_failed(j, "write", n < 0 ? errno : ENOSPC, err);
			goto out;
		}
		off += (size_t)n;
	}
	if (sync && fdatasync(j->fd) < 0) {
		r = append_failed(j, "sync", errno, err);
		goto out;
	}
	j->good += (off_t)len;
	r = 0;
	if (j->crash == CRASH_AFTER && j->seq == j->crash_seq)
		crash_now();
out:
	free(line);
	return r;
}

struct journal *
journal_create(const char *state_dir, const char *run_id, struct rbx_err *err)
{
	return create_in(state_dir, "runs", run_id, err);
}

struct journal *
journal_create_roll(const char *state_dir, const char *roll_id, struct rbx_err *err)
{
	return create_in(state_dir, "rolls", roll_id, err);
}

static struct journal *
reopen_at(char *path, const char *run_id, long long last_seq, size_t good_bytes,
	  struct rbx_err *err)
{
	struct journal *j = xcalloc(1, sizeof(*j));
	struct stat sb;

	j->path = path;
	j->run_id = xstrdup(run_id);
	j->seq = last_seq;
	j->fd = open(j->path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (j->fd < 0 || fstat(j->fd, &sb) < 0) {
		err_sys(err, "cannot open journal %s: %s", j->path, strerror(errno));
		goto fail;
	}
	if (sb.st_uid != geteuid() || (sb.st_mode & 077)) {
		err_set(err, "journal %s is not this user's alone (mode %o): refusing to continue it",
			j->path, (unsigned)(sb.st_mode & 0777));
		goto fail;
	}
	/* A torn tail goes before anything is appended, or it would swallow the next line. */
	if ((size_t)sb.st_size > good_bytes &&
	    (ftruncate(j->fd, (off_t)good_bytes) < 0 || fdatasync(j->fd) < 0)) {
		err_sys(err, "cannot cut the torn tail of %s: %s", j->path, strerror(errno));
		goto fail;
	}
	j->good = (off_t)good_bytes;
	crash_hook_init(j);
	return j;
fail:
	journal_close(j);
	return NULL;
}

struct journal *
journal_reopen(const char *state_dir, const char *run_id, long long last_seq, size_t good_bytes,
	       struct rbx_err *err)
{
	return reopen_at(journal_run_path(state_dir, run_id), run_id, last_seq, good_bytes, err);
}

struct journal *
journal_reopen_roll(const char *state_dir, const char *roll_id, long long last_seq,
		    size_t good_bytes, struct rbx_err *err)
{
	return reopen_at(journal_roll_path(state_dir, roll_id), roll_id, last_seq, good_bytes, err);
}

const char *
journal_path(const struct journal *j)
{
	return j->path;
}

void
journal_close(struct journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0) {
		fdatasync(j->fd);
		close(j->fd);
	}
	free(j->path);
	free(j->run_id);
	free(j);
}

json_t *
journal_read(const char *path, int *torn, size_t *good_bytes, struct rbx_err *err)
{
	size_t len;
	char *text = util_read_file(path, 256u << 20, &len, err), *line, *next;
	json_t *arr;
	int lineno = 0;

	if (torn)
		*torn = 0;
	if (good_bytes)
		*good_bytes = 0;
	if (!text)
		return NULL;
	arr = json_array();
	for (line = text; line < text + len; line = next) {
		json_error_t je;
		json_t *rec;
		char *nl = memchr(line, '\n', (size_t)(text + len - line));

		lineno++;
		next = nl ? nl + 1 : text + len;
		if (!nl) {
			/* No newline: the write that carried it never finished. */
			if (torn)
				(*torn)++;
			break;
		}
		*nl = 0;
		if (!*line)
			continue;
		rec = json_loads(line, 0, &je);
		if (!rec || !json_is_object(rec)) {
			json_decref(rec);
			if (next >= text + len) {
				if (torn)
					(*torn)++;
				break;
			}
			err_set(err, "%s:%d: not a journal record: %s", path, lineno, je.text);
			json_decref(arr);
			free(text);
			return NULL;
		}
		json_array_append_new(arr, rec);
		if (good_bytes)
			*good_bytes = (size_t)(next - text);
	}
	free(text);
	return arr;
}

json_t *
journal_string(const char *s)
{
	json_t *v;
	char *clean;

	if (!s)
		s = "";
	if (utf8_valid(s, strlen(s)) && (v = json_string(s)) != NULL)
		return v;
	clean = utf8_sanitize(s, strlen(s));
	v = json_string(clean);
	free(clean);
	return v ? v : json_string("");
}

json_t *
journal_bytes(const char *s)
{
	json_t *v;
	char *b64;

	if (!s)
		s = "";
	if (utf8_valid(s, strlen(s)) && (v = json_string(s)) != NULL)
		return v;
	b64 = util_base64_encode(s, strlen(s));
	v = json_pack("{s:s}", "base64", b64);
	free(b64);
	return v;
}

char *
journal_bytes_value(json_t *v)
{
	const char *b64 = json_string_value(json_object_get(v, "base64"));
	char *out;

	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (b64 && (out = util_base64_decode(b64, NULL)) != NULL)
		return out;
	return xstrdup("");
}

static int
cmp_desc(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

char **
journal_list_runs(const char *state_dir)
{
	char *dir = xasprintf("%s/runs", state_dir);
	DIR *d = opendir(dir);
	struct dirent *de;
	char **ids = xcalloc(1, sizeof(char *));
	size_t n = 0, alloc = 1;

	free(dir);
	if (!d)
		return ids;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 7 || strcmp(de->d_name + l - 6, ".jsonl") != 0)
			continue;
		if (n + 2 > alloc) {
			alloc = alloc * 2 + 2;
			ids = xrealloc(ids, alloc * sizeof(char *));
		}
		ids[n++] = xstrndup(de->d_name, l - 6);
	}
	closedir(d);
	ids[n] = NULL;
	/* Run ids start with a UTC timestamp, so name order is time order. */
	qsort(ids, n, sizeof(char *), cmp_desc);
	return ids;
}

void
journal_free_list(char **ids)
{
	size_t i;

	if (!ids)
		return;
	for (i = 0; ids[i]; i++)
		free(ids[i]);
	free(ids);
}
