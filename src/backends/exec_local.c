/* exec_local.c - fork/exec of /bin/sh -c in its own process group, with poll()
 * over stdout and stderr together, a monotonic deadline and a two-step kill. */
#define _GNU_SOURCE
#include "backends/exec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define DEFAULT_GRACE_MS 1000
#define DEFAULT_CAPTURE_MAX (1u << 20)
#define DEFAULT_TAIL_MAX 4096

void
exec_result_init(struct exec_result *r, const struct exec_opts *o)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->out, o && o->capture_max ? o->capture_max : DEFAULT_CAPTURE_MAX);
	tail_init(&r->out_tail, o && o->tail_max ? o->tail_max : DEFAULT_TAIL_MAX);
	tail_init(&r->err_tail, o && o->tail_max ? o->tail_max : DEFAULT_TAIL_MAX);
}

void
exec_result_release(struct exec_result *r)
{
	buf_release(&r->out);
	tail_release(&r->out_tail);
	tail_release(&r->err_tail);
}

/* posix_spawn (vfork-fast) with a new process group, default signals and stdin from /dev/null. */
/* env (or environ) with vars on top, a name in vars replacing the same name in env. */
static char **
merge_env(char *const *env, const struct strmap *vars)
{
	/* (vars also carries RBX_STEP_TAG when the step has one.) */
	size_t n = 0, k = 0, i, j;
	char **out;

	while (env[n])
		n++;
	out = xcalloc(n + vars->n + 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		bool replaced = false;
		for (j = 0; j < vars->n && !replaced; j++) {
			size_t l = strlen(vars->keys[j]);
			replaced = !strncmp(env[i], vars->keys[j], l) && env[i][l] == '=';
		}
		if (!replaced)
			out[k++] = xstrdup(env[i]);
	}
	for (j = 0; j < vars->n; j++)
		out[k++] = xasprintf("%s=%s", vars->keys[j], vars->vals[j]);
	return out;
}

