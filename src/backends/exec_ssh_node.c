/* exec_ssh_node.c - the SSH transport's table, and what rbx does to an SSH node besides
 * its steps: restart it and know it rebooted (a new boot id), wait for it, end leftovers. */
#define _GNU_SOURCE
#include <libssh/libssh.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "backends/remote.h"
#include "backends/ssh_internal.h"

/* Until the node answers again, its host key checked again, strictly. */
static int
wait_up(struct remote *r, long long timeout_ms, struct rbx_err *err)
{
	int64_t end = util_now_ms() + timeout_ms;

	while (util_now_ms() < end) {
		if (remote_ensure_connected(r, err) == 0)
			return 0;
		util_sleep_ms(300);
	}
	return err_set(err, "node %s did not come back within the deadline (%s)", r->node,
		       err->msg[0] ? err->msg : "no answer");
}

/* Run cmd on its own channel and keep the first line it prints (boot ids). 0 or -1. */
static int
side_read(struct remote *r, const char *cmd, char *out, size_t n)
{
	ssh_channel ch = ssh_channel_new(r->s);
	size_t got = 0;
	int rc = -1, k;

	out[0] = 0;
	if (ch && ssh_channel_open_session(ch) == SSH_OK &&
	    ssh_channel_request_exec(ch, cmd) == SSH_OK) {
		while (got + 1 < n && (k = ssh_channel_read_timeout(ch, out + got,
								    (uint32_t)(n - 1 - got), 0,
								    10000)) > 0)
			got += (size_t)k;
		out[got] = 0;
		out[strcspn(out, "\r\n")] = 0;
		rc = ssh_channel_get_exit_status(ch) == 0 && out[0] ? 0 : -1;
	}
	if (ch) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	return rc;
}

/*
 * A reboot is a new boot id, not a gap in reachability: a fast reboot may never
 * look down, and an sshd blip looks like one. Poll until the node answers with
 * a boot id other than the one it had.
 */
static int
wait_new_boot(struct remote *r, const char *before, long long timeout_ms, struct rbx_err *err)
{
	int64_t end = util_now_ms() + timeout_ms;
	char now[128] = "";

	while (util_now_ms() < end) {
		if (remote_ensure_connected(r, err) == 0 &&
		    side_read(r, r->boot_id_command, now, sizeof(now)) == 0 && strcmp(now, before))
			return 0;
		remote_close_session(r);
		util_sleep_ms(300);
	}
	if (now[0] && !strcmp(now, before))
		return err_set(err, "node %s answers, but did not reboot: its boot id is still %s",
			       r->node, before);
	return err_set(err, "node %s did not come back within the deadline (%s)", r->node,
		       err->msg[0] ? err->msg : "no answer");
}

int
remote_reboot(struct transport *t, long long timeout_ms, struct rbx_err *err)
{
	struct remote *r = t->priv;
	struct buf cmd;
	char before[128];

	if (remote_ensure_connected(r, err) < 0)
		return -1;
	if (side_read(r, r->boot_id_command, before, sizeof(before)) < 0)
		return err_set(err, "node %s: cannot read its boot id ('%s') before the reboot",
			       r->node, r->boot_id_command);
	buf_init(&cmd, 0);
	/* Detached: the command outlives the channel, and the channel returns at once. */
	buf_adds(&cmd, "nohup /bin/sh -c ");
	{
		struct buf inner;
		buf_init(&inner, 0);
		buf_addf(&inner, "sleep 1; %s", r->reboot_command);
		util_shell_quote(&cmd, inner.data);
		buf_release(&inner);
	}
	buf_adds(&cmd, " >/dev/null 2>&1 </dev/null &");
	if (remote_side_command(r, cmd.data) < 0) {
		buf_release(&cmd);
		return err_set(err, "node %s: cannot issue the reboot: %s", r->node, ssh_get_error(r->s));
	}
	buf_release(&cmd);
	remote_close_session(r);
	return wait_new_boot(r, before, timeout_ms, err);
}

int
remote_wait_up(struct transport *t, long long timeout_ms, struct rbx_err *err)
{
	return wait_up(t->priv, timeout_ms, err);
}


int
remote_end_tagged(struct transport *t, const char *tag, struct rbx_err *err)
{
	struct remote *r = t->priv;
	struct buf b;
	int rc;

	if (remote_ensure_connected(r, err) < 0)
		return -1;
	buf_init(&b, 0);
	buf_adds(&b, "t=RBX_STEP_TAG=");
	util_shell_quote(&b, tag);
	buf_adds(&b, "; for e in /proc/[0-9]*/environ; do "
		     "if tr '\\000' '\\n' < \"$e\" 2>/dev/null | grep -qxF \"$t\"; then "
		     "p=${e#/proc/}; p=${p%/environ}; "
		     "g=$(ps -o pgid= -p \"$p\" 2>/dev/null | tr -d ' '); "
		     "[ -n \"$g\" ] && [ \"$g\" -gt 1 ] && kill -KILL -- \"-$g\" 2>/dev/null; "
		     "fi; done; true");
	rc = remote_side_command(r, b.data);
	buf_release(&b);
	if (rc < 0)
		return err_set(err, "node %s: cannot look for what the step left running", r->node);
	return 0;
}

/* The SSH transport: the session (exec_ssh.c) and what it does to the node besides (here). */
static const struct transport_ops remote_ops = {
	"ssh",       remote_open, remote_exec, remote_reboot, remote_wait_up,
	remote_free, remote_end_tagged, NULL,
};

struct transport *
remote_transport_new(const struct node_conf *c, bool persistent, bool accept_new_host_key)
{
	struct transport *t = xcalloc(1, sizeof(*t));
	struct remote *r = xcalloc(1, sizeof(*r));
	unsigned char rnd[16];
	size_t i;

	r->node = xstrdup(c->name);
	r->host = xstrdup(c->host);
	r->user = xstrdup(c->user);
	r->identity = c->identity ? xstrdup(c->identity) : NULL;
	r->known_hosts = c->known_hosts ? xstrdup(c->known_hosts) : NULL;
	r->jump = c->jump ? xstrdup(c->jump) : NULL;
	r->reboot_command = xstrdup(c->reboot_command);
	r->boot_id_command = xstrdup(c->boot_id_command ? c->boot_id_command
						       : "cat /proc/sys/kernel/random/boot_id");
	r->port = c->port;
	r->connect_timeout_ms = c->connect_timeout_ms;
	r->accept_new = accept_new_host_key;
	r->persistent = persistent;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		for (i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)(rand() ^ (int)util_now_ms());
	memcpy(r->nonce, "rbx", 3);
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(r->nonce + 3 + i * 2, 3, "%02x", rnd[i]);
	t->ops = &remote_ops;
	t->address = xasprintf("%s%s@%s:%d", persistent ? "ssh:" : "ssh-exec:", c->user, c->host, c->port);
	t->priv = r;
	return t;
}
