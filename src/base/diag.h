/* diag.h - positioned diagnostics: file:line:col: message, collected in one pass.
 * The loader and lint add to a list; only main decides how to print it. */
#ifndef RBX_DIAG_H
#define RBX_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct srcpos {
	int line; /* 1-based; 0 = unknown */
	int col;  /* 1-based */
};

enum diag_level { DIAG_ERROR, DIAG_WARNING };

struct diag {
	enum diag_level level;
	char *file;
	struct srcpos pos;
	char *msg;
};

struct diags {
	struct diag *v;
	size_t n;
	size_t alloc;
	size_t nerrors;
};

void diags_init(struct diags *d);
void diags_add(struct diags *d, enum diag_level level, const char *file, struct srcpos pos,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Every diagnostic, one "file:line:col: level: message" line each (allocated). */
char *diags_text(const struct diags *d);
void diags_release(struct diags *d);

#endif
