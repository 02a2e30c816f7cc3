/* util.c - allocation, bounded buffers, error buffers, durations and quoting.
 * The small helpers every module leans on; no module state lives here. */
#define _GNU_SOURCE
#include "base/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void
oom(size_t n)
{
	fprintf(stderr, "rbx: fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		oom(nmemb * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom(strlen(fmt));
	va_end(ap);
	return s;
}

void
buf_init(struct buf *b, size_t cap)
{
	b->alloc = 64;
	b->data = xmalloc(b->alloc);
	b->data[0] = 0;
	b->len = 0;
	b->cap = cap;
	b->dropped = 0;
}

void
buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->cap && b->len + len > b->cap) {
		size_t room = b->cap > b->len ? b->cap - b->len : 0;
		b->dropped += len - room;
		len = room;
	}
	if (len == 0)
		return;
	if (b->len + len + 1 > b->alloc) {
		while (b->len + len + 1 > b->alloc)
			b->alloc *= 2;
		b->data = xrealloc(b->data, b->alloc);
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = 0;
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(strlen(fmt));
	buf_add(b, s, (size_t)n);
	free(s);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->dropped = 0;
	b->data[0] = 0;
}

char *
buf_detach(struct buf *b)
{
	char *s = b->data;
	b->data = NULL;
	b->len = b->alloc = 0;
	return s;
}

void
buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->alloc = 0;
}

void
tail_init(struct tail *t, size_t size)
{
	t->data = xmalloc(size);
	t->size = size;
	t->pos = 0;
	t->wrapped = false;
	t->total = 0;
}

void
tail_add(struct tail *t, const char *data, size_t len)
{
	t->total += len;
	if (len >= t->size) {
		memcpy(t->data, data + len - t->size, t->size);
		t->pos = 0;
		t->wrapped = true;
		return;
	}
	while (len > 0) {
		size_t n = t->size - t->pos;
		if (n > len)
			n = len;
		memcpy(t->data + t->pos, data, n);
		t->pos += n;
		data += n;
		len -= n;
		if (t->pos == t->size) {
			t->pos = 0;
			t->wrapped = true;
		}
	}
}

char *
tail_string(const struct tail *t)
{
	struct buf b;

	buf_init(&b, 0);
	if (t->wrapped)
		buf_add(&b, t->data + t->pos, t->size - t->pos);
	buf_add(&b, t->data, t->pos);
	return buf_detach(&b);
}

void
tail_release(struct tail *t)
{
	free(t->data);
	t->data = NULL;
}

/* Formatted apart: an argument may be e->msg itself (err_set(e, "...: %s", e->msg)). */
static int err_vset(struct rbx_err *e, bool system, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static int
err_vset(struct rbx_err *e, bool system, const char *fmt, va_list ap)
{
	char msg[sizeof(e->msg)];

	if (!e)
		return -1;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	memcpy(e->msg, msg, sizeof(msg));
	e->system = system;
	return -1;
}

int
err_set(struct rbx_err *e, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = err_vset(e, false, fmt, ap);
	va_end(ap);
	return r;
}

int
err_sys(struct rbx_err *e, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = err_vset(e, true, fmt, ap);
	va_end(ap);
	return r;
}

int
err_prefix(struct rbx_err *e, const char *fmt, ...)
{
	char pre[512], old[sizeof(e->msg)];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	snprintf(e->msg, sizeof(e->msg), "%.500s: %.500s", pre, old);
	return -1;
}

long long
util_parse_duration(const char *s)
{
	long long total = 0;
	bool any = false;

	if (!s || !*s)
		return -1;
	while (*s) {
		long long mult, v = 0;
		int digits = 0;

		while (isdigit((unsigned char)*s)) {
			if (v > LLONG_MAX / 10 - 10)
				return -1;
			v = v * 10 + (*s++ - '0');
			digits++;
		}
		if (!digits)
			return -1;
		if (strncmp(s, "ms", 2) == 0) {
			mult = 1;
			s += 2;
		} else if (*s == 's') {
			mult = 1000;
			s++;
		} else if (*s == 'm') {
			mult = 60 * 1000;
			s++;
		} else if (*s == 'h') {
			mult = 3600 * 1000;
			s++;
		} else if (*s == 'd') {
			mult = 86400 * 1000;
			s++;
		} else {
			return -1;
		}
		if (v > LLONG_MAX / mult)
			return -1;
		total += v * mult;
		any = true;
	}
	return any ? total : -1;
}

void
util_format_duration(long long ms, char *out, size_t n)
{
	if (ms < 1000) {
		snprintf(out, n, "%lldms", ms);
	} else if (ms < 60000) {
		if (ms % 1000)
			snprintf(out, n, "%.1fs", (double)ms / 1000.0);
		else
			snprintf(out, n, "%llds", ms / 1000);
	} else if (ms < 3600000) {
		long long m = ms / 60000, sec = (ms % 60000) / 1000;
		if (sec)
			snprintf(out, n, "%lldm%llds", m, sec);
		else
			snprintf(out, n, "%lldm", m);
	} else {
		long long h = ms / 3600000, m = (ms % 3600000) / 60000;
		if (m)
			snprintf(out, n, "%lldh%lldm", h, m);
		else
			snprintf(out, n, "%lldh", h);
	}
}

void
util_shell_quote(struct buf *b, const char *s)
{
	buf_add(b, "'", 1);
	for (; *s; s++) {
		if (*s == '\'')
			buf_add(b, "'\\''", 4);
		else
			buf_add(b, s, 1);
	}
	buf_add(b, "'", 1);
}

int64_t
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
util_base64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = xmalloc(4 * ((len + 2) / 3) + 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		*o++ = b64[p[i] >> 2];
		*o++ = b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = b64[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*o++ = b64[p[i + 2] & 63];
	}
	if (i < len) {
		*o++ = b64[p[i] >> 2];
		*o++ = b64[((p[i] & 3) << 4) | (i + 1 < len ? p[i + 1] >> 4 : 0)];
		*o++ = i + 1 < len ? b64[(p[i + 1] & 15) << 2] : '=';
		*o++ = '=';
	}
	*o = 0;
	return out;
}

char *
util_base64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s), k = 0;
	char *out = xmalloc(n / 4 * 3 + 4);
	unsigned acc = 0;
	int bits = 0;

	for (; *s && *s != '='; s++) {
		const char *at = strchr(b64, *s);
		if (!at || !*s) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)(at - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[k] = 0;
	if (len)
		*len = k;
	return out;
}

