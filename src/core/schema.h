/* schema.h - the runbook format as data: every object, its keys, their types.
 * The loader validates against it, lint reads it, `rbx schema` renders it. */
#ifndef RBX_SCHEMA_H
#define RBX_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

enum field_type {
	FT_STRING,   /* a scalar */
	FT_TEMPLATE, /* a scalar that may hold {{...}} templates */
	FT_SLUG,     /* [a-z0-9-]+ */
	FT_INT,
	FT_BOOL,
	FT_DURATION, /* 90s, 10m, 2h */
	FT_REGEX,    /* POSIX extended regex */
	FT_ENUM,     /* one of .choices */
	FT_STRINGS,  /* a list of scalars */
	FT_MAP,      /* a mapping of scalars to scalars */
	FT_OBJECT,   /* a mapping described by .object */
	FT_OBJECTS,  /* a list of .object */
	FT_MIXED,    /* more than one shape; .doc says which */
};

#define F_REQUIRED 0x1u
#define F_ACTION 0x2u /* one of a step's actions: exactly one per step */

struct field {
	const char *key;
	enum field_type type;
	unsigned flags;
	const char *object;	    /* FT_OBJECT/FT_OBJECTS: schema name */
	const char *const *choices; /* FT_ENUM: NULL-terminated */
	const char *doc;
};

struct schema {
	const char *name;
	const char *doc;
	const struct field *fields; /* terminated by a NULL key */
};

const struct schema *schema_get(const char *name);
const struct field *schema_field(const struct schema *s, const char *key);
/* The closest known key within two edits, for "did you mean" (NULL if none). */
const char *schema_suggest(const struct schema *s, const char *key);
const char *field_type_name(enum field_type t);
/* All schemas, NULL-terminated, in the order the docs present them. */
const struct schema *const *schema_all(void);
/* Render the schema as Markdown tables (docs/runbook-format.md's reference part). */
void schema_print_markdown(FILE *fp);

/* The schema as JSON Schema 2020-12 (schema_json.c; a new reference). */
json_t *schema_json(void);

extern const char *const schema_subsystems[];
extern const char *const schema_actions[];

#endif
