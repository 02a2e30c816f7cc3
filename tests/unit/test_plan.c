/* test_plan.c - the one plan: what each step renders to, where it runs, the guard's
 * reason, secrets hidden; the same functions the engine runs steps through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/plan.h"
#include "core/runbook.h"

static const char text[] =
	"name: p\n"
	"title: P\n"
	"subsystem: driver\n"
	"summary: s\n"
	"trigger: {summary: x, alerts: [{alertname: A, severity: page}]}\n"
	"params:\n"
	"  gpu: {description: g, default: '3', pattern: '^[0-9]+$'}\n"
	"  token: {description: k, secret: true}\n"
	"guard: {cordon: true, drain: true, drain_timeout: 10m}\n"
	"pre_checks:\n"
	"  - name: look\n"
	"    ssh: nvidia-smi -i {{params.gpu}} -q\n"
	"    capture: {bus: '([0-9a-f:.]+)'}\n"
	"procedure:\n"
	"  - name: reset\n"
	"    ssh: nvidia-smi -r -i {{params.gpu}} --bus {{captures.bus}}\n"
	"    undo: {name: back, run: 'echo {{node}}'}\n"
	"  - name: ask\n"
	"    confirm: Reset GPU {{params.gpu}} of {{node}}?\n"
	"  - name: tell\n"
	"    http: {method: POST, url: 'http://127.0.0.1:9/x?t={{params.token}}&n={{node}}'}\n"
	"  - {name: pause, action: sleep, duration: 1s}\n"
	"  - {name: boot, action: reboot}\n"
	"verify:\n"
	"  - {name: diag, run: dcgmi diag -r 1}\n";

static const struct plan_where where = {"ssh:root@n42:22", "local", "slurm"};

struct fixture {
	struct runbook *rb;
	struct strmap params;
	json_t *plan;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct strmap given = {0};
	struct rbx_err err;
	struct diags d;

	diags_init(&d);
	f->rb = runbook_load_string("p.yaml", text, strlen(text), &d);
	assert_non_null(f->rb);
	diags_release(&d);
	strmap_set(&given, "token", "s3cr3t");
	assert_int_equal(engine_bind_params_plan(f->rb, &given, &f->params, &err), 0);
	strmap_release(&given);
	f->plan = plan_build(f->rb, "n42", &f->params, &where, &err);
	assert_non_null(f->plan);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	json_decref(f->plan);
	strmap_release(&f->params);
	runbook_free(f->rb);
	free(f);
	return 0;
}

static json_t *
step(const struct fixture *f, const char *phase, size_t i)
{
	return json_array_get(json_object_get(json_object_get(f->plan, "phases"), phase), i);
}

static const char *
field(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void
test_commands_are_variables_with_their_values(void **state)
{
	struct fixture *f = *state;
	json_t *s = step(f, "pre_checks", 0);

	assert_string_equal(field(s, "cmd"), "nvidia-smi -i \"${RBX_P_gpu}\" -q");
	assert_string_equal(field(json_object_get(s, "env"), "RBX_P_gpu"), "3");
	assert_string_equal(field(s, "target"), "ssh:root@n42:22");
	/* A capture not known at plan time is still a reference, not a guess. */
	s = step(f, "procedure", 0);
	assert_non_null(strstr(field(s, "cmd"), "${RBX_C_bus}"));
}

static void
test_each_kind_runs_where_the_plan_says(void **state)
{
	struct fixture *f = *state;
	json_t *reset = step(f, "procedure", 0);

	assert_string_equal(field(json_object_get(reset, "undo"), "target"), "local");
	assert_string_equal(field(json_object_get(reset, "undo"), "cmd"), "echo \"${RBX_NODE}\"");
	assert_string_equal(field(step(f, "procedure", 1), "target"), "operator");
	assert_string_equal(field(step(f, "procedure", 2), "target"), "local");
	assert_string_equal(field(step(f, "procedure", 3), "target"), "local");
	assert_string_equal(field(step(f, "procedure", 4), "target"), "ssh:root@n42:22");
	assert_string_equal(field(step(f, "procedure", 4), "action"), "reboot");
}

static void
test_questions_are_text_and_urls_are_encoded(void **state)
{
	struct fixture *f = *state;

	assert_string_equal(field(step(f, "procedure", 1), "question"), "Reset GPU 3 of n42?");
	assert_string_equal(field(step(f, "procedure", 2), "cmd"),
			    "POST http://127.0.0.1:9/x?t=%2A%2A%2A&n=n42");
}

static void
test_secrets_never_reach_the_plan(void **state)
{
	struct fixture *f = *state;
	char *all = json_dumps(f->plan, 0);

	assert_null(strstr(all, "s3cr3t"));
	assert_string_equal(field(json_object_get(f->plan, "params"), "token"), "***");
	free(all);
}

static void
test_guard_reason_names_the_run(void **state)
{
	struct fixture *f = *state;
	json_t *g = json_object_get(f->plan, "guard");
	char *r = plan_guard_reason("20261126T000000Z-n42-abcdef", "p");

	assert_string_equal(field(g, "reason"), "rbx:{{run.id}} p");
	assert_string_equal(field(g, "backend"), "slurm");
	assert_true(json_is_true(json_object_get(g, "drain")));
	assert_string_equal(r, "rbx:20261126T000000Z-n42-abcdef p");
	free(r);
}

/* The engine renders a step with the run's values: not redacted, the real secret. */
static void
test_run_rendering_uses_real_values(void **state)
{
	struct fixture *f = *state;
	const struct step *s = f->rb->steps[PHASE_PROCEDURE][2];
	struct tmpl_ctx c = {0};
	struct rbx_err err;
	char *url;

	c.node = "n42";
	c.params = &f->params;
	c.rb = f->rb;
	url = plan_render_step(&c, s, NULL, &err);
	assert_string_equal(url, "http://127.0.0.1:9/x?t=s3cr3t&n=n42");
	free(url);
	c.redact = true;
	url = plan_render_step(&c, s, NULL, &err);
	assert_string_equal(url, "http://127.0.0.1:9/x?t=%2A%2A%2A&n=n42");
	free(url);
	/* An action has no text: asking for it is an error, not an empty command. */
	assert_null(plan_render_step(&c, f->rb->steps[PHASE_PROCEDURE][3], NULL, &err));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commands_are_variables_with_their_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_kind_runs_where_the_plan_says, setup, teardown),
		cmocka_unit_test_setup_teardown(test_questions_are_text_and_urls_are_encoded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secrets_never_reach_the_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guard_reason_names_the_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_rendering_uses_real_values, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
