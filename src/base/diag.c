/* diag.c - positioned diagnostics, collected so a file's errors show in one pass.
 * Messages read file:line:col: error: text, the shape editors jump to. */
#define _GNU_SOURCE
#include "base/diag.h"

#include <stdarg.h>
#include <stdlib.h>

#include "base/util.h"

void
diags_init(struct diags *d)
{
	d->v = NULL;
	d->n = d->alloc = d->nerrors = 0;
}

void
diags_add(struct diags *d, enum diag_level level, const char *file, struct srcpos pos,
	  const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup(fmt);
	va_end(ap);
	if (d->n == d->alloc) {
		d->alloc = d->alloc ? d->alloc * 2 : 8;
		d->v = xrealloc(d->v, d->alloc * sizeof(*d->v));
	}
	d->v[d->n].level = level;
	d->v[d->n].file = xstrdup(file ? file : "-");
	d->v[d->n].pos = pos;
	d->v[d->n].msg = msg;
	d->n++;
	if (level == DIAG_ERROR)
		d->nerrors++;
}

char *
diags_text(const struct diags *d)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		const char *lvl = g->level == DIAG_ERROR ? "error" : "warning";
		if (g->pos.line > 0)
			buf_addf(&b, "%s:%d:%d: %s: %s\n", g->file, g->pos.line, g->pos.col, lvl,
				 g->msg);
		else
			buf_addf(&b, "%s: %s: %s\n", g->file, lvl, g->msg);
	}
	return buf_detach(&b);
}

void
diags_release(struct diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	diags_init(d);
}
