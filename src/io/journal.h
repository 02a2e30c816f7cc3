/* journal.h - one JSON-lines file per run under $STATE/runs/, mode 0600.
 * Intent records are fdatasync'd before their side effect; resume reads them back. */
#ifndef RBX_JOURNAL_H
#define RBX_JOURNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "base/util.h"

#define JOURNAL_FORMAT 1

struct journal;

/* Create runs/<run_id>.jsonl (O_EXCL, 0600) under state_dir. */
struct journal *journal_create(const char *state_dir, const char *run_id, struct rbx_err *err);
/*
 * Append rec (borrowed) with "seq", "ts" and "run" added. With sync, the
 * line is on disk (fdatasync) before this returns: use it for intent.
 */
int journal_append_record(struct journal *j, json_t *rec, bool sync, struct rbx_err *err);
const char *journal_path(const struct journal *j);
void journal_close(struct journal *j);

/* The file of a run id; allocated. */
char *journal_run_path(const char *state_dir, const char *run_id);

/* A roll's journal: rolls/<roll_id>.jsonl, the same format and guarantees. */
struct journal *journal_create_roll(const char *state_dir, const char *roll_id, struct rbx_err *err);
struct journal *journal_reopen_roll(const char *state_dir, const char *roll_id, long long last_seq,
				    size_t good_bytes, struct rbx_err *err);
char *journal_roll_path(const char *state_dir, const char *roll_id);

/*
 * Read a journal into a JSON array of records (new reference). A torn last
 * line (a crash mid-write) is skipped and counted in *torn; a bad line
 * elsewhere is an error.
 */
json_t *journal_read(const char *path, int *torn, size_t *good_bytes, struct rbx_err *err);

/*
 * Open an existing journal to continue it (rbx resume): the bytes after
 * good_bytes (a torn tail) are cut first, and numbering goes on from last_seq.
 */
struct journal *journal_reopen(const char *state_dir, const char *run_id, long long last_seq,
			       size_t good_bytes, struct rbx_err *err);

/* Run ids in state_dir/runs, newest first (allocated, NULL-terminated). */
char **journal_list_runs(const char *state_dir);
void journal_free_list(char **ids);

/*
 * Text for a record, never NULL: jansson refuses invalid UTF-8 (and a record
 * would lose the field), so invalid bytes become U+FFFD. For display fields.
 */
json_t *journal_string(const char *s);
/*
 * Bytes a resume must get back exactly (captures): a string when they are
 * UTF-8, else {"base64": "..."}. journal_bytes_value undoes it (allocated).
 */
json_t *journal_bytes(const char *s);
char *journal_bytes_value(json_t *v);

/* A run id is [A-Za-z0-9._-]+; anything else never names a file. */
bool journal_valid_run_id(const char *id);

#endif
