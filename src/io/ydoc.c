/* ydoc.c - the one YAML walker over libyaml's document API: every reader of YAML in
 * rbx (runbooks, inventories, kubeconfigs) finds nodes, types scalars and reports through it. */
#define _GNU_SOURCE
#include "io/ydoc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

struct keyref {
	const char *key;
	const yaml_node_t *node;
};

static int
by_key_then_place(const void *a, const void *b)
{
	const struct keyref *x = a, *z = b;
	int c = strcmp(x->key, z->key);

	if (c)
		return c;
	return x->node->start_mark.index < z->node->start_mark.index ? -1 : 1;
}

/*
 * YAML forbids a key twice in one mapping, but libyaml loads it, and a reader that
 * takes each key as it comes would load `alertmanager:` twice into one struct. Each
 * later copy is an error at its place, naming the first. Returns how many.
 */
static int
duplicate_keys(struct ydoc *y)
{
	yaml_node_t *n;
	int found = 0;

	for (n = y->doc.nodes.start; n < y->doc.nodes.top; n++) {
		size_t len = ydoc_len(n), i, k = 0;
		struct keyref *v;
		if (n->type != YAML_MAPPING_NODE || len < 2)
			continue;
		v = xcalloc(len, sizeof(*v));
		for (i = 0; i < len; i++) {
			yaml_node_t *key = ydoc_key(y, n, i);
			if (ydoc_scalar(key))
				v[k++] = (struct keyref){ydoc_scalar(key), key};
		}
		qsort(v, k, sizeof(*v), by_key_then_place);
		for (i = 1; i < k; i++) {
			size_t first = i - 1;
			while (first > 0 && !strcmp(v[first - 1].key, v[i].key))
				first--;
			if (strcmp(v[i - 1].key, v[i].key))
				continue;
			ydoc_error(y, v[i].node, "key '%s' given twice (first at %d:%d)", v[i].key,
				   ydoc_pos(v[first].node).line, ydoc_pos(v[first].node).col);
			found++;
		}
		free(v);
	}
	return found;
}

int
ydoc_load(struct ydoc *y, const char *file, const char *text, size_t len, struct diags *d)
{
	yaml_parser_t parser;
	int rc = 0;

	memset(y, 0, sizeof(*y));
	y->file = file;
	y->d = d;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &y->doc)) {
		struct srcpos p = {(int)parser.problem_mark.line + 1,
				   (int)parser.problem_mark.column + 1};
		diags_add(d, DIAG_ERROR, file, p, "YAML: %s%s%s",
			  parser.problem ? parser.problem : "cannot parse",
			  parser.context ? " " : "", parser.context ? parser.context : "");
		rc = -1;
	} else {
		y->loaded = true;
		if (!ydoc_root(y)) {
			struct srcpos p = {1, 1};
			diags_add(d, DIAG_ERROR, file, p, "the file is empty");
			rc = -1;
		} else if (duplicate_keys(y)) {
			rc = -1;
		}
	}
	yaml_parser_delete(&parser);
	return rc;
}

void
ydoc_release(struct ydoc *y)
{
	if (y && y->loaded)
		yaml_document_delete(&y->doc);
	if (y)
		y->loaded = false;
}

