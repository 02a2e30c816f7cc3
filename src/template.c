/* template.c - renders {{...}} templates; in shell commands, quotes each value
 * for the quoting context it lands in, so no value can ever become code. */
#include "rbx/template.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbx/runbook.h"

/*
 * A small lexer of POSIX sh quoting. It tracks only what decides how a value
 * must be quoted: unquoted text (also inside $(...) and `...`), '...', "...",
 * and the two places no quoting helps, ${...} and $((...)).
 */
enum sh_ctx { SH_UNQ, SH_SQ, SH_DQ, SH_CMDSUB, SH_BQ, SH_BRACE, SH_ARITH };

#define SH_MAX_DEPTH 64

struct sh_lex {
	enum sh_ctx ctx[SH_MAX_DEPTH];
	int parens[SH_MAX_DEPTH];
	int top;
	bool at_word_start;
};

static void
lex_init(struct sh_lex *l)
{
	l->top = 0;
	l->ctx[0] = SH_UNQ;
	l->parens[0] = 0;
	l->at_word_start = true;
}

static void
lex_push(struct sh_lex *l, enum sh_ctx c)
{
	if (l->top + 1 >= SH_MAX_DEPTH)
		return;
	l->top++;
	l->ctx[l->top] = c;
	l->parens[l->top] = 0;
}

static void
lex_pop(struct sh_lex *l)
{
	if (l->top > 0)
		l->top--;
}

/* Consume the shell text at s[*i] (one token's worth) and update the context. */
static void
lex_step(struct sh_lex *l, const char *s, size_t *i)
{
	enum sh_ctx c = l->ctx[l->top];
	char ch = s[*i];
	bool word_start = l->at_word_start;

	l->at_word_start = false;
	if (c == SH_SQ) {
		if (ch == '\'')
			lex_pop(l);
		(*i)++;
		return;
	}
	if (c == SH_BRACE) {
		if (ch == '}')
			lex_pop(l);
		(*i)++;
		return;
	}
	if (c == SH_ARITH) {
		if (ch == '(')
			l->parens[l->top]++;
		else if (ch == ')' && l->parens[l->top] > 0)
			l->parens[l->top]--;
		else if (ch == ')' && s[*i + 1] == ')') {
			lex_pop(l);
			(*i)++;
		}
		(*i)++;
		return;
	}
	if (ch == '\\') {
		*i += s[*i + 1] ? 2 : 1;
		return;
	}
	if (ch == '$' && s[*i + 1] == '(' && s[*i + 2] == '(') {
		lex_push(l, SH_ARITH);
		*i += 3;
		return;
	}
	if (ch == '$' && s[*i + 1] == '(') {
		lex_push(l, SH_CMDSUB);
		l->at_word_start = true;
		*i += 2;
		return;
	}
	if (ch == '$' && s[*i + 1] == '{') {
		lex_push(l, SH_BRACE);
		*i += 2;
		return;
	}
	if (ch == '`') {
		if (c == SH_BQ)
			lex_pop(l);
		else
			lex_push(l, SH_BQ);
		l->at_word_start = true;
		(*i)++;
		return;
	}
	if (c == SH_DQ) {
		if (ch == '"')
			lex_pop(l);
		(*i)++;
		return;
	}
	/* Code context: unquoted, $(...) or `...`. */
	if (ch == '\'') {
		lex_push(l, SH_SQ);
	} else if (ch == '"') {
		lex_push(l, SH_DQ);
	} else if (ch == '(') {
		l->parens[l->top]++;
		l->at_word_start = true;
	} else if (ch == ')') {
		if (c == SH_CMDSUB && l->parens[l->top] == 0)
			lex_pop(l);
		else if (l->parens[l->top] > 0)
			l->parens[l->top]--;
	} else if (ch == '#' && word_start) {
		/* A comment runs to the end of the line. */
		while (s[*i] && s[*i] != '\n')
			(*i)++;
		return;
	} else if (isspace((unsigned char)ch) || ch == ';' || ch == '|' || ch == '&') {
		l->at_word_start = true;
	}
	(*i)++;
}

/* Find the next "{{" at or after from; set *end past its "}}". */
static const char *
find_template(const char *s, size_t from, size_t *name_start, size_t *name_end, size_t *end,
	      struct rbx_err *err)
{
	const char *open = strstr(s + from, "{{"), *close;

	if (!open)
		return NULL;
	close = strstr(open + 2, "}}");
	if (!close) {
		err_set(err, "unclosed '{{' at offset %zu", (size_t)(open - s));
		return (const char *)-1;
	}
	*name_start = (size_t)(open - s) + 2;
	*name_end = (size_t)(close - s);
	while (*name_start < *name_end && isspace((unsigned char)s[*name_start]))
		(*name_start)++;
	while (*name_end > *name_start && isspace((unsigned char)s[*name_end - 1]))
		(*name_end)--;
	*end = (size_t)(close - s) + 2;
	return open;
}

