/* lock.h - the per-node lock held for a whole run (flock on a file in the state dir).
 * The file names its holder, so a refused run can say who has the node. */
#ifndef RBX_LOCK_H
#define RBX_LOCK_H

#include <stddef.h>

#include "base/util.h"

/*
 * Take $STATE/locks/<node>.lock. Returns the fd (>= 0) when taken, -1 with
 * err on a system error, -2 when another run holds it (err says who).
 */
int lock_node(const char *state_dir, const char *node, const char *run_id, struct rbx_err *err);
void lock_release(int fd);

#endif
