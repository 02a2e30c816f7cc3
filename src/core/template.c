/* template.c - renders {{...}} templates; in shell commands, quotes each value
 * for the quoting context it lands in, so no value can ever become code. */
#include "core/template.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/runbook.h"

/*
 * A small lexer of POSIX sh quoting. It tracks only what decides how a value's
 * reference must be written: code (unquoted text, also inside $(...) and
 * `...`), '...', "...", here-document bodies, and the places where even a
 * variable's value is evaluated, ${...} and $((...)). A value itself never
 * enters the shell text: the text names a variable (RBX_P_<name> and so on),
 * and the value reaches the shell through its environment. A mistake of this
 * lexer can therefore split a value or print a reference literally, but never
 * run a value as code.
 */
enum sh_ctx { SH_UNQ, SH_SQ, SH_DQ, SH_CMDSUB, SH_BQ, SH_BRACE, SH_ARITH, SH_HEREDOC, SH_HEREDOC_Q };

#define SH_MAX_DEPTH 64
#define SH_MAX_HEREDOCS 8

struct heredoc {
	char delim[64];
	bool strip_tabs; /* <<- */
	bool quoted;	 /* <<'EOF', <<"EOF", <<\EOF: no expansion in the body */
};

struct sh_lex {
	enum sh_ctx ctx[SH_MAX_DEPTH];
	int parens[SH_MAX_DEPTH];
	int cases[SH_MAX_DEPTH]; /* open `case` statements at this level: their `)` close patterns */
	int top;
	bool at_word_start;
	struct heredoc pending[SH_MAX_HEREDOCS]; /* announced, body not started yet */
	int npending;
	struct heredoc body; /* the body being read (ctx SH_HEREDOC*) */
	const char *error;   /* something rbx cannot follow: no template after it */
};

static void
lex_init(struct sh_lex *l)
{
	memset(l, 0, sizeof(*l));
	l->ctx[0] = SH_UNQ;
	l->at_word_start = true;
}

static void
lex_push(struct sh_lex *l, enum sh_ctx c)
{
	if (l->top + 1 >= SH_MAX_DEPTH) {
		l->error = "the command nests quotes too deeply to follow";
		return;
	}
	l->top++;
	l->ctx[l->top] = c;
	l->parens[l->top] = 0;
	l->cases[l->top] = 0;
}

static void
lex_pop(struct sh_lex *l)
{
	if (l->top > 0)
		l->top--;
}

static bool
is_code(enum sh_ctx c)
{
	return c == SH_UNQ || c == SH_CMDSUB || c == SH_BQ;
}

/* Whether s[i..] is the reserved word w, standing alone. */
static bool
word_is(const char *s, size_t i, const char *w)
{
	size_t n = strlen(w);
	char after;

	if (strncmp(s + i, w, n) != 0)
		return false;
	after = s[i + n];
	return !after || after == ' ' || after == '\t' || after == '\n' || after == ';' ||
	       after == ')' || after == '&' || after == '|';
}

/* After "<<" or "<<-": read the delimiter word, note the body that starts at the next newline. */
static void
lex_heredoc_op(struct sh_lex *l, const char *s, size_t *i)
{
	struct heredoc h = {{0}, false, false};
	size_t n = 0;
	char q = 0;

	if (s[*i] == '-') {
		h.strip_tabs = true;
		(*i)++;
	}
	while (s[*i] == ' ' || s[*i] == '\t')
		(*i)++;
	for (; s[*i]; (*i)++) {
		char ch = s[*i];
		if (q) {
			if (ch == q)
				q = 0;
			else if (n + 1 < sizeof(h.delim))
				h.delim[n++] = ch;
			continue;
		}
		if (ch == '\'' || ch == '"') {
			q = ch;
			h.quoted = true;
			continue;
		}
		if (ch == '\\' && s[*i + 1]) {
			h.quoted = true;
			(*i)++;
			if (n + 1 < sizeof(h.delim))
				h.delim[n++] = s[*i];
			continue;
		}
		if (strchr(" \t\n;&|<>()", ch))
			break;
		if (ch == '{' && s[*i + 1] == '{') {
			l->error = "a template in a here-document's delimiter cannot be followed";
			return;
		}
		if (ch == '$' || ch == '`') {
			l->error = "a here-document delimiter with $ or ` cannot be followed";
			return;
		}
		if (n + 1 < sizeof(h.delim))
			h.delim[n++] = ch;
	}
	if (!n || l->npending >= SH_MAX_HEREDOCS) {
		l->error = "a here-document rbx cannot follow";
		return;
	}
	l->pending[l->npending++] = h;
}

