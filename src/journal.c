/* journal.c - the run journal: JSON lines appended with O_APPEND, intent synced
 * with fdatasync before the side effect it announces, read back tolerantly. */
#define _GNU_SOURCE
#include "rbx/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct journal {
	int fd;
	char *path;
	char *run_id;
	long long seq;
};

char *
journal_run_path(const char *state_dir, const char *run_id)
{
	return xasprintf("%s/runs/%s.jsonl", state_dir, run_id);
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

struct journal *
journal_create(const char *state_dir, const char *run_id, struct rbx_err *err)
{
	struct journal *j = NULL;
	char *dir = xasprintf("%s/runs", state_dir);
	int fd, dfd;

	if (util_mkdir_p(dir, 0700, err) < 0)
		goto out;
	j = xcalloc(1, sizeof(*j));
	j->fd = -1;
	j->path = journal_run_path(state_dir, run_id);
	j->run_id = xstrdup(run_id);
	fd = open(j->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, "cannot create journal %s: %s", j->path, strerror(errno));
		journal_close(j);
		j = NULL;
		goto out;
	}
	fchmod(fd, 0600); /* whatever the umask */
	j->fd = fd;
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

int
journal_append_record(struct journal *j, json_t *rec, bool sync, struct rbx_err *err)
{
	char ts[40];
	char *line;
	size_t len, off = 0;
	int r = -1;

	util_iso_time(util_wall_ms(), ts, sizeof(ts));
	json_object_set_new(rec, "seq", json_integer(++j->seq));
	json_object_set_new(rec, "ts", json_string(ts));
	json_object_set_new(rec, "run", json_string(j->run_id));
	line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	if (!line)
		return err_set(err, "cannot encode a journal record");
	len = strlen(line);
	line = realloc(line, len + 2);
	line[len++] = '\n';
	line[len] = 0;
	/* One write(2) per line with O_APPEND: a crash tears at most the last line. */
	while (off < len) {
		ssize_t n = write(j->fd, line + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_set(err, "cannot write journal %s: %s", j->path, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (sync && fdatasync(j->fd) < 0) {
		err_set(err, "cannot sync journal %s: %s", j->path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	free(line);
	return r;
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
journal_read(const char *path, int *torn, struct rbx_err *err)
{
	size_t len;
	char *text = util_read_file(path, 256u << 20, &len, err), *line, *next;
	json_t *arr;
	int lineno = 0;

	if (torn)
		*torn = 0;
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
	}
	free(text);
	return arr;
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
