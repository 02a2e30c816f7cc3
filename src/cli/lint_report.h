/* lint_report.h - `rbx lint`'s findings for CI: GitHub workflow annotations, SARIF 2.1.0
 * for code-scanning views, and JSON; each finding with the rule that made it. */
#ifndef RBX_LINT_REPORT_H
#define RBX_LINT_REPORT_H

#include <stdio.h>

#include "base/diag.h"

/* rules[i] names the rule of d->v[i]: "rbx/load" (the runbook does not load) or "rbx/lint". */
void lint_report_github(FILE *fp, const struct diags *d);
void lint_report_json(FILE *fp, const struct diags *d, const char *const *rules, size_t nfiles);
void lint_report_sarif(FILE *fp, const struct diags *d, const char *const *rules);

#endif
