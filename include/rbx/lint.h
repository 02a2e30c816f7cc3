/* lint.h - policy checks a loaded runbook must pass beyond its schema:
 * the guard rules, undo/rollback coverage, read-only checks. */
#ifndef RBX_LINT_H
#define RBX_LINT_H

#include "rbx/diag.h"
#include "rbx/runbook.h"

/* Add every policy finding about rb to d. */
void lint_runbook(const struct runbook *rb, struct diags *d);

#endif