static void
free_env(char **env)
{
	size_t i;

	for (i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

/*
 * posix_spawn's work done by hand, for a child that must confine itself before
 * exec. Between fork and exec only async-signal-safe calls (the fleet's thread
 * may hold locks): everything is prepared before the fork. Returns 0 or an errno.
 */
static int
fork_confined(pid_t *pid, const struct exec_opts *o, char *const argv[], char *const envp[],
	      int outfd, int errfd)
{
	sigset_t none;
	int sig, devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (devnull < 0)
		return errno;
	sigemptyset(&none);
	*pid = fork();
	if (*pid < 0) {
		int e = errno;
		close(devnull);
		return e;
	}
	if (*pid == 0) {
		struct sigaction dfl;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		for (sig = 1; sig < NSIG; sig++)
			sigaction(sig, &dfl, NULL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		if (dup2(devnull, 0) < 0 || dup2(outfd, 1) < 0 || dup2(errfd, 2) < 0)
			_exit(126);
		if ((o->cwd && chdir(o->cwd) < 0) || o->confine(o->confine_arg) != 0)
			_exit(126);
		/* Only stdin, stdout and stderr reach a step: nothing rbx's caller left open
		 * (a CI runner's pipe, a shell's file) leaks into the commands it runs. After
		 * the confinement, which may use a descriptor it was given. */
		closefrom(3);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	/* The parent sets the group too, so a kill(-pid) right after the fork cannot miss it. */
	setpgid(*pid, *pid);
	close(devnull);
	return 0;
}

static pid_t
spawn_shell(const char *cmd, const struct exec_opts *o, int outfd, int errfd, struct rbx_err *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	char sh[] = "sh", dash_c[] = "-c";
	char *argv[] = {sh, dash_c, (char *)cmd, NULL}, **merged;
	struct strmap extra = {0};
	pid_t pid = -1;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outfd, 1);
	posix_spawn_file_actions_adddup2(&fa, errfd, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3); /* as in fork_confined */
	if (o->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
					      POSIX_SPAWN_SETSIGMASK);
	if (o->tag) {
		size_t i;
		for (i = 0; o->vars && i < o->vars->n; i++)
			strmap_set(&extra, o->vars->keys[i], o->vars->vals[i]);
		strmap_set(&extra, "RBX_STEP_TAG", o->tag);
	}
	merged = o->tag		       ? merge_env(o->env ? o->env : environ, &extra)
		 : o->vars && o->vars->n ? merge_env(o->env ? o->env : environ, o->vars)
					 : NULL;
	strmap_release(&extra);
	if (o->confine)
		rc = fork_confined(&pid, o, argv, merged ? merged : o->env ? o->env : environ, outfd,
				   errfd);
	else
		rc = posix_spawn(&pid, "/bin/sh", &fa, &at, argv,
				 merged ? merged : o->env ? o->env : environ);
	free_env(merged);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		err_set(err, "cannot start /bin/sh: %s", strerror(rc));
		return -1;
	}
	return pid;
}

static void
take(struct exec_result *r, const struct exec_opts *o, enum exec_stream s, const char *data,
     size_t n)
{
	if (s == EXEC_STDOUT) {
		buf_add(&r->out, data, n);
		tail_add(&r->out_tail, data, n);
	} else {
		tail_add(&r->err_tail, data, n);
	}
	if (o->on_output)
		o->on_output(o->arg, s, data, n);
}

/* Read what is there; returns false at EOF or error. */
static bool
drain_fd(int fd, struct exec_result *r, const struct exec_opts *o, enum exec_stream s)
{
	char chunk[16384];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n > 0) {
		take(r, o, s, chunk, (size_t)n);
		return true;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	return false;
}

static int
decode_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}

/* Take whatever is buffered now; bounded, since a leftover child may keep writing. */
static void
drain_rest(int fd, struct exec_result *r, const struct exec_opts *o, enum exec_stream s)
{
	char chunk[16384];
	ssize_t n;
	int rounds = 0;

	while (rounds++ < 256 && (n = read(fd, chunk, sizeof(chunk))) > 0)
		take(r, o, s, chunk, (size_t)n);
}

static int
open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

int
exec_local_run(const char *cmd, const struct exec_opts *o, struct exec_result *r,
	       struct rbx_err *err)
{
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, pidfd = -1;
	int64_t start = util_now_ms(), deadline, kill_at = 0;
	long long grace = o->grace_ms > 0 ? o->grace_ms : DEFAULT_GRACE_MS;
	bool open_out = true, open_err = true, reaped = false, termed = false;
	int st = 0, ret = -1;
	pid_t pid;

	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		err_set(err, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = spawn_shell(cmd, o, outp[1], errp[1], err);
	if (pid < 0)
		goto out;
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	/* A pidfd wakes poll() the moment the shell exits, even if a child it
	 * left behind still holds the pipes open. */
	pidfd = open_pidfd(pid);
	deadline = o->timeout_ms > 0 ? start + o->timeout_ms : 0;

	while (!reaped) {
		struct pollfd pf[3];
		int nf = 0, wait_ms = -1, k;
		int64_t now = util_now_ms();

		if (!termed && ((deadline && now >= deadline) ||
				(o->interrupted && *o->interrupted))) {
			if (o->interrupted && *o->interrupted)
				r->interrupted = true;
			else
				r->timed_out = true;
			kill(-pid, SIGTERM);
			termed = true;
			kill_at = now + grace;
		}
		if (termed && now >= kill_at) {
			kill(-pid, SIGKILL);
			kill_at = now + 60000;
		}
		if (open_out)
			pf[nf++] = (struct pollfd){outp[0], POLLIN, 0};
		if (open_err)
			pf[nf++] = (struct pollfd){errp[0], POLLIN, 0};
		if (pidfd >= 0)
			pf[nf++] = (struct pollfd){pidfd, POLLIN, 0};
		if (termed)
			wait_ms = (int)(kill_at - now);
		else if (deadline)
			wait_ms = (int)(deadline - now);
		/* Without a pidfd, or to notice an interrupt, look again often. */
		if ((pidfd < 0 || o->interrupted) && (wait_ms < 0 || wait_ms > 50))
			wait_ms = 50;
		if (poll(pf, (nfds_t)nf, wait_ms) > 0) {
			for (k = 0; k < nf; k++) {
				enum exec_stream s;
				if (pf[k].fd == pidfd ||
				    !(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				s = pf[k].fd == outp[0] ? EXEC_STDOUT : EXEC_STDERR;
				if (drain_fd(pf[k].fd, r, o, s))
					continue;
				if (s == EXEC_STDOUT)
					open_out = false;
				else
					open_err = false;
			}
		}
		/*
		 * Seen to exit, not reaped (WNOWAIT): while the shell is a zombie its pid,
		 * and so its group id, cannot be handed to anyone else.
		 */
		{
			siginfo_t si;
			memset(&si, 0, sizeof(si));
			if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
			    si.si_pid == pid)
				reaped = true;
		}
	}
	/* The shell is gone: take what is buffered, end whatever it left behind, then reap. */
	if (open_out)
		drain_rest(outp[0], r, o, EXEC_STDOUT);
	if (open_err)
		drain_rest(errp[0], r, o, EXEC_STDERR);
	kill(-pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = decode_status(st);
	ret = 0;
out:
	r->duration_ms = util_now_ms() - start;
	if (pidfd >= 0)
		close(pidfd);
	if (outp[0] >= 0)
		close(outp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (errp[0] >= 0)
		close(errp[0]);
	if (errp[1] >= 0)
		close(errp[1]);
	return ret;
}

int
exec_local_capture(const char *cmd, long long timeout_ms, struct buf *out, struct rbx_err *err)
{
	return exec_local_capture_vars(cmd, NULL, timeout_ms, NULL, out, err);
}

int
exec_local_capture_vars(const char *cmd, const struct strmap *vars, long long timeout_ms,
			rbx_flag *interrupted, struct buf *out, struct rbx_err *err)
{
	struct exec_opts o = {0};
	struct exec_result r;
	int rc = -1;

	o.timeout_ms = timeout_ms;
	o.vars = vars;
	o.interrupted = interrupted;
	exec_result_init(&r, &o);
	if (exec_local_run(cmd, &o, &r, err) < 0)
		goto out;
	if (r.interrupted) {
		err_set(err, "'%s' interrupted", cmd);
		goto out;
	}
	if (r.timed_out || r.status != 0) {
		char *e = tail_string(&r.err_tail);
		e[strcspn(e, "\n")] = 0;
		err_set(err, "'%s' %s: %s", cmd, r.timed_out ? "timed out" : "failed",
			*e ? e : "no message");
		free(e);
		goto out;
	}
	if (out)
		buf_add(out, r.out.data, r.out.len);
	rc = 0;
out:
	exec_result_release(&r);
	return rc;
}

/* Whether /proc/<pid>/environ holds the exact entry want. */
static bool
environ_has(const char *pid, const char *want)
{
	char path[64], *data;
	size_t len, i = 0, wl = strlen(want);
	struct rbx_err ignored;
	bool hit = false;

	snprintf(path, sizeof(path), "/proc/%s/environ", pid);
	data = util_read_file(path, 1u << 20, &len, &ignored);
	if (!data)
		return false;
	while (i < len && !hit) {
		size_t n = strnlen(data + i, len - i);
		hit = n == wl && !memcmp(data + i, want, wl);
		i += n + 1;
	}
	free(data);
	return hit;
}

int
exec_local_end_tagged(const char *tag)
{
	char *want = xasprintf("RBX_STEP_TAG=%s", tag);
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)) != NULL) {
		pid_t pid, pg;
		if (de->d_name[0] < '1' || de->d_name[0] > '9' || !environ_has(de->d_name, want))
			continue;
		pid = (pid_t)strtol(de->d_name, NULL, 10);
		pg = getpgid(pid);
		/* Each step leads its own group (never rbx's): end the whole group. */
		if (pg > 1 && pg != getpgrp() && kill(-pg, SIGKILL) == 0)
			n++;
	}
	if (d)
		closedir(d);
	free(want);
	return n;
}
