/* lab_sandbox.c - the shell of every lab step, confined by Landlock: it may execute
 * only the lab's own tools and write only below the simulated node, and no TCP. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rbx/lab.h"

#include "lab_internal.h"

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
#define LL_RULE_PATH_BENEATH 1

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
};

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#define SANDBOX_NAME "rbx-lab-sh"

/* Write-type rights: what a step may do below the node's directory, and nowhere else. */
#define LL_WRITES                                                                            \
	(LL_FS_WRITE_FILE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_DIR |          \
	 LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_MAKE_SYM)

bool
lab_is_sandbox(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	return !strcmp(base ? base + 1 : argv0, SANDBOX_NAME);
}

const char *
lab_sandbox_name(void)
{
	return SANDBOX_NAME;
}

static int
allow(int ruleset, const char *path, uint64_t rights)
{
	struct ll_path_beneath pb;
	int fd = open(path, O_PATH | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	pb.allowed_access = rights;
	pb.parent_fd = fd;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
	return rc;
}

/* Every program the lab's PATH names, by its real file: nothing else may be executed. */
static int
allow_path_programs(int ruleset, const char *bin)
{
	DIR *d = opendir(bin);
	struct dirent *de;
	char real[PATH_MAX];
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char *p;
		if (de->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", bin, de->d_name);
		if (realpath(p, real) && allow(ruleset, real, LL_FS_EXECUTE | LL_FS_READ_FILE) == 0)
			n++;
		free(p);
	}
	closedir(d);
	return n > 0 ? 0 : -1;
}

/*
 * The dynamic loader: the kernel opens it for execution with every program. It
 * can also be run by hand on any file it can read, which is why reading is
 * confined too: the host's program directories are not readable from a step.
 */
static int
allow_loader(int ruleset)
{
	static const char *const loaders[] = {"/lib64/ld-linux-x86-64.so.2",
					      "/lib/ld-linux-aarch64.so.1", NULL};
	char real[PATH_MAX];
	size_t i;
	int n = 0;

	for (i = 0; loaders[i]; i++)
		if (realpath(loaders[i], real) &&
		    allow(ruleset, real, LL_FS_EXECUTE | LL_FS_READ_FILE) == 0)
			n++;
	return n ? 0 : -1;
}

/* What programs read to run: libraries, configuration, shared data, the kernel's views. */
static int
allow_reads(int ruleset)
{
	static const char *const dirs[] = {"/usr/lib", "/lib", "/lib64", "/etc", "/usr/share",
					   "/proc", "/sys", "/dev", NULL};
	char real[PATH_MAX];
	size_t i;

	for (i = 0; dirs[i]; i++)
		if (realpath(dirs[i], real))
			allow(ruleset, real, LL_FS_READ_FILE);
	return 0;
}

static int
confine(const char *bin, const char *node_dir, const char *shell)
{
	struct ll_ruleset_attr attr = {0, 0};
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	size_t size = sizeof(uint64_t);
	int rs, rc = -1;

	if (abi < 1) {
		fprintf(stderr, "rbx lab: this kernel has no Landlock (Linux 5.13+, enabled in the "
				"LSM list); the lab will not run a step it cannot confine\n");
		return -1;
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
		size = sizeof(attr);
	}
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rs < 0) {
		fprintf(stderr, "rbx lab: cannot create a Landlock ruleset: %s\n", strerror(errno));
		return -1;
	}
	if (allow_path_programs(rs, bin) < 0 ||
	    allow(rs, shell, LL_FS_EXECUTE | LL_FS_READ_FILE) < 0 || allow_loader(rs) < 0 ||
	    allow_reads(rs) < 0 ||
	    allow(rs, node_dir,
		  LL_FS_READ_FILE | LL_WRITES | (abi >= 2 ? LL_FS_REFER : 0) |
			  (abi >= 3 ? LL_FS_TRUNCATE : 0)) < 0 ||
	    allow(rs, "/dev/null", LL_FS_WRITE_FILE | (abi >= 3 ? LL_FS_TRUNCATE : 0)) < 0) {
		fprintf(stderr, "rbx lab: cannot build the step's confinement: %s\n", strerror(errno));
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_landlock_restrict_self, rs, 0) < 0) {
		fprintf(stderr, "rbx lab: cannot confine the step: %s\n", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(rs);
	return rc;
}

int
lab_sandbox_main(int argc, char **argv)
{
	const char *node_dir = getenv(LAB_ENV_STATE), *path = getenv("PATH");
	char shell[PATH_MAX];

	if (argc != 3 || strcmp(argv[1], "-c") || !node_dir || !path || strchr(path, ':')) {
		fprintf(stderr, "%s: the lab's step shell; it runs only inside an rbx lab run\n",
			argv[0]);
		return 127;
	}
	if (!realpath("/bin/sh", shell) || confine(path, node_dir, shell) < 0)
		return 126;
	execl(shell, "sh", "-c", argv[2], (char *)NULL);
	fprintf(stderr, "rbx lab: cannot run /bin/sh: %s\n", strerror(errno));
	return 127;
}
