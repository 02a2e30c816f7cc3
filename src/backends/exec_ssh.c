/* exec_ssh.c - the SSH transport: libssh, strict host keys, public-key auth, and
 * a persistent remote shell that runs each step in its own process group. */
#define _GNU_SOURCE
#include "backends/remote.h"

#include <errno.h>
#include <libssh/libssh.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "backends/ssh_internal.h"

#define KEEPALIVE_MS 30000
#define HOLD_BACK 96 /* bytes kept back while looking for an end marker */

/*
 * The remote driver. It reads the per-run nonce first, then requests: a line
 * with the nonce, the command's lines, a line "<nonce>.". Each command runs as
 * `/bin/sh -c` in its own process group with stdin from /dev/null; when it
 * ends, whatever it left in its group is killed, and the driver writes
 * "\n<nonce> <status>\n" on stdout and "\n<nonce>\n" on stderr. The nonce is
 * random per run and never leaves rbx and the driver's own variables, so no
 * output can forge an end. The running step is the driver's only child and
 * leads its own process group, so a deadline ends it from a second channel
 * with kill -- -$(pgrep -P DRIVER): no trap needed (dash does not run traps
 * while it waits for a setsid child).
 *
 * The driver runs under bash where the node has it: bash's job control (set -m)
 * gives a background job its own process group without a terminal, so a step
 * costs one fork and one exec. Without bash (dash refuses set -m with no
 * terminal) each step goes through setsid, one exec more. A job stopped by a
 * signal makes bash's wait return at once, hence the pause before waiting again.
 * Job control also reports each job's end on bash's stderr: that goes to
 * /dev/null, and steps and end markers write to the channel's stderr on fd 3.
 */
static const char driver[] =
	"IFS= read -r n || exit 2\n"
	"g=setsid\n"
	"exec 3>&2\n"
	"[ -n \"${BASH_VERSION:-}\" ] && set -m && g= && exec 2>/dev/null\n"
	"printf '%s ready %s\\n' \"$n\" \"$$\"\n"
	"while IFS= read -r l; do\n"
	"  [ \"$l\" = \"$n\" ] || exit 3\n"
	"  c=\n"
	"  while IFS= read -r l; do [ \"$l\" = \"$n.\" ] && break; c=\"$c$l\n\"; done\n"
	"  $g /bin/sh -c \"$c\" </dev/null 2>&3 3>&- &\n"
	"  p=$!\n"
	"  while :; do wait \"$p\"; r=$?; kill -0 \"$p\" 2>/dev/null || break; sleep 0.1; done\n"
	"  kill -KILL -- \"-$p\" 2>/dev/null\n"
	"  p=\n"
	"  printf '\\n%s %s\\n' \"$n\" \"$r\"\n"
	"  printf '\\n%s\\n' \"$n\" >&3\n"
	"done\n";

/* ---- connection ----------------------------------------------------------------------- */

void
remote_close_session(struct remote *r)
{
	if (r->shell) {
		ssh_channel_send_eof(r->shell);
		ssh_channel_close(r->shell);
		ssh_channel_free(r->shell);
		r->shell = NULL;
	}
	if (r->s) {
		ssh_disconnect(r->s);
		ssh_free(r->s);
		r->s = NULL;
	}
}

static int
key_desc(ssh_session s, char *type, size_t tn, char *fp, size_t fn)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *f;

	snprintf(type, tn, "?");
	snprintf(fp, fn, "?");
	if (ssh_get_server_publickey(s, &key) != SSH_OK)
		return -1;
	snprintf(type, tn, "%s", ssh_key_type_to_char(ssh_key_type(key)));
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0) {
		f = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
		if (f) {
			snprintf(fp, fn, "%s", f);
			ssh_string_free_char(f);
		}
		ssh_clean_pubkey_hash(&hash);
	}
	ssh_key_free(key);
	return 0;
}

