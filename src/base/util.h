/* util.h - allocation, bounded buffers, error buffers, durations and quoting.
 * Everything here is small, pure and shared by every other module. */
#ifndef RBX_UTIL_H
#define RBX_UTIL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

/* Allocation never fails visibly: on OOM these print and abort. */
/*
 * A flag set by a signal handler or another thread (the fleet keep-alive) and read
 * by the run: a lock-free atomic, which C11 allows in both places, where a
 * volatile sig_atomic_t shared with a thread would be a data race.
 */
typedef atomic_int rbx_flag;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "rbx_flag must be lock-free for signal handlers");

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A growable NUL-terminated byte buffer with a cap. Invariants: after
 * buf_init, b->data is never NULL and b->data[b->len] == 0. Appends past
 * b->cap are dropped and counted in b->dropped, so a child's output or an
 * HTTP body can never grow without bound. cap == 0 means no cap.
 */
struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t cap;
	size_t dropped;
};

void buf_init(struct buf *b, size_t cap);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
char *buf_detach(struct buf *b);
void buf_release(struct buf *b);

/*
 * A ring that keeps only the last `size` bytes written to it: the tail of a
 * step's output for the journal, whatever the output's length.
 */
struct tail {
	char *data;
	size_t size;
	size_t pos;
	bool wrapped;
	size_t total;
};

void tail_init(struct tail *t, size_t size);
void tail_add(struct tail *t, const char *data, size_t len);
char *tail_string(const struct tail *t); /* allocated, caller frees */
void tail_release(struct tail *t);

/* An error message buffer the caller owns; the callee fills it and returns -1. */
struct rbx_err {
	char msg[1024];
	bool system; /* the machine failed (a disk, a call), not what was asked: exit 1, not 2 */
};

int err_set(struct rbx_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* err_set, for a failure of the machine rather than of the input. */
int err_sys(struct rbx_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int err_prefix(struct rbx_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "90s", "10m", "2h", "1h30m", "500ms" -> milliseconds; -1 on a bad string. */
long long util_parse_duration(const char *s);
/* Milliseconds -> "1h30m", "45s", "250ms" into out. */
void util_format_duration(long long ms, char *out, size_t n);

/* Append s to b quoted for POSIX sh: 'it'\''s'. Safe for any byte string. */
void util_shell_quote(struct buf *b, const char *s);

/* Monotonic and wall clock in milliseconds. */
int64_t util_now_ms(void);
int64_t util_wall_ms(void);
/* ISO-8601 UTC with milliseconds into out (at least 32 bytes). */
void util_iso_time(int64_t wall_ms, char *out, size_t n);

/* A node name per DESIGN.md section 3: ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ */
bool util_valid_node_name(const char *s);
/* [a-z0-9-]+, not starting with '-' */
bool util_valid_slug(const char *s);

/* Read a whole file (at most max bytes); NULL and err on failure. */
char *util_read_file(const char *path, size_t max, size_t *len, struct rbx_err *err);
/* mkdir -p with the given mode for each created component. */
int util_mkdir_p(const char *path, unsigned mode, struct rbx_err *err);
/* Write data to path atomically (tmp + fsync + rename) with mode. */
int util_write_file_atomic(const char *path, const char *data, size_t len, unsigned mode,
			   struct rbx_err *err);
/* Remove a directory tree (best effort; no symlink following). */
void util_rm_rf(const char *path);

/* The state dir: $RBX_STATE_DIR, /var/lib/rbx as root, else $XDG_STATE_HOME/rbx. */
char *util_state_dir(void);
/* Create the state dir (0700) and make sure it is this user's own and not open to others. */
int util_state_dir_ready(const char *path, struct rbx_err *err);

/* The shortest edit distance, for "did you mean" hints. */
size_t util_edit_distance(const char *a, const char *b);

/* A small ordered string map (params, captures): linear, since runbooks hold dozens. */
struct strmap {
	char **keys;
	char **vals;
	size_t n;
	size_t alloc;
};

void strmap_set(struct strmap *m, const char *key, const char *val);
const char *strmap_get(const struct strmap *m, const char *key);
void strmap_release(struct strmap *m);

/* Base64 (RFC 4648, padded), as etcd's JSON gateway carries keys and values. The decoder
 * returns NUL-terminated bytes, or NULL on a character outside the alphabet. */
char *util_base64_encode(const void *data, size_t len);
char *util_base64_decode(const char *s, size_t *len);

/* A digest of a file's bytes ("fnv1a64:..."), to notice it changed; NULL if unreadable. */
char *util_file_digest(const char *path);
/* The same digest of bytes in memory. */
char *util_digest(const void *data, size_t len);

/* Sleep ms milliseconds (whole, across signals). */
void util_sleep_ms(long long ms);
/* Sleep until one of the n child processes ends, or at most ms (each one's pidfd in
 * one poll; where pidfds are missing, the whole nap). Reaps nothing. */
void util_wait_pids(const pid_t *pids, size_t n, int ms);

#endif
