/* test_template.c - template rendering and context-aware shell quoting.
 * Every quoting case is proven by running the rendered command with dash and with bash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/exec.h"
#include "core/template.h"

static const char *const nasty[] = {
	"plain",
	"",
	"two words",
	"it's",
	"'; touch /tmp/rbx-pwned; '",
	"\"; touch /tmp/rbx-pwned; \"",
	"$(touch /tmp/rbx-pwned)",
	"`touch /tmp/rbx-pwned`",
	"a\\b\\\\c",
	"x\ny",
	"*",
	"$HOME ${PATH} $((1+1))",
	"-n",
	"a'b\"c`d$e\\f",
	NULL,
};

/* Templates with {{params.v}} in every quoting context; each prints exactly v. */
static const char *const contexts[] = {
	"printf '%s' {{params.v}}",
	"printf '%s' pre{{params.v}}post",
	"printf '%s' 'pre{{params.v}}post'",
	"printf '%s' \"pre{{params.v}}post\"",
	"printf '%s' \"$(printf '%s' {{params.v}})\"",
	"printf '%s' \"$(printf '%s' \"in{{params.v}}\")\"",
	"x=$(printf '%s' '{{params.v}}'); printf '%s' \"$x\"",
	"printf '%s' `printf x`{{params.v}}",
	"# a comment {{params.v}}\nprintf '%s' {{params.v}}",
	/* A here-document body: quotes are plain text there, $(...) runs. */
	"x=$(cat <<EOF\n{{params.v}}\nEOF\n); printf '%s' \"$x\"",
	"x=$(cat <<-EOF\n\t{{params.v}}\n\tEOF\n); printf '%s' \"$x\"",
	"x=$(cat <<A; cat <<B\nEOF\nA\n{{params.v}}\nB\n); y=${x#EOF}; printf '%s' \"${y#?}\"",
	"x=$(cat <<EOF\n$(printf '%s' {{params.v}})\nEOF\n); printf '%s' \"$x\"",
	/* After a case pattern's ')' inside $(...), and after the case ends. */
	"printf '%s' \"$(case a in a) printf '%s' {{params.v}};; esac)\"",
	"printf '%s' \"$(case a in (a) printf '%s' \"{{params.v}}\";; esac)\"",
	"x=\"$(case a in a) ;; esac)\"; printf '%s' \"$x{{params.v}}\"",
	"x=\"$(case a in a) printf x;; esac; printf '%s' {{params.v}})\"; printf '%s' \"${x#x}\"",
	NULL,
};

static char *
expected(const char *ctx, const char *v)
{
	char *e;
	/* $(...) and `...` drop trailing newlines, which none of the values have. */
	if (strstr(ctx, "pre{{"))
		return xasprintf("pre%spost", v);
	if (strstr(ctx, "in{{"))
		return xasprintf("in%s", v);
	if (strstr(ctx, "`printf x`"))
		return xasprintf("x%s", v);
	e = xstrdup(v);
	return e;
}

static char *
render_v(const char *tmpl, const char *v, enum tmpl_mode mode, struct strmap *vars)
{
	struct strmap params = {0};
	struct tmpl_ctx c = {0};
	struct rbx_err err;
	struct buf b;

	strmap_set(&params, "v", v);
	c.node = "n42";
	c.params = &params;
	c.vars = vars;
	buf_init(&b, 0);
	if (template_render(tmpl, mode, &c, &b, &err) != 0)
		fail_msg("render of %s: %s", tmpl, err.msg);
	strmap_release(&params);
	return buf_detach(&b);
}

static void
test_quoting_every_context_runs_the_value_as_data(void **state)
{
	size_t i, k;

	(void)state;
	remove("/tmp/rbx-pwned");
	for (k = 0; contexts[k]; k++) {
		for (i = 0; nasty[i]; i++) {
			struct strmap vars = {0};
			char *cmd = render_v(contexts[k], nasty[i], TMPL_SHELL, &vars);
			char *want = expected(contexts[k], nasty[i]);
			struct exec_opts o = {0};
			struct exec_result r;
			struct rbx_err err;

			int shell;

			o.timeout_ms = 5000;
			o.vars = &vars;
			/* The same text through dash (/bin/sh) and through bash (a node's /bin/sh may be bash). */
			for (shell = 0; shell < 2; shell++) {
				struct buf b;
				buf_init(&b, 0);
				if (shell) {
					buf_adds(&b, "exec bash -c ");
					util_shell_quote(&b, cmd);
				} else {
					buf_adds(&b, cmd);
				}
				exec_result_init(&r, &o);
				assert_int_equal(exec_local_run(b.data, &o, &r, &err), 0);
				if (r.status != 0 || strcmp(r.out.data, want) != 0)
					fail_msg("%s: context %zu value %zu\n  cmd: %s\n  got: [%s] (exit %d)\n want: [%s]",
						 shell ? "bash" : "dash", k, i, cmd, r.out.data, r.status, want);
				exec_result_release(&r);
				buf_release(&b);
			}
			strmap_release(&vars);
			free(cmd);
			free(want);
		}
	}
	assert_int_not_equal(access("/tmp/rbx-pwned", F_OK), 0);
}

