/* alertmanager.h - silences through Alertmanager's API v2: one per node label while a run
 * holds a node, so its own alerts page no one, ended when the run ends or at its deadline. */
#ifndef RBX_ALERTMANAGER_H
#define RBX_ALERTMANAGER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/util.h"

struct am_conf {
	char *url;	     /* http(s)://host:port, no trailing '/'; NULL: no Alertmanager */
	bool optional;	     /* an unreachable Alertmanager does not stop a run */
	char **node_labels;  /* the labels that name a node in alerts */
	size_t nlabels;
	char **blocking;     /* alert names that hold every run's guard back while they fire */
	size_t nblocking;
	long long gate_timeout_ms; /* how long a run waits for them to stop (default 30m) */
	char *pool;	     /* the node's `pool` label (per node, set when resolved) */
};

void am_conf_release(struct am_conf *c);
void am_conf_copy(struct am_conf *dst, const struct am_conf *src);

/*
 * Silence node's alerts until ends_ms (wall clock): one silence per node label (an
 * `instance` label matches the node with any domain and port). The ids are appended to
 * ids (a JSON array). -1 with err when one could not be created (those made stay in ids).
 */
int am_silence_node(const struct am_conf *c, const char *node, const char *comment, int64_t ends_ms,
		    json_t *ids, struct rbx_err *err);
/* The alerts firing now, neither silenced nor inhibited (GET /api/v2/alerts), into *out. */
int am_active_alerts(const struct am_conf *c, json_t **out, struct rbx_err *err);
/* Expire a silence now. */
int am_silence_expire(const struct am_conf *c, const char *id, struct rbx_err *err);

#endif
