/* lint.h - policy checks a loaded runbook must pass beyond its schema:
 * the guard rules, undo/rollback coverage, read-only checks. */
#ifndef RBX_LINT_H
#define RBX_LINT_H

#include "base/diag.h"
#include "core/runbook.h"

/* Add every policy finding about rb to d. */
void lint_runbook(const struct runbook *rb, struct diags *d);

/*
 * Find a runbook by name or path, load it and lint it: NULL with err when it
 * cannot be found or has errors (each in d, for the caller to show).
 */
struct runbook *lint_load_runbook(const char *name, struct diags *d, struct rbx_err *err);

#endif
