/* hostlist.c - Slurm hostlists (n[001-128], a[01-02]-b[1-2], gpu-[1-4,7]): expanded to
 * names, and matched against a name digit by digit, without expanding. */
#include "core/hostlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOSTLIST_MAX 100000

static void
push(char ***v, size_t *n, size_t *alloc, char *s)
{
	if (*n == *alloc) {
		*alloc = *alloc ? *alloc * 2 : 16;
		*v = xrealloc(*v, *alloc * sizeof(**v));
	}
	(*v)[(*n)++] = s;
}

/* One range of a bracket: n[lo-hi] or n[v]; width > 0 when zero-padded (n[001-128]). */
struct hl_range {
	long lo, hi;
	int width;
};

/* The ranges between '[' and ']' (ranges: their text), as expand and match both read them. */
static int
parse_ranges(const char *t, const char *text, struct hl_range **out, size_t *n, struct rbx_err *err)
{
	char *copy = xstrdup(text), *save = NULL, *r;
	int rc = 0;

	*out = NULL;
	*n = 0;
	for (r = strtok_r(copy, ",", &save); r && rc == 0; r = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(r, '-'), *end;
		struct hl_range g;

		g.width = r[0] == '0' ? (dash ? (int)(dash - r) : (int)strlen(r)) : 0;
		/* Node numbers fit 18 digits; strtol would clamp more to LONG_MAX, and the
		 * expansion's v++ overflow (fuzz_hostlist found it). */
		if (strspn(r, "0123456789") > 18 || (dash && strspn(dash + 1, "0123456789") > 18)) {
			rc = err_set(err, "hostlist '%s': '%s' is not a node number", t, r);
			break;
		}
		g.lo = strtol(r, &end, 10);
		if (end == r || (dash ? end != dash : *end)) {
			rc = err_set(err, "hostlist '%s': '%s' is not a number or a range", t, r);
			break;
		}
		g.hi = dash ? strtol(dash + 1, &end, 10) : g.lo;
		if (dash && (end == dash + 1 || *end)) {
			rc = err_set(err, "hostlist '%s': '%s' is not a range", t, r);
			break;
		}
		if (g.hi < g.lo || g.hi - g.lo > HOSTLIST_MAX) {
			rc = err_set(err, "hostlist '%s': range '%s' is empty or too large", t, r);
			break;
		}
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = g;
	}
	free(copy);
	if (rc == 0 && !*n) /* n[] or n[,]: no number at all */
		rc = err_set(err, "hostlist '%s': '[%s]' holds no number or range", t, text);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* Split a term at its first bracket: prefix, the ranges' text, the rest after ']'. */
static int
split_term(const char *t, char **prefix, char **ranges, const char **rest, struct rbx_err *err)
{
	const char *open = strchr(t, '['), *close;

	if (!open)
		return strchr(t, ']') ? err_set(err, "hostlist '%s': ']' without '['", t) : 0;
	close = strchr(open, ']');
	if (!close)
		return err_set(err, "hostlist '%s': '[' without ']'", t);
	*prefix = xstrndup(t, (size_t)(open - t));
	*ranges = xstrndup(open + 1, (size_t)(close - open - 1));
	*rest = close + 1;
	return 1;
}

/* Expand one term (no top-level commas): prefix[ranges]rest... */
static int
expand_term(const char *t, char ***out, size_t *n, size_t *alloc, struct rbx_err *err)
{
	char *prefix = NULL, *ranges = NULL;
	const char *rest = NULL;
	struct hl_range *g = NULL;
	size_t ng = 0, i;
	int rc = split_term(t, &prefix, &ranges, &rest, err);

	if (rc == 0) {
		push(out, n, alloc, xstrdup(t));
		return 0;
	}
	if (rc > 0)
		rc = parse_ranges(t, ranges, &g, &ng, err);
	for (i = 0; i < ng && rc == 0; i++) {
		long v;
		for (v = g[i].lo; v <= g[i].hi && rc == 0; v++) {
			char *head = xasprintf("%s%0*ld", prefix, g[i].width, v);
			char **sub = NULL;
			size_t ns = 0, as = 0, k;
			/* The rest may hold more brackets: a[01-02]-b[1-2]. */
			rc = expand_term(rest, &sub, &ns, &as, err);
			for (k = 0; k < ns; k++) {
				if (rc == 0 && *n >= HOSTLIST_MAX)
					rc = err_set(err, "hostlist '%s' names more than %d nodes", t,
						     HOSTLIST_MAX);
				if (rc == 0)
					push(out, n, alloc, xasprintf("%s%s", head, sub[k]));
				free(sub[k]);
			}
			free(sub);
			free(head);
		}
	}
	free(g);
	free(prefix);
	free(ranges);
	return rc;
}

/*
 * How many names a term stands for, without making them (-1 with err if it is not a
 * hostlist, or names more than HOSTLIST_MAX: as expand refuses it).
 */