/* The host key must be the one known_hosts holds; a new one only with --accept-new-host-key. */
static int
verify_host(struct remote *r, struct rbx_err *err)
{
	char type[64], fp[128];
	enum ssh_known_hosts_e st = ssh_session_is_known_server(r->s);
	const char *file = r->known_hosts ? r->known_hosts : "~/.ssh/known_hosts";

	key_desc(r->s, type, sizeof(type), fp, sizeof(fp));
	switch (st) {
	case SSH_KNOWN_HOSTS_OK:
		return 0;
	case SSH_KNOWN_HOSTS_CHANGED:
		return err_set(err, "node %s (%s:%d): the host key has CHANGED: the server offers %s %s, "
				    "which is not the key %s holds. rbx never accepts a changed key: "
				    "find out why, then replace the old entry",
			       r->node, r->host, r->port, type, fp, file);
	case SSH_KNOWN_HOSTS_OTHER:
		return err_set(err, "node %s (%s:%d): the server offers a %s key (%s), but %s holds a "
				    "key of another type for it; refused",
			       r->node, r->host, r->port, type, fp, file);
	case SSH_KNOWN_HOSTS_NOT_FOUND:
	case SSH_KNOWN_HOSTS_UNKNOWN:
		if (!r->accept_new)
			return err_set(err, "node %s (%s:%d): unknown host key %s %s (not in %s); check "
					    "it, then run with --accept-new-host-key to record it",
				       r->node, r->host, r->port, type, fp, file);
		if (ssh_session_update_known_hosts(r->s) != SSH_OK)
			return err_set(err, "node %s: cannot record its host key in %s: %s", r->node, file,
				       ssh_get_error(r->s));
		return 0;
	default:
		return err_set(err, "node %s: cannot check its host key: %s", r->node, ssh_get_error(r->s));
	}
}

static int
authenticate(struct remote *r, struct rbx_err *err)
{
	int rc;

	if (r->identity) {
		ssh_key key = NULL;
		if (ssh_pki_import_privkey_file(r->identity, NULL, NULL, NULL, &key) != SSH_OK)
			return err_set(err, "node %s: cannot read the identity %s (a key with a "
					    "passphrase needs the agent)", r->node, r->identity);
		rc = ssh_userauth_publickey(r->s, NULL, key);
		ssh_key_free(key);
	} else {
		rc = ssh_userauth_publickey_auto(r->s, NULL, NULL);
	}
	if (rc != SSH_AUTH_SUCCESS)
		return err_set(err, "node %s: public-key authentication of %s@%s:%d failed%s%s; the "
				    "server does not say why; the usual causes: the key is not in that "
				    "user's authorized_keys, sshd cannot read it (a 0700 directory, "
				    "StrictModes), or the account is locked (useradd's default, refused "
				    "with UsePAM no)",
			       r->node, r->user, r->host, r->port,
			       r->identity ? " with " : " (agent and default keys)",
			       r->identity ? r->identity : "");
	return 0;
}

/*
 * The jump host's ssh, as strict as rbx itself: no ~/.ssh/config (-F /dev/null),
 * batch mode, and the jump host's key checked against the node's known_hosts.
 * Every value is quoted, though the inventory already allows only plain words.
 */
static char *
proxy_command(const struct remote *r)
{
	struct buf b;
	char *jump = xstrdup(r->jump), *colon = strrchr(jump, ':'), *out;

	if (colon)
		*colon++ = 0;
	buf_init(&b, 0);
	buf_adds(&b, "exec ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes");
	if (r->known_hosts) {
		struct buf q;
		buf_init(&q, 0);
		buf_adds(&q, "UserKnownHostsFile=");
		buf_adds(&q, r->known_hosts);
		buf_adds(&b, " -o ");
		util_shell_quote(&b, q.data);
		buf_release(&q);
	}
	if (r->identity) {
		buf_adds(&b, " -i ");
		util_shell_quote(&b, r->identity);
	}
	if (colon) {
		buf_adds(&b, " -p ");
		util_shell_quote(&b, colon);
	}
	buf_adds(&b, " -W '[%h]:%p' -- ");
	util_shell_quote(&b, jump);
	out = buf_detach(&b);
	free(jump);
	return out;
}

