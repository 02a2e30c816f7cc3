/* node.h - how to reach one node and which guard holds it: the resolved inventory
 * entry every transport and scheduler backend is built from. */
#ifndef RBX_NODE_H
#define RBX_NODE_H

#include "base/util.h"
#include "io/alertmanager.h"
#include "io/fleet.h"

struct node_conf {
	char *name;
	char *transport; /* a registered transport: ssh (persistent shell), ssh-exec, ... */
	char *host;	 /* rendered: {{node}} replaced */
	int port;
	char *user;
	char *identity;	   /* private key file; NULL: the agent and default keys */
	char *known_hosts; /* NULL: ~/.ssh/known_hosts */
	char *jump;	   /* [user@]host[:port] of a jump host, or NULL */
	char *scheduler;   /* a registered scheduler: slurm, kubernetes, command, file, ... */
	char *reboot_command;
	char *boot_id_command; /* prints the boot id (default: cat /proc/sys/kernel/random/boot_id) */
	char *kubeconfig; /* scheduler: kubernetes (default $KUBECONFIG, ~/.kube/config) */
	/* scheduler: command. Shell text, rendered by the caller: the values of {{node}}
	 * and {{reason}} reach it as RBX_NODE and RBX_REASON in its environment. */
	char *cordon_command, *drain_command, *uncordon_command, *state_command;
	long long connect_timeout_ms;
	struct strmap labels;
	struct fleet_conf fleet; /* the budgets this node falls under (none: endpoint NULL) */
	struct am_conf alertmanager; /* where runs silence the node's alerts (none: url NULL) */
};

/* Free what c holds and zero it; a zeroed conf is a no-op. */
void node_conf_release(struct node_conf *c);

#endif
