/* runbook_internal.h - the runbook loader's shared state and YAML helpers, for its
 * files: runbook.c (top level), runbook_yaml.c (helpers), runbook_step.c (steps). */
#ifndef RBX_RUNBOOK_INTERNAL_H
#define RBX_RUNBOOK_INTERNAL_H

#include <regex.h>
#include <stdbool.h>

#include "base/diag.h"
#include "io/ydoc.h"
#include "core/runbook.h"
#include "core/schema.h"

struct loader {
	struct ydoc *y; /* the document, its file and where errors go */
	struct runbook *rb;
};

/* Whether v has the shape f declares (a list, a mapping, a scalar); an error if not. */
bool loader_shape_ok(struct loader *L, const struct field *f, yaml_node_t *v, const char *where);
/*
 * Check a mapping against its schema: known keys (with a suggestion), no
 * duplicates, required keys present, each value of the right shape.
 */
bool loader_check_object(struct loader *L, yaml_node_t *map, const char *schema_name, const char *where);
/* Compile an extended regex; on failure report it at n. */
bool loader_compile_re(struct loader *L, yaml_node_t *n, const char *key, const char *pattern, regex_t *re);
int loader_enum_index(const char *const *choices, const char *s);
/* map's key, one of its schema field's choices: its index into *out. */
bool loader_check_enum(struct loader *L, yaml_node_t *map, const char *schema_name, const char *key, int *out);
bool loader_valid_ident(const char *s);

/* trigger.rules into L->rb (runbook_rules.c). */
void runbook_parse_rules(struct loader *L, yaml_node_t *trigger);
void runbook_rules_free(struct trigger *t);

/* The steps of one phase (pre_checks, procedure, ...) into L->rb. */
void runbook_parse_phase(struct loader *L, yaml_node_t *root, enum phase p);
void runbook_step_free(struct step *s);

#endif