int
remote_connect(struct remote *r, struct rbx_err *err)
{
	long secs = (long)((r->connect_timeout_ms + 999) / 1000);
	int yes = 1, no = 0;

	remote_close_session(r);
	r->s = ssh_new();
	if (!r->s)
		return err_set(err, "cannot start libssh");
	ssh_options_set(r->s, SSH_OPTIONS_HOST, r->host);
	ssh_options_set(r->s, SSH_OPTIONS_PORT, &r->port);
	ssh_options_set(r->s, SSH_OPTIONS_USER, r->user);
	ssh_options_set(r->s, SSH_OPTIONS_TIMEOUT, &secs);
	/* Without NODELAY, Nagle and delayed ACKs add tens of ms to every exchange. */
	ssh_options_set(r->s, SSH_OPTIONS_NODELAY, &yes);
	/* Only the inventory decides: no ~/.ssh/config, no system-wide known_hosts. */
	ssh_options_set(r->s, SSH_OPTIONS_PROCESS_CONFIG, &no);
	ssh_options_set(r->s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
	if (r->known_hosts)
		ssh_options_set(r->s, SSH_OPTIONS_KNOWNHOSTS, r->known_hosts);
	if (r->jump) {
		char *pc = proxy_command(r);
		ssh_options_set(r->s, SSH_OPTIONS_PROXYCOMMAND, pc);
		free(pc);
	}
	if (ssh_connect(r->s) != SSH_OK) {
		err_set(err, "node %s: cannot connect to %s:%d: %s", r->node, r->host, r->port,
			ssh_get_error(r->s));
		remote_close_session(r);
		return -1;
	}
	if (verify_host(r, err) < 0 || authenticate(r, err) < 0) {
		remote_close_session(r);
		return -1;
	}
	return 0;
}

/* ---- the driver ---------------------------------------------------------------------- */

static ssh_channel
open_driver(struct remote *r, long *pid, struct rbx_err *err)
{
	ssh_channel ch = ssh_channel_new(r->s);
	struct buf cmd, line;
	char buf[256];
	int64_t deadline = util_now_ms() + r->connect_timeout_ms;

	buf_init(&cmd, 0);
	buf_init(&line, 4096);
	/* The login shell runs this. A persistent driver starts once and runs every step:
	 * bash if the node has it. A driver per step (ssh-exec) would pay bash's slower
	 * start on each, more than the setsid it saves: /bin/sh. */
	buf_adds(&cmd, "d=");
	util_shell_quote(&cmd, driver);
	if (r->persistent)
		buf_adds(&cmd, "; command -v bash >/dev/null 2>&1 && exec bash -c \"$d\"");
	buf_adds(&cmd, "; exec /bin/sh -c \"$d\"");
	if (!ch || ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, cmd.data) != SSH_OK) {
		err_set(err, "node %s: cannot start a remote shell: %s", r->node, ssh_get_error(r->s));
		goto fail;
	}
	snprintf(buf, sizeof(buf), "%s\n", r->nonce);
	if (ssh_channel_write(ch, buf, (uint32_t)strlen(buf)) < 0) {
		err_set(err, "node %s: cannot talk to the remote shell: %s", r->node, ssh_get_error(r->s));
		goto fail;
	}
	/* Wait for "<nonce> ready <pid>": the shell runs and knows the nonce. */
	while (!strchr(line.data, '\n')) {
		int n = ssh_channel_read_timeout(ch, buf, sizeof(buf), 0,
						 (int)(deadline - util_now_ms()));
		if (n <= 0 || util_now_ms() > deadline) {
			err_set(err, "node %s: the remote shell did not start", r->node);
			goto fail;
		}
		buf_add(&line, buf, (size_t)n);
	}
	snprintf(buf, sizeof(buf), "%s ready ", r->nonce);
	if (strncmp(line.data, buf, strlen(buf))) {
		err_set(err, "node %s: unexpected answer from the remote shell", r->node);
		goto fail;
	}
	*pid = strtol(line.data + strlen(buf), NULL, 10);
	buf_release(&cmd);
	buf_release(&line);
	return ch;
fail:
	if (ch)
		ssh_channel_free(ch);
	buf_release(&cmd);
	buf_release(&line);
	return NULL;
}

/* Run a one-off command on its own channel (a signal to the driver, the reboot). */
int
remote_side_command(struct remote *r, const char *cmd)
{
	ssh_channel ch = ssh_channel_new(r->s);
	int rc = -1;

	if (ch && ssh_channel_open_session(ch) == SSH_OK && ssh_channel_request_exec(ch, cmd) == SSH_OK) {
		ssh_channel_send_eof(ch);
		ssh_channel_get_exit_status(ch);
		rc = 0;
	}
	if (ch) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	return rc;
}

int
remote_ensure_connected(struct remote *r, struct rbx_err *err)
{
	if (r->s && ssh_is_connected(r->s) && (!r->persistent || r->shell))
		return 0;
	if (remote_connect(r, err) < 0)
		return -1;
	if (r->persistent) {
		r->shell = open_driver(r, &r->shell_pid, err);
		if (!r->shell) {
			remote_close_session(r);
			return -1;
		}
	}
	return 0;
}

