/* inventory.h - which nodes exist and how to reach them: hostlist patterns
 * (n[001-128], gpu-[1-4,7]) mapped to a transport, an address and a scheduler. */
#ifndef RBX_INVENTORY_H
#define RBX_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "backends/node.h"
#include "base/diag.h"
#include "base/util.h"
#include "core/hostlist.h"
#include "io/fleet.h"


struct inventory;

/* Load FILE (every error into d). */
struct inventory *inventory_load(const char *path, struct diags *d);
/* --inventory, else $RBX_INVENTORY, else /etc/rbx/inventory.yaml when it exists; NULL if none. */
char *inventory_default_path(const char *given);
void inventory_free(struct inventory *inv);

/* Resolve a node: defaults, then every matching entry in file order (later wins).
 * Returns 0, or -1 with err when no entry names the node. */
int inventory_resolve(const struct inventory *inv, const char *node, struct node_conf *out,
		      struct rbx_err *err);
/* A jump host is [user@]host[:port] of plain characters (it reaches the ProxyCommand's shell). */
bool inventory_valid_jump(const char *s);

/* Every node the inventory names (expanded), in file order without repeats. */
char **inventory_nodes(const struct inventory *inv, size_t *n);

#endif
