/* runbook_internal.h - the runbook loader's shared state and YAML helpers, for its
 * files: runbook.c (top level), runbook_yaml.c (helpers), runbook_step.c (steps). */
#ifndef RBX_RUNBOOK_INTERNAL_H
#define RBX_RUNBOOK_INTERNAL_H

#include <regex.h>
#include <stdbool.h>
#include <yaml.h>

#include "base/diag.h"
#include "core/runbook.h"
#include "core/schema.h"

struct loader {
	const char *file;
	yaml_document_t *doc;
	struct diags *d;
	struct runbook *rb;
};

struct srcpos loader_node_pos(const yaml_node_t *n);
/* An error at n's file:line:col into L->d. */
void loader_error_at(struct loader *L, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
yaml_node_t *loader_node_at(struct loader *L, int idx);
const char *loader_scalar(const yaml_node_t *n);
const char *loader_node_kind(const yaml_node_t *n);
yaml_node_t *loader_map_get(struct loader *L, yaml_node_t *map, const char *key);
size_t loader_seq_len(const yaml_node_t *n);
yaml_node_t *loader_seq_item(struct loader *L, yaml_node_t *n, size_t i);
bool loader_shape_ok(struct loader *L, const struct field *f, yaml_node_t *v, const char *where);
bool loader_check_object(struct loader *L, yaml_node_t *map, const char *schema_name, const char *where);
char *loader_get_str(struct loader *L, yaml_node_t *map, const char *key);
bool loader_parse_bool(struct loader *L, yaml_node_t *n, const char *key, bool def);
bool loader_parse_int(struct loader *L, yaml_node_t *n, const char *key, long lo, long hi, long *out);
long long loader_parse_duration_node(struct loader *L, yaml_node_t *n, const char *key, long long def);
bool loader_compile_re(struct loader *L, yaml_node_t *n, const char *key, const char *pattern, regex_t *re);
int loader_enum_index(const char *const *choices, const char *s);
bool loader_check_enum(struct loader *L, yaml_node_t *map, const char *schema_name, const char *key, int *out);
char **loader_get_strings(struct loader *L, yaml_node_t *n, const char *key, size_t *count);
void loader_free_strings(char **v, size_t n);
bool loader_valid_ident(const char *s);

/* The steps of one phase (pre_checks, procedure, ...) into L->rb. */
void runbook_parse_phase(struct loader *L, yaml_node_t *root, enum phase p);
void runbook_step_free(struct step *s);

#endif