int
template_each(const char *tmpl, tmpl_visit_fn fn, void *arg, struct rbx_err *err)
{
	size_t pos = 0;

	for (;;) {
		size_t ns, ne, end;
		const char *open = find_template(tmpl, pos, &ns, &ne, &end, err);
		char *name;
		int r;

		if (!open)
			return 0;
		if (open == (const char *)-1)
			return -1;
		name = xstrndup(tmpl + ns, ne - ns);
		r = fn(arg, name, (size_t)(open - tmpl));
		free(name);
		if (r)
			return r;
		pos = end;
	}
}

const char *
template_shell_context_error(const char *tmpl, size_t offset)
{
	struct sh_lex l;
	size_t i = 0;

	lex_init(&l);
	while (i < offset && tmpl[i]) {
		if (tmpl[i] == '{' && tmpl[i + 1] == '{') {
			const char *close = strstr(tmpl + i + 2, "}}");
			if (!close)
				break;
			i = (size_t)(close - tmpl) + 2;
			continue;
		}
		lex_step(&l, tmpl, &i);
	}
	if (l.ctx[l.top] == SH_BRACE)
		return "a template inside ${...} cannot be quoted safely";
	if (l.ctx[l.top] == SH_ARITH)
		return "a template inside $((...)) cannot be quoted safely";
	for (; l.top > 0; l.top--)
		if (l.ctx[l.top] == SH_BQ)
			return "a template inside `...` cannot be quoted reliably: use $(...)";
	return NULL;
}

static void
url_encode(struct buf *out, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
			buf_add(out, v, 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			buf_add(out, e, 3);
		}
	}
}

/* Look a name up. Returns the value, or NULL with err; *literal: keep the template as is. */
static const char *
lookup(const struct tmpl_ctx *c, const char *name, char *scratch, size_t n, bool *literal,
       struct rbx_err *err)
{
	*literal = false;
	if (strcmp(name, "node") == 0)
		return c->node ? c->node : "";
	if (strcmp(name, "run.id") == 0) {
		if (!c->run_id)
			*literal = true;
		return c->run_id ? c->run_id : "";
	}
	if (strcmp(name, "attempt") == 0) {
		snprintf(scratch, n, "%d", c->attempt > 0 ? c->attempt : 1);
		return scratch;
	}
	if (strncmp(name, "params.", 7) == 0) {
		const char *v = c->params ? strmap_get(c->params, name + 7) : NULL;
		const struct param *p = c->rb ? runbook_param(c->rb, name + 7) : NULL;
		if (!v && c->plan && p) {
			*literal = true; /* required, not given yet: the plan shows where it goes */
			return "";
		}
		if (!v) {
			err_set(err, "unknown parameter '%s'", name + 7);
			return NULL;
		}
		if (p && p->secret && c->redact)
			return "***";
		return v;
	}
	if (strncmp(name, "captures.", 9) == 0) {
		const char *v = c->captures ? strmap_get(c->captures, name + 9) : NULL;
		if (!v && c->plan)
			*literal = true;
		return v ? v : "";
	}
	err_set(err, "unknown template name '%s' (known: node, params.X, captures.X, run.id, "
		     "attempt)",
		name);
	return NULL;
}

static void
emit_value(struct buf *out, enum tmpl_mode mode, const struct sh_lex *l, const char *v)
{
	enum sh_ctx ctx = l->ctx[l->top];
	struct buf q;

	if (mode == TMPL_TEXT) {
		buf_adds(out, v);
		return;
	}
	if (mode == TMPL_URL) {
		url_encode(out, v);
		return;
	}
	buf_init(&q, 0);
	if (ctx == SH_SQ || ctx == SH_DQ) {
		/* Close the quote, add the value quoted on its own, reopen. */
		buf_adds(&q, ctx == SH_SQ ? "'" : "\"");
		util_shell_quote(&q, v);
		buf_adds(&q, ctx == SH_SQ ? "'" : "\"");
	} else {
		util_shell_quote(&q, v);
	}
	buf_add(out, q.data, q.len);
	buf_release(&q);
}

int
template_render(const char *tmpl, enum tmpl_mode mode, const struct tmpl_ctx *c, struct buf *out,
		struct rbx_err *err)
{
	struct sh_lex l;
	size_t i = 0;

	lex_init(&l);
	while (tmpl[i]) {
		size_t ns, ne, end;
		const char *open;
		char *name, scratch[32];
		const char *v;
		bool literal;

		if (!(tmpl[i] == '{' && tmpl[i + 1] == '{')) {
			size_t start = i;
			if (mode == TMPL_SHELL)
				lex_step(&l, tmpl, &i);
			else
				i++;
			buf_add(out, tmpl + start, i - start);
			continue;
		}
		open = find_template(tmpl, i, &ns, &ne, &end, err);
		if (open == (const char *)-1)
			return -1;
		if (mode == TMPL_SHELL && template_shell_context_error(tmpl, i))
			return err_set(err, "%s", template_shell_context_error(tmpl, i));
		name = xstrndup(tmpl + ns, ne - ns);
		v = lookup(c, name, scratch, sizeof(scratch), &literal, err);
		if (!v) {
			free(name);
			return -1;
		}
		if (literal)
			buf_addf(out, "{{%s}}", name);
		else
			emit_value(out, mode, &l, v);
		free(name);
		i = end;
	}
	return 0;
}