/* Reads what waits on an idle session without blocking: a closed socket, or a
 * persistent shell that ended, shows here. */
static bool
session_stale(struct remote *r)
{
	if (!ssh_is_connected(r->s))
		return true;
	if (!r->persistent || !r->shell)
		return false;
	return ssh_channel_poll(r->shell, 0) < 0 || !ssh_channel_is_open(r->shell) ||
	       !ssh_is_connected(r->s);
}

int
remote_open(struct transport *t, struct rbx_err *err)
{
	return remote_ensure_connected(t->priv, err);
}

/* ---- one step -------------------------------------------------------------------------- */

struct stream {
	struct buf pend; /* received, not yet passed on: the end marker may be in here */
	bool done;
	int status;
};

/* Pass data on, holding back what may be the start of the end marker. */
static void
stream_feed(struct stream *s, const char *nonce, bool is_out, struct exec_result *res,
	    const struct exec_opts *o, const char *data, size_t n)
{
	char marker[64];
	const char *hit;
	size_t keep;

	buf_add(&s->pend, data, n);
	snprintf(marker, sizeof(marker), is_out ? "\n%s " : "\n%s\n", nonce);
	hit = memmem(s->pend.data, s->pend.len, marker, strlen(marker));
	if (hit && (!is_out || memchr(hit + strlen(marker), '\n', s->pend.len - (size_t)(hit - s->pend.data) - strlen(marker)))) {
		size_t body = (size_t)(hit - s->pend.data);
		if (is_out)
			s->status = atoi(hit + strlen(marker));
		s->done = true;
		if (is_out) {
			buf_add(&res->out, s->pend.data, body);
			tail_add(&res->out_tail, s->pend.data, body);
		} else {
			tail_add(&res->err_tail, s->pend.data, body);
		}
		if (o->on_output && body)
			o->on_output(o->arg, is_out ? EXEC_STDOUT : EXEC_STDERR, s->pend.data, body);
		return;
	}
	keep = s->pend.len > HOLD_BACK ? s->pend.len - HOLD_BACK : 0;
	if (!keep)
		return;
	if (is_out) {
		buf_add(&res->out, s->pend.data, keep);
		tail_add(&res->out_tail, s->pend.data, keep);
	} else {
		tail_add(&res->err_tail, s->pend.data, keep);
	}
	if (o->on_output)
		o->on_output(o->arg, is_out ? EXEC_STDOUT : EXEC_STDERR, s->pend.data, keep);
	memmove(s->pend.data, s->pend.data + keep, s->pend.len - keep);
	s->pend.len -= keep;
	s->pend.data[s->pend.len] = 0;
}

static int
send_request(ssh_channel ch, const char *nonce, const char *cmd, const struct strmap *vars,
	     const char *tag)
{
	struct buf b;
	size_t i;
	int rc;

	buf_init(&b, 0);
	buf_addf(&b, "%s\n", nonce);
	/* The values of the command's references, assigned in text rbx writes itself. */
	for (i = 0; vars && i < vars->n; i++) {
		buf_addf(&b, "%s=", vars->keys[i]);
		util_shell_quote(&b, vars->vals[i]);
		buf_addf(&b, "; export %s\n", vars->keys[i]);
	}
	if (tag) {
		buf_adds(&b, "RBX_STEP_TAG=");
		util_shell_quote(&b, tag);
		buf_adds(&b, "; export RBX_STEP_TAG\n");
	}
	buf_addf(&b, "%s\n%s.\n", cmd, nonce);
	rc = ssh_channel_write(ch, b.data, (uint32_t)b.len) == (int)b.len ? 0 : -1;
	buf_release(&b);
	return rc;
}

int
remote_exec(struct transport *t, const char *cmd, const struct exec_opts *o, struct exec_result *res,
	    struct rbx_err *err)
{
	struct remote *r = t->priv;
	struct stream out = {0}, errs = {0};
	ssh_channel ch;
	long pid;
	int64_t start = util_now_ms(), deadline = o->timeout_ms ? start + o->timeout_ms : 0;
	int64_t kill_at = 0, last_traffic = start;
	long long grace = o->grace_ms > 0 ? o->grace_ms : 1000;
	bool termed = false, lost = false;
	char sig[256], buf[16384];
	int rc = -1;

