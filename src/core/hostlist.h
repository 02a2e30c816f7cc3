/* hostlist.h - Slurm-style hostlists: a[01-02]-b[1-2],c names a01-b1, a01-b2, a02-b1,
 * a02-b2 and c; zero-padded ranges make padded names. At most 100,000 names. */
#ifndef RBX_HOSTLIST_H
#define RBX_HOSTLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

/* Expand a hostlist into names; NULL with err on a bad one (or one of too many names). */
char **hostlist_expand(const char *pattern, size_t *n, struct rbx_err *err);
void hostlist_free(char **names, size_t n);
/* Whether name is one of the hostlist's names (a bad hostlist names none), unexpanded. */
bool hostlist_match(const char *pattern, const char *name);

#endif
