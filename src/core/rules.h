/* rules.h - the catalogue's alerting rules as Prometheus files: the rule file with a
 * runbook_url per alert, and promtool's unit tests for it; one owner per alert name. */
#ifndef RBX_RULES_H
#define RBX_RULES_H

#include <stddef.h>

#include "base/util.h"
#include "core/runbook.h"

/*
 * Whether the catalogue's rules are whole: every alert a matcher names has exactly
 * one rule, in one runbook. Each problem is one line in *problems; returns their count.
 */
size_t rules_check(struct runbook *const *rbs, size_t n, struct buf *problems);
/* The rule file: a group per subsystem, each alert with its runbook_url under base_url. */
void rules_render(struct runbook *const *rbs, size_t n, const char *base_url, struct buf *out);
/* promtool's unit tests for that file (rule_file: how the tests name it). */
void rules_render_tests(struct runbook *const *rbs, size_t n, const char *base_url,
			const char *rule_file, struct buf *out);

#endif
