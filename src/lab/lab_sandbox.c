/* lab_sandbox.c - every lab step confined by Landlock: it may execute only the lab's
 * own tools, write only below the simulated node, read no host program, open no TCP. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lab/lab.h"

#include "lab/lab_internal.h"

/*
 * The kernel's ABI, spelt out here because Debian 12's headers stop at version 2:
 * the rights of later versions, and the ruleset attribute that grew with them.
 */
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_REMOVE_DIR (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_CHAR (1ULL << 6)
#define LL_FS_MAKE_DIR (1ULL << 7)
#define LL_FS_MAKE_REG (1ULL << 8)
#define LL_FS_MAKE_SOCK (1ULL << 9)
#define LL_FS_MAKE_FIFO (1ULL << 10)
#define LL_FS_MAKE_BLOCK (1ULL << 11)
#define LL_FS_MAKE_SYM (1ULL << 12)
#define LL_FS_REFER (1ULL << 13)    /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#define LL_NET_BIND_TCP (1ULL << 0) /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)
#define LL_RULE_PATH_BENEATH 1

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;	     /* ABI 6 */
};

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#define LL_WRITES                                                                            \
	(LL_FS_WRITE_FILE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_DIR |          \
	 LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_MAKE_SYM)

/*
 * The ruleset is built once, when the transport is made, and each step's child
 * only enters it: building it per step (an open and a rule for every tool) was
 * a large part of a lab step's cost. why says what failed, for the child to say.
 */
struct lab_sandbox {
	int rs;		 /* the Landlock ruleset, or -1 */
	const char *why; /* when rs is -1 */
	uint64_t mask;	 /* the rights the ruleset handles */
	char **seen;	 /* real paths with a rule already (while building) */
	size_t nseen;
};

static void
say(const char *msg)
{
	ssize_t n = write(2, msg, strlen(msg));
	(void)n;
}

/* One rule for the real file path names (Landlock checks what a path resolves to),
 * once per real file: ninety lab tools are one rbx binary. */
static void
add(struct lab_sandbox *sb, const char *path, uint64_t rights)
{
	char real[PATH_MAX];
	struct ll_path_beneath pb;
	size_t i;
	int fd;

	if (sb->rs < 0 || !realpath(path, real))
		return;
	for (i = 0; i < sb->nseen; i++)
		if (!strcmp(sb->seen[i], real))
			return;
	fd = open(real, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return;
	pb.allowed_access = rights & sb->mask;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, sb->rs, LL_RULE_PATH_BENEATH, &pb, 0) < 0) {
		close(sb->rs);
		sb->rs = -1;
		sb->why = "rbx lab: cannot build the step's confinement\n";
	}
	close(fd);
	sb->seen = xrealloc(sb->seen, (sb->nseen + 1) * sizeof(*sb->seen));
	sb->seen[sb->nseen++] = xstrdup(real);
}

/* A symlink of the bin dir: its target, resolved once per distinct target. */
static void
add_link(struct lab_sandbox *sb, const char *link, uint64_t rights)
{
	char target[PATH_MAX];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	size_t i;

	if (n <= 0 || target[0] != '/') {
		add(sb, link, rights);
		return;
	}
	target[n] = 0;
	for (i = 0; i < sb->nseen; i++)
		if (!strcmp(sb->seen[i], target))
			return;
	add(sb, target, rights);
	/* Remembered by its name too, so the next link to it costs one readlink. */
	sb->seen = xrealloc(sb->seen, (sb->nseen + 1) * sizeof(*sb->seen));
	sb->seen[sb->nseen++] = xstrdup(target);
}

static void
open_ruleset(struct lab_sandbox *sb)
{
	struct ll_ruleset_attr attr = {0, 0, 0};
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	size_t size = sizeof(uint64_t);

	sb->rs = -1;
	if (abi < 1) {
		sb->why = "rbx lab: this kernel has no Landlock (Linux 5.13+, enabled in the LSM "
			  "list); the lab will not run a step it cannot confine\n";
		return;
	}
	attr.handled_access_fs =
		LL_FS_EXECUTE | LL_FS_READ_FILE | LL_WRITES | LL_FS_MAKE_CHAR | LL_FS_MAKE_BLOCK;
	if (abi >= 2)
		attr.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 4) {
		/* No rule for any port: no TCP at all. The lab's tools answer in-process. */
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		/*
		 * The shell's own kill is no program the lab can stand in for: without
		 * this, `kill -9 PID` in a step signals a process of the host. Scoped, a
		 * step signals only what it started, and reaches no abstract socket.
		 */
		attr.scoped = LL_SCOPE_SIGNAL | LL_SCOPE_ABSTRACT_UNIX;
		size = sizeof(attr);
	}
	sb->mask = attr.handled_access_fs;
	sb->rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (sb->rs < 0)
		sb->why = "rbx lab: cannot create a Landlock ruleset\n";
}

struct lab_sandbox *
lab_sandbox_new(const char *const *bins, const char *node_dir)
{
	static const char *const reads[] = {"/usr/lib", "/lib", "/lib64", "/etc", "/usr/share",
					    "/proc", "/sys", "/dev", NULL};
	static const char *const loaders[] = {"/lib64/ld-linux-x86-64.so.2",
					      "/lib/ld-linux-aarch64.so.1", NULL};
	struct lab_sandbox *sb = xcalloc(1, sizeof(*sb));
	size_t i, k;

	open_ruleset(sb);
	/* Every program the lab's PATH names, /bin/sh and the loader: nothing else runs. */
	for (k = 0; bins[k]; k++) {
		DIR *d = opendir(bins[k]);
		struct dirent *de;
		while (d && (de = readdir(d)) != NULL) {
			char *p;
			if (de->d_name[0] == '.')
				continue;
			p = xasprintf("%s/%s", bins[k], de->d_name);
			add_link(sb, p, LL_FS_EXECUTE | LL_FS_READ_FILE);
			free(p);
		}
		if (d)
			closedir(d);
	}
	add(sb, "/bin/sh", LL_FS_EXECUTE | LL_FS_READ_FILE);
	/*
	 * The loader is opened for execution with every program; run by hand it can
	 * load any file it can read, so reading is confined too: the host's program
	 * directories are not readable from a step.
	 */
	for (i = 0; loaders[i]; i++)
		add(sb, loaders[i], LL_FS_EXECUTE | LL_FS_READ_FILE);
	for (i = 0; reads[i]; i++)
		add(sb, reads[i], LL_FS_READ_FILE);
	add(sb, node_dir, LL_FS_READ_FILE | LL_WRITES | LL_FS_REFER | LL_FS_TRUNCATE);
	add(sb, "/dev/null", LL_FS_WRITE_FILE | LL_FS_TRUNCATE);
	for (i = 0; i < sb->nseen; i++)
		free(sb->seen[i]);
	free(sb->seen);
	sb->seen = NULL;
	sb->nseen = 0;
	return sb;
}

void
lab_sandbox_free(struct lab_sandbox *sb)
{
	if (!sb)
		return;
	if (sb->rs >= 0)
		close(sb->rs);
	free(sb);
}


/*
 * In the step's child, between fork and exec: system calls only (no allocation,
 * no stdio), as another thread of rbx may hold a lock. Refuses (-1, saying why on
 * stderr) rather than run unconfined.
 */
int
lab_sandbox_enter(void *arg)
{
	const struct lab_sandbox *sb = arg;

	if (sb->rs < 0) {
		say(sb->why);
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_landlock_restrict_self, sb->rs, 0) < 0) {
		say("rbx lab: cannot confine the step\n");
		return -1;
	}
	return 0;
}