	/* A session the node ended while rbx waited (sshd killed, a reboot) is dropped
	 * before a step is sent into it: that step would be lost, not merely unsent. */
	if (r->s && session_stale(r))
		remote_close_session(r);
	if (remote_ensure_connected(r, err) < 0) {
		res->unreached = true;
		return -1;
	}
	if (r->persistent) {
		ch = r->shell;
		pid = r->shell_pid;
	} else if (!(ch = open_driver(r, &pid, err))) {
		/* Opening a channel runs nothing: one new connection before giving up. */
		remote_close_session(r);
		if (remote_ensure_connected(r, err) < 0 || !(ch = open_driver(r, &pid, err))) {
			remote_close_session(r);
			res->unreached = true;
			return -1;
		}
	}
	if (send_request(ch, r->nonce, cmd, o->vars, o->tag) < 0) {
		err_set(err, "node %s: connection lost: %s", r->node, ssh_get_error(r->s));
		goto lost;
	}
	buf_init(&out.pend, 0);
	buf_init(&errs.pend, 0);
	while (!(out.done && errs.done)) {
		int64_t now = util_now_ms();
		int no = out.done ? 0 : ssh_channel_poll(ch, 0);
		int ne = errs.done ? 0 : ssh_channel_poll(ch, 1);

		if (!termed && ((deadline && now >= deadline) || (o->interrupted && *o->interrupted))) {
			/* End the step's whole process group on the node, not just our channel. */
			if (o->interrupted && *o->interrupted)
				res->interrupted = true;
			else
				res->timed_out = true;
			snprintf(sig, sizeof(sig), "for c in $(pgrep -P %ld); do kill -TERM -- \"-$c\"; done", pid);
			remote_side_command(r, sig);
			termed = true;
			kill_at = now + grace;
		}
		if (termed && kill_at && now >= kill_at) {
			snprintf(sig, sizeof(sig), "for c in $(pgrep -P %ld); do kill -KILL -- \"-$c\"; done", pid);
			remote_side_command(r, sig);
			kill_at = 0;
		}
		if (no == SSH_ERROR || ne == SSH_ERROR || (no == SSH_EOF && !out.done) ||
		    (ne == SSH_EOF && !errs.done) || !ssh_is_connected(r->s)) {
			lost = true;
			break;
		}
		if (no > 0) {
			int n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), 0);
			if (n > 0)
				stream_feed(&out, r->nonce, true, res, o, buf, (size_t)n);
			last_traffic = now;
		}
		if (ne > 0) {
			int n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), 1);
			if (n > 0)
				stream_feed(&errs, r->nonce, false, res, o, buf, (size_t)n);
			last_traffic = now;
		}
		if (no <= 0 && ne <= 0) {
			struct pollfd pf = {ssh_get_fd(r->s), POLLIN, 0};
			int wait_ms = 100;
			if (deadline && !termed && deadline - now < wait_ms)
				wait_ms = (int)(deadline - now) + 1;
			poll(&pf, 1, wait_ms > 0 ? wait_ms : 1);
			if (now - last_traffic > KEEPALIVE_MS) {
				ssh_send_ignore(r->s, "rbx keepalive");
				last_traffic = now;
			}
		}
	}
	if (lost) {
		/* The step runs in its own session on the node: it may well go on. */
		res->lost = true;
		err_set(err, "node %s: connection lost during the step; it may still be running there",
			r->node);
		goto lost;
	}
	res->status = out.status;
	rc = 0;
	if (!r->persistent) {
		ssh_channel_send_eof(ch);
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	goto out;
lost:
	/* A dropped connection fails this step; the next one reconnects. */
	ssh_channel_free(ch);
	if (r->persistent)
		r->shell = NULL; /* just freed: close_session must not touch it */
	remote_close_session(r);
out:
	res->duration_ms = util_now_ms() - start;
	buf_release(&out.pend);
	buf_release(&errs.pend);
	return rc;
}

void
remote_free(struct transport *t)
{
	struct remote *r = t->priv;

	remote_close_session(r);
	free(r->node);
	free(r->host);
	free(r->user);
	free(r->identity);
	free(r->known_hosts);
	free(r->jump);
	free(r->reboot_command);
	free(r->boot_id_command);
	free(r);
}
