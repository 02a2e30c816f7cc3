/* alerts.h - what rbx remembers of the alerts it acted on, in the state dir: an alert
 * (fingerprint and startsAt) that started a run is never run again from a notification. */
#ifndef RBX_ALERTS_H
#define RBX_ALERTS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"
#include "core/alert.h"

/* The run an alert started, if one did (into run_id, n bytes). */
bool alerts_handled(const char *state_dir, const struct alert_item *it, char *run_id, size_t n);
/* Record, before the run begins, that this alert starts run_id (0600, fsynced). */
int alerts_remember(const char *state_dir, const struct alert_item *it, const char *run_id,
		    struct rbx_err *err);

#endif
