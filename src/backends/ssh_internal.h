/* ssh_internal.h - the SSH transport's state, shared by its two files: the steps
 * (exec_ssh.c) and what it does to the node besides (exec_ssh_node.c). */
#ifndef RBX_SSH_INTERNAL_H
#define RBX_SSH_INTERNAL_H

#include <libssh/libssh.h>
#include <stdbool.h>

#include "backends/transport.h"
#include "base/util.h"

struct remote {
	char *node;
	char *host;
	char *user;
	char *identity;
	char *known_hosts;
	char *jump;
	char *reboot_command;
	char *boot_id_command;
	int port;
	long long connect_timeout_ms;
	bool accept_new;
	bool persistent;
	ssh_session s;
	ssh_channel shell; /* the persistent driver's channel */
	long shell_pid;
	char nonce[40];
};

/* Connect, check the host key strictly, authenticate. 0, or -1 with err. */
int remote_connect(struct remote *r, struct rbx_err *err);
/* The transport's open, exec and free (exec_ssh.c); remote_transport_new puts them in its table. */
int remote_open(struct transport *t, struct rbx_err *err);
int remote_exec(struct transport *t, const char *cmd, const struct exec_opts *o,
		struct exec_result *res, struct rbx_err *err);
void remote_free(struct transport *t);
void remote_close_session(struct remote *r);
/* Connected, and with the persistent driver running where there is one. */
int remote_ensure_connected(struct remote *r, struct rbx_err *err);
/* A one-off command on its own channel (a signal to the driver, the reboot). */
int remote_side_command(struct remote *r, const char *cmd);

int remote_reboot(struct transport *t, long long timeout_ms, struct rbx_err *err);
int remote_wait_up(struct transport *t, long long timeout_ms, struct rbx_err *err);
int remote_end_tagged(struct transport *t, const char *tag, struct rbx_err *err);

#endif
