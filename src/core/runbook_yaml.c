/* runbook_yaml.c - the loader's YAML helpers: positions, errors at file:line:col,
 * typed scalars, and checks of a mapping against the schema table. */
#define _GNU_SOURCE
#include "core/runbook.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "core/schema.h"
#include "core/template.h"
#include "base/util.h"

#ifndef RBX_SHARE_DIR
#define RBX_SHARE_DIR "/usr/local/share/rbx"
#endif

#include "core/runbook_internal.h"


struct srcpos
loader_node_pos(const yaml_node_t *n)
{
	struct srcpos p = {0, 0};

	if (n) {
		p.line = (int)n->start_mark.line + 1;
		p.col = (int)n->start_mark.column + 1;
	}
	return p;
}

void __attribute__((format(printf, 3, 4)))
loader_error_at(struct loader *L, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	diags_add(L->d, DIAG_ERROR, L->file, loader_node_pos(n), "%s", msg ? msg : fmt);
	free(msg);
}

yaml_node_t *
loader_node_at(struct loader *L, int idx)
{
	return yaml_document_get_node(L->doc, idx);
}

const char *
loader_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

const char *
loader_node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

/* The value node under key in a mapping (NULL if absent). */
yaml_node_t *
loader_map_get(struct loader *L, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = loader_scalar(loader_node_at(L, p->key));
		if (k && strcmp(k, key) == 0)
			return loader_node_at(L, p->value);
	}
	return NULL;
}

size_t
loader_seq_len(const yaml_node_t *n)
{
	return n && n->type == YAML_SEQUENCE_NODE
		       ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start)
		       : 0;
}

yaml_node_t *
loader_seq_item(struct loader *L, yaml_node_t *n, size_t i)
{
	return loader_node_at(L, n->data.sequence.items.start[i]);
}

bool
loader_shape_ok(struct loader *L, const struct field *f, yaml_node_t *v, const char *where)
{
	yaml_node_type_t want;

	switch (f->type) {
	case FT_STRINGS:
	case FT_OBJECTS:
		want = YAML_SEQUENCE_NODE;
		break;
	case FT_MAP:
	case FT_OBJECT:
		want = YAML_MAPPING_NODE;
		break;
	case FT_MIXED:
		return true;
	default:
		want = YAML_SCALAR_NODE;
		break;
	}
	if (v->type == want)
		return true;
	loader_error_at(L, v, "'%s' in %s must be %s, not %s", f->key, where,
		 want == YAML_SEQUENCE_NODE ? "a list"
		 : want == YAML_MAPPING_NODE ? "a mapping"
					     : "a scalar",
		 loader_node_kind(v));
	return false;
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
	yaml_node_pair_t *p, *q;
	bool ok = true;

	if (!map || map->type != YAML_MAPPING_NODE) {
		loader_error_at(L, map, "%s must be a mapping, not %s", where,
			 map ? loader_node_kind(map) : "nothing");
		return false;
	}
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = loader_node_at(L, p->key);
		const char *k = loader_scalar(kn);

		if (!k) {
			loader_error_at(L, kn, "keys in %s must be scalars", where);
			ok = false;
			continue;
		}
		for (q = map->data.mapping.pairs.start; q < p; q++) {
			const char *k2 = loader_scalar(loader_node_at(L, q->key));
			if (k2 && strcmp(k, k2) == 0) {
				loader_error_at(L, kn, "duplicate key '%s' in %s", k, where);
				break;
			}
		}
		f = schema_field(s, k);
		if (!f) {
			const char *hint = schema_suggest(s, k);
			if (hint)
				loader_error_at(L, kn, "unknown key '%s' in %s (did you mean '%s'?)", k,
					 where, hint);
			else
				loader_error_at(L, kn, "unknown key '%s' in %s", k, where);
			continue;
		}
		if (!loader_shape_ok(L, f, loader_node_at(L, p->value), where))
			ok = false;
	}
	for (f = s->fields; f->key; f++)
		if ((f->flags & F_REQUIRED) && !loader_map_get(L, map, f->key))
			loader_error_at(L, map, "%s is missing required key '%s'", where, f->key);
	return ok;
}

char *
loader_get_str(struct loader *L, yaml_node_t *map, const char *key)
{
	const char *s = loader_scalar(loader_map_get(L, map, key));
	(void)L;
	return s ? xstrdup(s) : NULL;
}

bool
loader_parse_bool(struct loader *L, yaml_node_t *n, const char *key, bool def)
{
	const char *s = loader_scalar(n);

	if (!n)
		return def;
	if (s && strcmp(s, "true") == 0)
		return true;
	if (s && strcmp(s, "false") == 0)
		return false;
	loader_error_at(L, n, "'%s' must be true or false, not '%s'", key, s ? s : "?");
	return def;
}

bool
loader_parse_int(struct loader *L, yaml_node_t *n, const char *key, long lo, long hi, long *out)
{
	const char *s = loader_scalar(n);
	char *end;
	long v;

	if (!s || !*s)
		goto bad;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end)
		goto bad;
	if (v < lo || v > hi) {
		loader_error_at(L, n, "'%s' must be between %ld and %ld, not %ld", key, lo, hi, v);
		return false;
	}
	*out = v;
	return true;
bad:
	loader_error_at(L, n, "'%s' must be an integer, not '%s'", key, s ? s : "?");
	return false;
}

long long
loader_parse_duration_node(struct loader *L, yaml_node_t *n, const char *key, long long def)
{
	const char *s = loader_scalar(n);
	long long v;

	if (!n)
		return def;
	v = util_parse_duration(s);
	if (v < 0) {
		loader_error_at(L, n, "'%s' is not a duration: '%s' (use 90s, 10m, 2h)", key,
			 s ? s : "?");
		return def;
	}
	if (v == 0) {
		loader_error_at(L, n, "'%s' must be longer than zero", key);
		return def;
	}
	return v;
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
	loader_error_at(L, n, "'%s' is not a valid regex: %s", key, msg);
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
	yaml_node_t *n = loader_map_get(L, map, key);
	const char *s = loader_scalar(n);
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
		loader_error_at(L, n, "'%s' must be one of %s, not '%s'", key, b.data, s ? s : "?");
		buf_release(&b);
		return false;
	}
	*out = i;
	return true;
}

char **
loader_get_strings(struct loader *L, yaml_node_t *n, const char *key, size_t *count)
{
	char **v;
	size_t i, len = loader_seq_len(n);

	*count = 0;
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return NULL;
	v = xcalloc(len + 1, sizeof(*v));
	for (i = 0; i < len; i++) {
		yaml_node_t *item = loader_seq_item(L, n, i);
		const char *s = loader_scalar(item);
		if (!s) {
			loader_error_at(L, item, "items of '%s' must be scalars", key);
			s = "";
		}
		v[(*count)++] = xstrdup(s);
	}
	return v;
}

void
loader_free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
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

