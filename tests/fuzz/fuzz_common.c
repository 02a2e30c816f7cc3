/* fuzz_common.c - the harnesses' shared helpers: strings, a scratch file and a state dir
 * per process under $TMPDIR, so parallel fuzzers never share a file. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

char *
fuzz_string(const uint8_t *data, size_t size)
{
	char *s = xcalloc(size + 1, 1);

	memcpy(s, data, size);
	return s;
}

static const char *
tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t == '/' ? t : "/tmp";
}

const char *
fuzz_file(const uint8_t *data, size_t size, const char *suffix)
{
	static char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/rbx-fuzz-%d%s", tmpdir(), (int)getpid(), suffix);
	fp = fopen(path, "w");
	if (fp) {
		fwrite(data, 1, size, fp);
		fclose(fp);
	}
	return path;
}

const char *
fuzz_state_dir(void)
{
	static char dir[512];
	struct rbx_err err;

	if (!*dir) {
		snprintf(dir, sizeof(dir), "%s/rbx-fuzz-state-%d", tmpdir(), (int)getpid());
		setenv("RBX_STATE_DIR", dir, 1);
	}
	util_rm_rf(dir);
	util_mkdir_p(dir, 0700, &err);
	return dir;
}

char *
fuzz_split(const uint8_t *data, size_t size, char **rest)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t n = nl ? (size_t)(nl - data) : size;

	*rest = nl ? fuzz_string(nl + 1, size - n - 1) : xstrdup("");
	return fuzz_string(data, n);
}