/* At the start of a line: enter the next here-document body, or leave the one ending here. */
static void
lex_line_start(struct sh_lex *l, const char *s, size_t *i)
{
	enum sh_ctx c = l->ctx[l->top];

	if (c == SH_HEREDOC || c == SH_HEREDOC_Q) {
		size_t j = *i, n = strlen(l->body.delim);
		if (l->body.strip_tabs)
			while (s[j] == '\t')
				j++;
		if (!strncmp(s + j, l->body.delim, n) && (s[j + n] == '\n' || !s[j + n])) {
			lex_pop(l);
			*i = j + n;
		} else {
			return;
		}
	}
	if (l->npending && is_code(l->ctx[l->top])) {
		l->body = l->pending[0];
		memmove(l->pending, l->pending + 1, (size_t)(--l->npending) * sizeof(l->pending[0]));
		lex_push(l, l->body.quoted ? SH_HEREDOC_Q : SH_HEREDOC);
		lex_line_start(l, s, i); /* an empty body ends on its first line */
	}
}

/* Consume the shell text at s[*i] (one token's worth) and update the context. */
static void
lex_step(struct sh_lex *l, const char *s, size_t *i)
{
	enum sh_ctx c = l->ctx[l->top];
	char ch = s[*i];
	bool word_start = l->at_word_start;

	l->at_word_start = false;
	if (ch == '\n') {
		(*i)++;
		if (is_code(c))
			l->at_word_start = true;
		if (is_code(c) || c == SH_HEREDOC || c == SH_HEREDOC_Q)
			lex_line_start(l, s, i);
		return;
	}
	if (c == SH_SQ) {
		if (ch == '\'')
			lex_pop(l);
		(*i)++;
		return;
	}
	if (c == SH_HEREDOC_Q) {
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
	if (c == SH_HEREDOC) {
		/* Quotes are plain characters in a here-document body. */
		(*i)++;
		return;
	}
	/* Code context: unquoted, $(...) or `...`. */
	if (word_start && word_is(s, *i, "case")) {
		l->cases[l->top]++;
		*i += 4;
		return;
	}
	if (word_start && word_is(s, *i, "esac")) {
		if (l->cases[l->top] > 0)
			l->cases[l->top]--;
		*i += 4;
		return;
	}
	if (ch == '<' && s[*i + 1] == '<' && s[*i + 2] != '<') {
		*i += 2;
		lex_heredoc_op(l, s, i);
		return;
	}
	if (ch == '<' && s[*i + 1] == '<') {
		*i += 3; /* bash's <<< here-string: an ordinary word follows */
		return;
	}
	if (ch == '\'') {
		lex_push(l, SH_SQ);
	} else if (ch == '"') {
		lex_push(l, SH_DQ);
	} else if (ch == '(') {
		l->parens[l->top]++;
		l->at_word_start = true;
	} else if (ch == ')') {
		/* In a `case`, an unmatched `)` ends a pattern, not the $(...). */
		if (l->parens[l->top] > 0)
			l->parens[l->top]--;
		else if (c == SH_CMDSUB && l->cases[l->top] == 0)
			lex_pop(l);
		l->at_word_start = true;
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
	while (i < offset && tmpl[i] && !l.error) {
		if (tmpl[i] == '{' && tmpl[i + 1] == '{') {
			const char *close = strstr(tmpl + i + 2, "}}");
			if (!close)
				break;
			i = (size_t)(close - tmpl) + 2;
			continue;
		}
		lex_step(&l, tmpl, &i);
	}
	if (l.error)
		return l.error;
	if (l.ctx[l.top] == SH_BRACE)
		return "a template inside ${...} cannot be quoted safely";
	if (l.ctx[l.top] == SH_ARITH)
		return "a template inside $((...)) cannot be quoted safely: arithmetic evaluates values";
	if (l.ctx[l.top] == SH_HEREDOC_Q)
		return "a template in a quoted here-document (<<'EOF') would not be expanded: "
		       "use an unquoted delimiter (<<EOF)";
	for (; l.top > 0; l.top--)
		if (l.ctx[l.top] == SH_BQ)
			return "a template inside `...` cannot be quoted reliably: use $(...)";
	return NULL;
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
	if (c->extra && strmap_get(c->extra, name))
		return strmap_get(c->extra, name);
	err_set(err, "unknown template name '%s' (known: node, params.X, captures.X, run.id, "
		     "attempt)",
		name);
	return NULL;
}

int
template_var_name(const char *name, char *out, size_t n)
{
	size_t k, len;

	if (!strcmp(name, "node"))
		return snprintf(out, n, "RBX_NODE"), 0;
	if (!strcmp(name, "run.id"))
		return snprintf(out, n, "RBX_RUN_ID"), 0;
	if (!strcmp(name, "attempt"))
		return snprintf(out, n, "RBX_ATTEMPT"), 0;
	if (!strncmp(name, "params.", 7))
		len = (size_t)snprintf(out, n, "RBX_P_%s", name + 7);
	else if (!strncmp(name, "captures.", 9))
		len = (size_t)snprintf(out, n, "RBX_C_%s", name + 9);
	else
		len = (size_t)snprintf(out, n, "RBX_%s", name);
	if (len >= n)
		return -1;
	for (k = 4; out[k]; k++) {
		if (!strncmp(name, "params.", 7) || !strncmp(name, "captures.", 9)) {
			if (!(isalnum((unsigned char)out[k]) || out[k] == '_'))
				return -1;
		} else {
			out[k] = (char)toupper((unsigned char)out[k]);
			if (!(isalnum((unsigned char)out[k]) || out[k] == '_'))
				return -1;
		}
	}
	return 0;
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

/* A reference to var, written for the context it lands in; the value is never shell text. */
static void
emit_ref(struct buf *out, const struct sh_lex *l, const char *var)
{
	switch (l->ctx[l->top]) {
	case SH_SQ:
		/* Close the quote, expand inside double quotes, reopen. */
		buf_addf(out, "'\"${%s}\"'", var);
		break;
	case SH_DQ:
	case SH_HEREDOC:
		buf_addf(out, "${%s}", var);
		break;
	default:
		buf_addf(out, "\"${%s}\"", var);
		break;
	}
}

/* Whether v is exactly one JSON number, true, false or null. */
static bool
json_scalar(const char *v)
{
	json_error_t je;
	json_t *j;
	bool ok;

	if (!*v || isspace((unsigned char)v[0]) || isspace((unsigned char)v[strlen(v) - 1]))
		return false;
	j = json_loads(v, JSON_DECODE_ANY, &je);
	ok = j && (json_is_number(j) || json_is_boolean(j) || json_is_null(j));
	json_decref(j);
	return ok;
}

/* v as JSON string content (quoted: with its double quotes). */
static void
json_escape(struct buf *out, const char *v, bool quoted)
{
	static const char hex[] = "0123456789abcdef";

	if (quoted)
		buf_add(out, "\"", 1);
	for (; *v; v++) {
		unsigned char ch = (unsigned char)*v;
		if (ch == '"' || ch == '\\') {
			char e[2] = {'\\', (char)ch};
			buf_add(out, e, 2);
		} else if (ch < 0x20) {
			char e[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
			buf_add(out, e, 6);
		} else {
			buf_add(out, v, 1);
		}
	}
	if (quoted)
		buf_add(out, "\"", 1);
}

int
template_render(const char *tmpl, enum tmpl_mode mode, const struct tmpl_ctx *c, struct buf *out,
		struct rbx_err *err)
{
	struct sh_lex l;
	size_t i = 0;
	bool in_str = false; /* TMPL_JSON: inside a JSON string literal */

	lex_init(&l);
	while (tmpl[i]) {
		size_t ns, ne, end;
		const char *open, *why;
		char *name, scratch[32], var[96];
		const char *v;
		bool literal;

		if (!(tmpl[i] == '{' && tmpl[i + 1] == '{')) {
			size_t start = i;
			if (mode == TMPL_SHELL) {
				lex_step(&l, tmpl, &i);
			} else if (mode == TMPL_JSON && in_str && tmpl[i] == '\\' && tmpl[i + 1]) {
				i += 2;
			} else {
				if (mode == TMPL_JSON && tmpl[i] == '"')
					in_str = !in_str;
				i++;
			}
			buf_add(out, tmpl + start, i - start);
			continue;
		}
		open = find_template(tmpl, i, &ns, &ne, &end, err);
		if (open == (const char *)-1)
			return -1;
		if (!open) /* cannot be: tmpl[i] starts "{{"; said for the analyzer */
			return err_set(err, "a template was lost at offset %zu", i);
		if (mode == TMPL_SHELL && (why = template_shell_context_error(tmpl, i)) != NULL)
			return err_set(err, "%s", why);
		name = xstrndup(tmpl + ns, ne - ns);
		v = lookup(c, name, scratch, sizeof(scratch), &literal, err);
		if (!v) {
			free(name);
			return -1;
		}
		if (mode == TMPL_SHELL) {
			if (template_var_name(name, var, sizeof(var)) < 0) {
				err_set(err, "'%s' cannot name a shell variable", name);
				free(name);
				return -1;
			}
			emit_ref(out, &l, var);
			if (c->vars && !literal)
				strmap_set(c->vars, var, v);
		} else if (literal) {
			buf_addf(out, "{{%s}}", name);
		} else if (mode == TMPL_URL) {
			url_encode(out, v);
		} else if (mode == TMPL_JSON && !in_str && json_scalar(v)) {
			buf_adds(out, v); /* a number, true, false or null stays one */
		} else if (mode == TMPL_JSON) {
			json_escape(out, v, !in_str);
		} else {
			buf_adds(out, v);
		}
		free(name);
		i = end;
	}
	return 0;
}