static void
test_names_render(void **state)
{
	struct strmap params = {0}, caps = {0};
	struct tmpl_ctx c = {0};
	struct rbx_err err;
	struct buf b;

	(void)state;
	strmap_set(&params, "gpu", "3");
	strmap_set(&caps, "xid", "79");
	c.node = "n42";
	c.run_id = "r1";
	c.attempt = 2;
	c.params = &params;
	c.captures = &caps;
	buf_init(&b, 0);
	assert_int_equal(template_render("{{node}} {{ params.gpu }} {{captures.xid}} {{run.id}} "
					 "{{attempt}} {{captures.unset}}",
					 TMPL_SHELL, &c, &b, &err),
			 0);
	assert_string_equal(b.data, "\"${RBX_NODE}\" \"${RBX_P_gpu}\" \"${RBX_C_xid}\" "
				    "\"${RBX_RUN_ID}\" \"${RBX_ATTEMPT}\" \"${RBX_C_unset}\"");
	buf_reset(&b);
	assert_int_equal(template_render("GPU {{params.gpu}} of {{node}}?", TMPL_TEXT, &c, &b, &err), 0);
	assert_string_equal(b.data, "GPU 3 of n42?");
	buf_reset(&b);
	strmap_set(&params, "gpu", "a b/&?");
	assert_int_equal(template_render("http://h/x?g={{params.gpu}}", TMPL_URL, &c, &b, &err), 0);
	assert_string_equal(b.data, "http://h/x?g=a%20b%2F%26%3F");
	buf_reset(&b);
	c.plan = true;
	assert_int_equal(template_render("-i {{captures.later}}", TMPL_SHELL, &c, &b, &err), 0);
	assert_string_equal(b.data, "-i \"${RBX_C_later}\"");
	buf_release(&b);
	strmap_release(&params);
	strmap_release(&caps);
}

static void
test_errors(void **state)
{
	struct strmap params = {0};
	struct tmpl_ctx c = {0};
	struct rbx_err err;
	struct buf b;

	(void)state;
	c.params = &params;
	buf_init(&b, 0);
	assert_int_equal(template_render("x {{params.nope}}", TMPL_SHELL, &c, &b, &err), -1);
	assert_non_null(strstr(err.msg, "unknown parameter 'nope'"));
	assert_int_equal(template_render("x {{bogus}}", TMPL_SHELL, &c, &b, &err), -1);
	assert_non_null(strstr(err.msg, "unknown template name 'bogus'"));
	assert_int_equal(template_render("x {{node", TMPL_SHELL, &c, &b, &err), -1);
	assert_non_null(strstr(err.msg, "unclosed"));
	assert_int_equal(template_render("echo ${X:-{{node}}}", TMPL_SHELL, &c, &b, &err), -1);
	assert_non_null(strstr(err.msg, "${...}"));
	assert_int_equal(template_render("echo $(( {{node}} + 1 ))", TMPL_SHELL, &c, &b, &err), -1);
	assert_non_null(template_shell_context_error("echo ${X:-{{node}}}", 11));
	assert_int_equal(template_render("echo `echo {{node}}`", TMPL_SHELL, &c, &b, &err), -1);
	assert_non_null(strstr(err.msg, "use $(...)"));
	assert_int_equal(template_render("echo \"`echo \\\"{{node}}\\\"`\"", TMPL_SHELL, &c, &b,
					 &err),
			 -1);
	assert_null(template_shell_context_error("echo \"${X}\" {{node}}", 12));
	/* A quoted here-document would print the reference, not the value. */
	assert_int_equal(template_render("cat <<'EOF'\n{{node}}\nEOF", TMPL_SHELL, &c, &b, &err), -1);
	assert_non_null(strstr(err.msg, "quoted here-document"));
	assert_int_equal(template_render("cat <<\\EOF\n{{node}}\nEOF", TMPL_SHELL, &c, &b, &err), -1);
	assert_int_equal(template_render("cat <<{{node}}\nx\n", TMPL_SHELL, &c, &b, &err), -1);
	/* After the quoted body ends, templates are fine again. */
	buf_reset(&b);
	assert_int_equal(template_render("cat <<'EOF'\n$x\nEOF\necho {{node}}", TMPL_SHELL, &c, &b,
					 &err),
			 0);
	buf_release(&b);
}

static int
count_names(void *arg, const char *name, size_t off)
{
	(void)name;
	(void)off;
	(*(int *)arg)++;
	return 0;
}

static void
test_each(void **state)
{
	struct rbx_err err;
	int n = 0;

	(void)state;
	assert_int_equal(template_each("{{a}} and {{ b }} and {{c}}", count_names, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(template_each("{{a", count_names, &n, &err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quoting_every_context_runs_the_value_as_data),
		cmocka_unit_test(test_names_render),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_each),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
