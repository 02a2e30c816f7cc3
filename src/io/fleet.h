/* fleet.h - the fleet's maintenance budget: a lease-backed semaphore in etcd (the v3
 * JSON gateway over libcurl), so no more nodes of a pool are out at once than allowed. */
#ifndef RBX_FLEET_H
#define RBX_FLEET_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

/* One budget a node falls under: at most `limit` nodes with label=value at once. */
struct fleet_budget {
	char *label;
	char *value;
	int limit;
};

struct fleet_conf {
	char *endpoint; /* http://host:port of an etcd member; NULL: no fleet budget */
	char *prefix;	/* of every key rbx writes (default /rbx) */
	long long ttl_ms;
	struct fleet_budget *budgets;
	size_t nbudgets;
};

void fleet_conf_release(struct fleet_conf *c);
void fleet_conf_copy(struct fleet_conf *dst, const struct fleet_conf *src);

struct fleet;

struct fleet *fleet_new(const struct fleet_conf *c);
void fleet_free(struct fleet *f);

/*
 * Grant a lease and take one slot in every budget (in the order given), each
 * only if fewer than `limit` are held. While none is free, on_wait hears who
 * holds them (when that changes) and rbx waits up to wait_ms (-1: forever),
 * until *stop. Returns 0; -2 when no slot came in time (err names the
 * holders); -1 on an error (etcd unreachable: err says so). holder is the
 * JSON stored in each slot: run, node, user, host, pid.
 */
int fleet_acquire(struct fleet *f, const char *holder, long long wait_ms,
		  rbx_flag *stop, void (*on_wait)(void *arg, const char *holders),
		  void *arg, struct rbx_err *err);
/* The lease's id (decimal string), once acquired. */
const char *fleet_lease_id(const struct fleet *f);
/* The slot keys held, comma-separated (for the journal). */
const char *fleet_slots(const struct fleet *f);

/*
 * Keep the lease alive from a thread. When it is lost (etcd says it is gone,
 * or no keep-alive got through for a whole TTL), *lost and *interrupted are
 * set: the run stops changing the node.
 */
int fleet_keepalive_start(struct fleet *f, rbx_flag *lost,
			  rbx_flag *interrupted, struct rbx_err *err);
/*
 * Stop the keep-alive and revoke the lease: its slots are free at once. -1 with
 * err when the revoke failed (the slots free themselves when the lease runs out).
 */
int fleet_release(struct fleet *f, struct rbx_err *err);

/* Revoke a lease by id (a crashed run's, on resume). */
int fleet_revoke(const char *endpoint, const char *lease_id, struct rbx_err *err);
/* etcd's /v3/kv/range answer as who holds the slots: "run R on node N (...); ..." (allocated). */
char *fleet_describe_holders(json_t *range);

#endif
