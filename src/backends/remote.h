/* remote.h - the SSH transport (libssh): one connection per node per run, strict
 * host keys, a persistent remote shell that runs each step as a framed request. */
#ifndef RBX_REMOTE_H
#define RBX_REMOTE_H

#include <stdbool.h>

#include "backends/node.h"
#include "backends/transport.h"

/*
 * A transport to the node `c` describes. persistent: one long-lived remote
 * shell for every step (transport: ssh); else a new channel per step
 * (transport: ssh-exec). accept_new_host_key: record an unknown host key
 * (trust on first use); a changed key is refused whatever this says.
 */
struct transport *remote_transport_new(const struct node_conf *c, bool persistent,
				       bool accept_new_host_key);

#endif