static long
term_count(const char *t, struct rbx_err *err)
{
	char *prefix = NULL, *ranges = NULL;
	const char *rest = NULL;
	struct hl_range *g = NULL;
	size_t ng = 0, i;
	long count = 0, sub;
	int rc = split_term(t, &prefix, &ranges, &rest, err);

	if (rc == 0)
		return 1;
	if (rc > 0)
		rc = parse_ranges(t, ranges, &g, &ng, err);
	sub = rc == 0 ? term_count(rest, err) : -1;
	for (i = 0; i < ng && sub >= 0 && count <= HOSTLIST_MAX; i++)
		count += (g[i].hi - g[i].lo + 1) * sub; /* each factor <= HOSTLIST_MAX + 1 */
	free(g);
	free(prefix);
	free(ranges);
	if (sub < 0)
		return -1;
	if (count > HOSTLIST_MAX)
		return err_set(err, "hostlist '%s' names more than %d nodes", t, HOSTLIST_MAX);
	return count;
}

/* Whether name is one of a term's names, read digit by digit: no expansion. */
static bool
match_term(const char *t, const char *name)
{
	char *prefix = NULL, *ranges = NULL;
	const char *rest = NULL, *p;
	struct hl_range *g = NULL;
	struct rbx_err err;
	size_t ng = 0, i, k, digits;
	bool hit = false;
	int rc = split_term(t, &prefix, &ranges, &rest, &err);

	if (rc == 0)
		return !strcmp(t, name);
	if (rc < 0 || !prefix || strncmp(name, prefix, strlen(prefix)) ||
	    parse_ranges(t, ranges, &g, &ng, &err) < 0)
		goto out;
	p = name + strlen(prefix);
	digits = strspn(p, "0123456789");
	for (k = 1; k <= digits && k <= 18 && !hit; k++) {
		char want[32];
		long v = 0;
		for (i = 0; i < k; i++)
			v = v * 10 + (p[i] - '0');
		for (i = 0; i < ng && !hit; i++) {
			/* The very text expand would make for v: same value, same padding. */
			snprintf(want, sizeof(want), "%0*ld", g[i].width, v);
			if (v >= g[i].lo && v <= g[i].hi && strlen(want) == k && !strncmp(want, p, k))
				hit = match_term(rest, p + k);
		}
	}
out:
	free(g);
	free(prefix);
	free(ranges);
	return hit;
}

/* Split a pattern at its top-level commas, calling fn for each term; stops at fn's -1. */
static int
each_term(const char *pattern, int (*fn)(const char *term, void *arg), void *arg)
{
	size_t start = 0, i, depth = 0, len = strlen(pattern);
	int rc = 0;

	for (i = 0; i <= len && rc >= 0; i++) {
		if (pattern[i] == '[')
			depth++;
		else if (pattern[i] == ']' && depth)
			depth--;
		if ((pattern[i] == ',' && depth == 0) || pattern[i] == 0) {
			char *term = xstrndup(pattern + start, i - start);
			rc = fn(term, arg);
			free(term);
			start = i + 1;
		}
	}
	return rc;
}

struct expand_walk {
	const char *pattern;
	char **out;
	size_t n, alloc;
	struct rbx_err *err;
};

static int
expand_one(const char *term, void *arg)
{
	struct expand_walk *w = arg;

	if (!*term)
		return err_set(w->err, "hostlist '%s' has an empty name", w->pattern);
	return expand_term(term, &w->out, &w->n, &w->alloc, w->err);
}

char **
hostlist_expand(const char *pattern, size_t *n, struct rbx_err *err)
{
	struct expand_walk w = {pattern, NULL, 0, 0, err};

	if (each_term(pattern, expand_one, &w) < 0) {
		hostlist_free(w.out, w.n);
		*n = 0;
		return NULL;
	}
	*n = w.n;
	return w.out;
}

void
hostlist_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

struct match_walk {
	const char *name;
	long total;
	bool hit;
};

static int
count_one(const char *term, void *arg)
{
	struct match_walk *w = arg;
	struct rbx_err err;
	long n = *term ? term_count(term, &err) : -1;

	if (n < 0 || (w->total += n) > HOSTLIST_MAX)
		return -1;
	return 0;
}

static int
match_one(const char *term, void *arg)
{
	struct match_walk *w = arg;

	w->hit = w->hit || match_term(term, w->name);
	return 0;
}

/*
 * Whether name is one of pattern's names, without expanding it: a node's entries are
 * matched for every node of the inventory, and a pattern may stand for 100,000 names.
 * A pattern expand would refuse matches nothing.
 */
bool
hostlist_match(const char *pattern, const char *name)
{
	struct match_walk w = {name, 0, false};

	if (each_term(pattern, count_one, &w) < 0)
		return false;
	each_term(pattern, match_one, &w);
	return w.hit;
}

