/* template.h - {{node}}, {{params.X}}, {{captures.X}}, {{run.id}}, {{attempt}}.
 * In shell commands a template becomes a variable reference; its value goes in the environment. */
#ifndef RBX_TEMPLATE_H
#define RBX_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

struct runbook;

enum tmpl_mode {
	/*
	 * Shell commands: {{params.gpu}} becomes "${RBX_P_gpu}" (written for its quoting
	 * context) and the value is put in ctx->vars, for the command's environment.
	 */
	TMPL_SHELL,
	TMPL_TEXT,  /* values as they are (confirm questions, header values; see run_http) */
	/*
	 * JSON bodies: inside a JSON string a value is escaped as string content;
	 * elsewhere it becomes a whole JSON string. No value can add a key or a value.
	 */
	TMPL_JSON,
	TMPL_URL,   /* values percent-encoded */
};

struct tmpl_ctx {
	const char *node;
	const char *run_id;
	int attempt;
	const struct strmap *params;
	const struct strmap *captures;
	const struct runbook *rb; /* to know which params are secret */
	bool redact;		  /* secret params render as *** */
	bool plan;		  /* captures not known yet stay as {{captures.X}} */
	const struct strmap *extra; /* more names, e.g. "reason" for guard commands (RBX_REASON) */
	struct strmap *vars;	    /* TMPL_SHELL: filled with NAME -> value of each reference */
};

/* The variable a template name stands for in a shell command: RBX_NODE, RBX_P_gpu, ... */
int template_var_name(const char *name, char *out, size_t n);

/* Render tmpl into out. -1 with err on an unknown name or a broken template. */
int template_render(const char *tmpl, enum tmpl_mode mode, const struct tmpl_ctx *c,
		    struct buf *out, struct rbx_err *err);

/*
 * Call fn for every {{name}} in tmpl with the trimmed name and the byte offset
 * of the "{{". Returns -1 with err on a syntax error (an unclosed "{{"), or
 * fn's first non-zero return.
 */
typedef int (*tmpl_visit_fn)(void *arg, const char *name, size_t offset);
int template_each(const char *tmpl, tmpl_visit_fn fn, void *arg, struct rbx_err *err);

/*
 * Whether a {{...}} at `offset` of a shell command sits somewhere rbx cannot
 * reference safely: inside ${...}, an arithmetic $((...)), `...`, a quoted
 * here-document, or after something the lexer cannot follow. Returns a reason or NULL.
 */
const char *template_shell_context_error(const char *tmpl, size_t offset);

#endif
