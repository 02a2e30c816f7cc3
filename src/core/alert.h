/* alert.h - an Alertmanager webhook notification (version 4) read as untrusted input,
 * and each alert matched to a runbook by its trigger and to a node by its node label. */
#ifndef RBX_ALERT_H
#define RBX_ALERT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"
#include "core/runbook.h"

/* The largest payload read: Alertmanager's own notifications stay far below it. */
#define ALERT_MAX_BYTES (10u * 1024 * 1024)

struct alert_item {
	char *status; /* firing | resolved */
	char *fingerprint;
	char *starts_at;
	struct strmap labels;
};

struct alert_note {
	char *receiver;
	char *status;
	struct alert_item *items;
	size_t n;
};

/*
 * Parse and check a notification. -1 with err naming the fault by its JSON path
 * ("$.alerts[2].labels.Hostname: a label value must be a string"); nothing is kept then.
 */
int alert_parse(const char *text, size_t len, struct alert_note *out, struct rbx_err *err);
void alert_note_release(struct alert_note *note);

/*
 * The runbook whose trigger matches these labels with the most matchers' labels (every
 * label of a matcher must equal the alert's). NULL if none; *tie names a second runbook
 * matching as specifically, which leaves the choice to a human.
 */
struct runbook *alert_match(struct runbook *const *rbs, size_t n, const struct strmap *labels,
			    struct runbook **tie);

/*
 * The inventory node an alert's node label names: a host:port instance loses its port,
 * an FQDN not in the inventory its domain. nodes: the inventory's names (NULL: any valid
 * name: nodes without an inventory). Returns the node (allocated), or NULL with err saying why.
 */
char *alert_node(const char *value, char *const *nodes, size_t nnodes, struct rbx_err *err);

/* What rbx makes of one alert of a notification. */
struct alert_route {
	const char *action; /* would-run, resolved, unmatched, ambiguous, refused */
	struct runbook *rb; /* the matched runbook (borrowed), if any */
	char *node;	    /* the node (allocated), when it would run */
	char why[1024];	    /* for a human: the mapping shown, or why not */
};

/* Route one alert: its runbook (rbs) and node (nodes: the inventory's, NULL for any). */
void alert_route(const struct alert_item *it, struct runbook *const *rbs, size_t n, char *const *nodes,
		 size_t nn, struct alert_route *out);

#endif