yaml_node_t *
ydoc_root(struct ydoc *y)
{
	return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

struct srcpos
ydoc_pos(const yaml_node_t *n)
{
	struct srcpos p = {0, 0};

	if (n) {
		p.line = (int)n->start_mark.line + 1;
		p.col = (int)n->start_mark.column + 1;
	}
	return p;
}

void
ydoc_error(struct ydoc *y, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	diags_add(y->d, DIAG_ERROR, y->file, ydoc_pos(n), "%s", msg ? msg : fmt);
	free(msg);
}

const char *
ydoc_kind(const yaml_node_t *n)
{
	switch (n ? n->type : YAML_NO_NODE) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

const char *
ydoc_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

bool
ydoc_is_map(const yaml_node_t *n)
{
	return n && n->type == YAML_MAPPING_NODE;
}

bool
ydoc_is_seq(const yaml_node_t *n)
{
	return n && n->type == YAML_SEQUENCE_NODE;
}

bool
ydoc_quoted(const yaml_node_t *n)
{
	return ydoc_scalar(n) && (n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
				  n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

size_t
ydoc_len(const yaml_node_t *n)
{
	if (ydoc_is_seq(n))
		return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (ydoc_is_map(n))
		return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	return 0;
}

yaml_node_t *
ydoc_item(struct ydoc *y, yaml_node_t *seq, size_t i)
{
	if (!ydoc_is_seq(seq) || i >= ydoc_len(seq))
		return NULL;
	return yaml_document_get_node(&y->doc, seq->data.sequence.items.start[i]);
}

yaml_node_t *
ydoc_key(struct ydoc *y, yaml_node_t *map, size_t i)
{
	if (!ydoc_is_map(map) || i >= ydoc_len(map))
		return NULL;
	return yaml_document_get_node(&y->doc, map->data.mapping.pairs.start[i].key);
}

yaml_node_t *
ydoc_value(struct ydoc *y, yaml_node_t *map, size_t i)
{
	if (!ydoc_is_map(map) || i >= ydoc_len(map))
		return NULL;
	return yaml_document_get_node(&y->doc, map->data.mapping.pairs.start[i].value);
}

yaml_node_t *
ydoc_get(struct ydoc *y, yaml_node_t *map, const char *key)
{
	size_t i, n = ydoc_is_map(map) ? ydoc_len(map) : 0;

	for (i = 0; i < n; i++) {
		const char *k = ydoc_scalar(ydoc_key(y, map, i));
		if (k && strcmp(k, key) == 0)
			return ydoc_value(y, map, i);
	}
	return NULL;
}

char *
ydoc_get_str(struct ydoc *y, yaml_node_t *map, const char *key)
{
	const char *s = ydoc_scalar(ydoc_get(y, map, key));

	return s ? xstrdup(s) : NULL;
}

bool
ydoc_bool(struct ydoc *y, yaml_node_t *n, const char *key, bool def)
{
	const char *s = ydoc_scalar(n);

	if (!n)
		return def;
	if (s && strcmp(s, "true") == 0)
		return true;
	if (s && strcmp(s, "false") == 0)
		return false;
	ydoc_error(y, n, "'%s' must be true or false, not '%s'", key, s ? s : "?");
	return def;
}

bool
ydoc_int(struct ydoc *y, yaml_node_t *n, const char *key, long lo, long hi, long *out)
{
	const char *s = ydoc_scalar(n);
	char *end;
	long v;

	if (!s || !*s)
		goto bad;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end)
		goto bad;
	if (v < lo || v > hi) {
		ydoc_error(y, n, "'%s' must be between %ld and %ld, not %ld", key, lo, hi, v);
		return false;
	}
	*out = v;
	return true;
bad:
	ydoc_error(y, n, "'%s' must be an integer, not '%s'", key, s ? s : "?");
	return false;
}

long long
ydoc_duration(struct ydoc *y, yaml_node_t *n, const char *key, long long def)
{
	const char *s = ydoc_scalar(n);
	long long v;

	if (!n)
		return def;
	v = util_parse_duration(s);
	if (v < 0) {
		ydoc_error(y, n, "'%s' is not a duration: '%s' (use 90s, 10m, 2h)", key, s ? s : "?");
		return def;
	}
	if (v == 0) {
		ydoc_error(y, n, "'%s' must be longer than zero", key);
		return def;
	}
	return v;
}

char **
ydoc_strings(struct ydoc *y, yaml_node_t *n, const char *key, size_t *count)
{
	char **v;
	size_t i, len = ydoc_len(n);

	*count = 0;
	if (!ydoc_is_seq(n))
		return NULL;
	v = xcalloc(len + 1, sizeof(*v));
	for (i = 0; i < len; i++) {
		yaml_node_t *item = ydoc_item(y, n, i);
		const char *s = ydoc_scalar(item);
		if (!s) {
			ydoc_error(y, item, "items of '%s' must be scalars", key);
			s = "";
		}
		v[(*count)++] = xstrdup(s);
	}
	return v;
}

void
ydoc_strings_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
