/* runbook_yaml.c - the loader's schema checks over the YAML walker (io/ydoc.c): a
 * mapping against its schema table, enums, regexes and identifiers. */
#define _GNU_SOURCE
#include "core/runbook.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/runbook_internal.h"
#include "core/schema.h"

bool
loader_shape_ok(struct loader *L, const struct field *f, yaml_node_t *v, const char *where)
{
	const char *want;
	bool ok;

	switch (f->type) {
	case FT_STRINGS:
	case FT_OBJECTS:
		want = "a list";
		ok = ydoc_is_seq(v);
		break;
	case FT_MAP:
	case FT_OBJECT:
		want = "a mapping";
		ok = ydoc_is_map(v);
		break;
	case FT_MIXED:
		return true;
	default:
		want = "a scalar";
		ok = ydoc_scalar(v) != NULL;
		break;
	}
	if (!ok)
		ydoc_error(L->y, v, "'%s' in %s must be %s, not %s", f->key, where, want,
			   ydoc_kind(v));
	return ok;
}

/*
 * Check a mapping against its schema: known keys (with a suggestion), no
 * duplicates, required keys present, each value of the right shape. Returns
 * false if the mapping is unusable or any value has the wrong shape.
 */
bool
loader_check_object(struct loader *L, yaml_node_t *map, const char *schema_name, const char *where)
{
	const struct schema *s = schema_get(schema_name);
	const struct field *f;
	size_t i, j;
	bool ok = true;

	if (!ydoc_is_map(map)) {
		ydoc_error(L->y, map, "%s must be a mapping, not %s", where, ydoc_kind(map));
		return false;
	}
	for (i = 0; i < ydoc_len(map); i++) {
		yaml_node_t *kn = ydoc_key(L->y, map, i);
		const char *k = ydoc_scalar(kn);

		if (!k) {
			ydoc_error(L->y, kn, "keys in %s must be scalars", where);
			ok = false;
			continue;
		}
		for (j = 0; j < i; j++) {
			const char *k2 = ydoc_scalar(ydoc_key(L->y, map, j));
			if (k2 && strcmp(k, k2) == 0) {
				ydoc_error(L->y, kn, "duplicate key '%s' in %s", k, where);
				break;
			}
		}
		f = schema_field(s, k);
		if (!f) {
			const char *hint = schema_suggest(s, k);
			if (hint)
				ydoc_error(L->y, kn, "unknown key '%s' in %s (did you mean '%s'?)", k,
					 where, hint);
			else
				ydoc_error(L->y, kn, "unknown key '%s' in %s", k, where);
			continue;
		}
		if (!loader_shape_ok(L, f, ydoc_value(L->y, map, i), where))
			ok = false;
	}
	for (f = s->fields; f->key; f++)
		if ((f->flags & F_REQUIRED) && !ydoc_get(L->y, map, f->key))
			ydoc_error(L->y, map, "%s is missing required key '%s'", where, f->key);
	return ok;
}

/* Compile an extended regex; on failure report it at n. */
bool
loader_compile_re(struct loader *L, yaml_node_t *n, const char *key, const char *pattern, regex_t *re)
{
	/* ^ and $ match at line ends, as in grep: step output is read line by line. */
	int rc = regcomp(re, pattern, REG_EXTENDED | REG_NEWLINE);
	char msg[256];

	if (rc == 0)
		return true;
	regerror(rc, re, msg, sizeof(msg));
	ydoc_error(L->y, n, "'%s' is not a valid regex: %s", key, msg);
	return false;
}

int
loader_enum_index(const char *const *choices, const char *s)
{
	int i;

	for (i = 0; s && choices[i]; i++)
		if (strcmp(choices[i], s) == 0)
			return i;
	return -1;
}

bool
loader_check_enum(struct loader *L, yaml_node_t *map, const char *schema_name, const char *key,
	   int *out)
{
	const struct field *f = schema_field(schema_get(schema_name), key);
	yaml_node_t *n = ydoc_get(L->y, map, key);
	const char *s = ydoc_scalar(n);
	int i;

	if (!n)
		return false;
	i = loader_enum_index(f->choices, s);
	if (i < 0) {
		struct buf b;
		const char *const *c;

		buf_init(&b, 0);
		for (c = f->choices; *c; c++)
			buf_addf(&b, "%s%s", c == f->choices ? "" : ", ", *c);
		ydoc_error(L->y, n, "'%s' must be one of %s, not '%s'", key, b.data, s ? s : "?");
		buf_release(&b);
		return false;
	}
	*out = i;
	return true;
}

bool
loader_valid_ident(const char *s)
{
	if (!s || !(islower((unsigned char)*s) || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}
