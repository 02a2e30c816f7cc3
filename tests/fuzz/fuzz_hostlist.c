/* fuzz_hostlist.c - Slurm hostlists two ways: expanded to names, and matched digit by
 * digit without expanding. The two must agree: every expanded name matches, and a name
 * matches only if the expansion holds it. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "core/hostlist.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name, *pattern = fuzz_split(data, size, &name);
	struct rbx_err err;
	size_t n = 0, i;
	char **v = hostlist_expand(pattern, &n, &err);
	bool in = false;

	for (i = 0; v && i < n; i++) {
		if (i < 200 && !hostlist_match(pattern, v[i]))
			abort(); /* expanded, yet not matched */
		in = in || !strcmp(v[i], name);
	}
	if (hostlist_match(pattern, name) != in)
		abort(); /* the matcher and the expansion disagree about name */
	hostlist_free(v, n);
	free(pattern);
	free(name);
	return 0;
}
