/* ydoc.h - the one YAML walker: a libyaml document read from text, its nodes looked up
 * by key and index, typed scalars, and errors at file:line:col. Runbooks, inventories, kubeconfigs. */
#ifndef RBX_YDOC_H
#define RBX_YDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "base/diag.h"

struct ydoc {
	yaml_document_t doc;
	const char *file;  /* for diagnostics */
	struct diags *d;   /* where errors go */
	bool loaded;
};

/*
 * Parse text into y. -1 with an error at the YAML problem's file:line:col (or
 * "the file is empty") in d; y needs ydoc_release either way.
 */
int ydoc_load(struct ydoc *y, const char *file, const char *text, size_t len, struct diags *d);
void ydoc_release(struct ydoc *y);
yaml_node_t *ydoc_root(struct ydoc *y);

/* An error at n's position (n may be NULL: position unknown). */
void ydoc_error(struct ydoc *y, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct srcpos ydoc_pos(const yaml_node_t *n);
/* "a scalar", "a list", "a mapping" */
const char *ydoc_kind(const yaml_node_t *n);
const char *ydoc_scalar(const yaml_node_t *n);
bool ydoc_is_map(const yaml_node_t *n);
bool ydoc_is_seq(const yaml_node_t *n);
/* Whether a scalar was written in quotes ('...' or "..."): its text starts one column later. */
bool ydoc_quoted(const yaml_node_t *n);

/* The value under key in a mapping; NULL when absent or n is no mapping. */
yaml_node_t *ydoc_get(struct ydoc *y, yaml_node_t *map, const char *key);
/* The number of items of a list or pairs of a mapping; 0 for anything else. */
size_t ydoc_len(const yaml_node_t *n);
yaml_node_t *ydoc_item(struct ydoc *y, yaml_node_t *seq, size_t i);
/* The i-th pair of a mapping. */
yaml_node_t *ydoc_key(struct ydoc *y, yaml_node_t *map, size_t i);
yaml_node_t *ydoc_value(struct ydoc *y, yaml_node_t *map, size_t i);

/* Typed scalars under key. Absent: the default; wrong: an error at the value, and the default. */
char *ydoc_get_str(struct ydoc *y, yaml_node_t *map, const char *key);
bool ydoc_bool(struct ydoc *y, yaml_node_t *n, const char *key, bool def);
/* An integer in lo..hi into *out; false (with an error) if it is not one. */
bool ydoc_int(struct ydoc *y, yaml_node_t *n, const char *key, long lo, long hi, long *out);
/* A duration above zero ("90s", "10m") in ms. */
long long ydoc_duration(struct ydoc *y, yaml_node_t *n, const char *key, long long def);
/* A list of scalars (NULL-terminated, *count of them), or NULL if n is no list. */
char **ydoc_strings(struct ydoc *y, yaml_node_t *n, const char *key, size_t *count);
void ydoc_strings_free(char **v, size_t n);

#endif