char *
util_digest(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	/* FNV-1a: it detects an edit; it is not meant to resist forgery. */
	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return xasprintf("fnv1a64:%016llx", (unsigned long long)h);
}

char *
util_file_digest(const char *path)
{
	struct rbx_err err;
	size_t len;
	char *text = util_read_file(path, 64u << 20, &len, &err), *d;

	if (!text)
		return NULL;
	d = util_digest(text, len);
	free(text);
	return d;
}

void
util_wait_pids(const pid_t *pids, size_t n, int ms)
{
	struct pollfd *pf = xcalloc(n + 1, sizeof(*pf));
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		int fd = -1;
#ifdef SYS_pidfd_open
		fd = (int)syscall(SYS_pidfd_open, pids[i], 0);
#endif
		if (fd < 0)
			break;
		pf[k].fd = fd;
		pf[k++].events = POLLIN;
	}
	if (k && i == n)
		poll(pf, k, ms);
	else
		util_sleep_ms(ms);
	while (k)
		close(pf[--k].fd);
	free(pf);
}

void
util_sleep_ms(long long ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int64_t
util_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
util_iso_time(int64_t wall_ms, char *out, size_t n)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s.%03dZ", base, (int)(wall_ms % 1000));
}

bool
util_valid_node_name(const char *s)
{
	size_t i;

	if (!s || !isalnum((unsigned char)s[0]))
		return false;
	for (i = 1; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i > 62)
			return false;
		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

bool
util_valid_slug(const char *s)
{
	if (!s || !*s || *s == '-')
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-'))
			return false;
	return true;
}

char *
util_read_file(const char *path, size_t max, size_t *len, struct rbx_err *err)
{
	struct buf b;
	char chunk[8192];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b, 0);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_set(err, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (b.len + (size_t)n > max) {
			err_set(err, "%s: larger than %zu bytes", path, max);
			goto fail;
		}
		buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	if (len)
		*len = b.len;
	return buf_detach(&b);
fail:
	close(fd);
	buf_release(&b);
	return NULL;
}

size_t
util_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t *row = xcalloc(lb + 1, sizeof(*row)), r;

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = prev + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	r = row[lb];
	free(row);
	return r;
}

void
strmap_set(struct strmap *m, const char *key, const char *val)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (strcmp(m->keys[i], key) == 0) {
			free(m->vals[i]);
			m->vals[i] = xstrdup(val);
			return;
		}
	}
	if (m->n == m->alloc) {
		m->alloc = m->alloc ? m->alloc * 2 : 8;
		m->keys = xrealloc(m->keys, m->alloc * sizeof(*m->keys));
		m->vals = xrealloc(m->vals, m->alloc * sizeof(*m->vals));
	}
	m->keys[m->n] = xstrdup(key);
	m->vals[m->n] = xstrdup(val);
	m->n++;
}

const char *
strmap_get(const struct strmap *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->keys[i], key) == 0)
			return m->vals[i];
	return NULL;
}

void
strmap_release(struct strmap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->keys[i]);
		free(m->vals[i]);
	}
	free(m->keys);
	free(m->vals);
	m->keys = m->vals = NULL;
	m->n = m->alloc = 0;
}
