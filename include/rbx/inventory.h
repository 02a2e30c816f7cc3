/* inventory.h - which nodes exist and how to reach them: hostlist patterns
 * (n[001-128], gpu-[1-4,7]) mapped to a transport, an address and a scheduler. */
#ifndef RBX_INVENTORY_H
#define RBX_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "rbx/diag.h"
#include "rbx/fleet.h"
#include "rbx/util.h"

/* Expand a Slurm-style hostlist ("a[01-02]-b[1-2],c") into names; NULL with err on a bad one. */
char **hostlist_expand(const char *pattern, size_t *n, struct rbx_err *err);
void hostlist_free(char **names, size_t n);
/* Whether name is one of the hostlist's names. */
bool hostlist_match(const char *pattern, const char *name);

struct node_conf {
	char *name;
	char *transport; /* ssh (persistent shell), ssh-exec (channel per step), lab */
	char *host;	 /* rendered: {{node}} replaced */
	int port;
	char *user;
	char *identity;	   /* private key file; NULL: the agent and default keys */
	char *known_hosts; /* NULL: ~/.ssh/known_hosts */
	char *jump;	   /* [user@]host[:port] of a jump host, or NULL */
	char *scheduler;   /* lab, slurm, kubernetes, command */
	char *reboot_command;
	char *boot_id_command; /* prints the boot id (default: cat /proc/sys/kernel/random/boot_id) */
	char *kubeconfig; /* scheduler: kubernetes (default $KUBECONFIG, ~/.kube/config) */
	char *cordon_command, *drain_command, *uncordon_command, *state_command; /* scheduler: command */
	long long connect_timeout_ms;
	struct strmap labels;
	struct fleet_conf fleet; /* the budgets this node falls under (none: endpoint NULL) */
};

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
void node_conf_release(struct node_conf *c);
/* A jump host is [user@]host[:port] of plain characters (it reaches the ProxyCommand's shell). */
bool inventory_valid_jump(const char *s);

/* Every node the inventory names (expanded), in file order without repeats. */
char **inventory_nodes(const struct inventory *inv, size_t *n);

#endif
