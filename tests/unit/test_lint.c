/* test_lint.c - the policy rules beyond the schema, each at the step's file:line:col:
 * errors block a run, warnings hold the catalogue to --strict. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/lint.h"
#include "core/runbook.h"

#define HEAD                                                                     \
	"name: l\ntitle: L\nsubsystem: driver\nsummary: s\n"                     \
	"trigger: {summary: x, alerts: [{alertname: A, severity: page}]}\n"     \
	"references: [https://docs.nvidia.com/deploy/xid-errors/]\n"

/* Load (the schema's checks, and lint's, as rbx loads) and lint; the diagnostics as text. */
static char *
lint_text(const char *body, size_t *nerrors)
{
	struct diags d;
	struct runbook *rb;
	/* The phases the schema requires, after the body so its line numbers hold. */
	char *text, *all = xasprintf(HEAD "%s%s%s", body,
				     strstr(body, "procedure:") ? "" : "procedure:\n  - {name: list, ssh: nvidia-smi -L, mutates: false}\n",
				     strstr(body, "verify:") ? "" : "verify:\n  - {name: diag, ssh: dcgmi diag -r 1}\n");

	diags_init(&d);
	rb = runbook_load_string("l.yaml", all, strlen(all), &d);
	if (rb)
		lint_runbook(rb, &d);
	*nerrors = d.nerrors;
	text = diags_text(&d);
	runbook_free(rb);
	diags_release(&d);
	free(all);
	return text;
}

static void
expect(const char *body, size_t errors, const char *finding)
{
	size_t n;
	char *text = lint_text(body, &n);

	if ((!finding ? *text != 0 : !strstr(text, finding)) || n != errors)
		fail_msg("wanted \"%s\", got:\n%s", finding ? finding : "(nothing)", text);
	assert_int_equal(n, errors);
	free(text);
}

static void
test_a_clean_runbook_has_no_findings(void **state)
{
	(void)state;
	expect("guard: {cordon: true, drain: true}\n"
	       "pre_checks:\n  - {name: look, ssh: nvidia-smi -q}\n"
	       "procedure:\n  - {name: reset, ssh: nvidia-smi -r, mutates: true,\n"
	       "     undo: {name: back, ssh: systemctl start nvidia-dcgm}}\n"
	       "verify:\n  - {name: prove, ssh: dcgmi diag -r 1}\n",
	       0, NULL);
}

static void
test_no_guard_means_read_only(void **state)
{
	(void)state;
	expect("guard: {none: triage only}\n"
	       "procedure:\n  - {name: reset, ssh: nvidia-smi -r, mutates: true,\n"
	       "     undo: {name: back, ssh: 'nvidia-smi -q'}}\n",
	       1, "l.yaml:9:5: error: step 'reset' mutates the node, but the runbook declares "
		  "'guard: {none}'");
	expect("guard: {none: triage only}\non_success: keep_cordoned\n"
	       "procedure:\n  - {name: look, ssh: nvidia-smi -q, mutates: false}\n",
	       1, "l.yaml:1:1: error: 'on_success: keep_cordoned' needs a guard that cordons");
}

static void
test_pre_checks_only_read(void **state)
{
	(void)state;
	expect("guard: {cordon: true}\n"
	       "pre_checks:\n  - {name: poke, ssh: nvidia-smi -r, mutates: true}\n"
	       "rollback:\n  - {name: back, ssh: nvidia-smi -q}\n",
	       1, "l.yaml:9:5: error: pre-check 'poke' is marked mutating");
	expect("guard: {cordon: true}\n"
	       "pre_checks:\n  - {name: ask, confirm: sure?}\n",
	       1, "l.yaml:9:5: error: pre-check 'ask' asks for confirmation");
}

static void
test_every_change_can_be_undone(void **state)
{
	(void)state;
	expect("guard: {cordon: true}\n"
	       "procedure:\n  - {name: reset, ssh: nvidia-smi -r, mutates: true}\n",
	       1, "l.yaml:9:5: error: mutating step 'reset' has no 'undo', and the runbook has no "
		  "'rollback'");
	/* A rollback phase covers it. */
	expect("guard: {cordon: true}\n"
	       "procedure:\n  - {name: reset, ssh: nvidia-smi -r, mutates: true}\n"
	       "rollback:\n  - {name: back, ssh: systemctl restart nvidia-persistenced}\n",
	       0, NULL);
}

static void
test_warnings_for_the_catalogue(void **state)
{
	(void)state;
	expect("guard: {cordon: true}\n"
	       "verify:\n  - {name: prove, ssh: echo ok}\n",
	       0, "l.yaml:9:24: warning: step 'prove' only prints or does nothing: give it a real "
		  "action (a verify step needs a real proof)");
	expect("guard: {cordon: true}\n"
	       "verify:\n  - {name: prove, ssh: ping -c1 n42}\n",
	       0, "warning: verify step 'prove' only pings the node");
	expect("guard: {cordon: true}\n"
	       "verify:\n  - {name: prove TODO, ssh: dcgmi diag -r 1}\n",
	       0, "l.yaml:9:5: warning: step 'prove TODO' holds a TODO");
	expect("guard: {cordon: true}\n"
	       "procedure:\n  - {name: cordon, action: cordon, mutates: false}\n",
	       0, "warning: step 'cordon' uses 'action: cordon'; the engine's guard already");
	/* A pipeline is a real action, even if it starts with echo. */
	expect("guard: {cordon: true}\n"
	       "verify:\n  - {name: prove, ssh: 'echo 1 > /sys/bus/pci/rescan'}\n",
	       0, NULL);
}

static void
test_rma_only_after_the_xid_is_known(void **state)
{
	(void)state;
	expect("guard: {cordon: true}\non_success: keep_cordoned\n"
	       "procedure:\n  - {name: Decide on the RMA, confirm: send it?}\n",
	       1, "l.yaml:10:5: error: RMA step 'Decide on the RMA' comes before any step "
		  "classifies the XID");
	expect("guard: {cordon: true}\n"
	       "pre_checks:\n  - {name: xid, ssh: journalctl -k, capture: {xid: 'Xid.*: ([0-9]+)'}}\n"
	       "procedure:\n  - {name: Decide on the RMA, confirm: send it?}\n",
	       0, NULL);
	/* "RMA" as a word: PERFORMANCE is not an RMA step. */
	expect("guard: {cordon: true}\n"
	       "verify:\n  - {name: PERFORMANCE check, ssh: dcgmi diag -r 2}\n",
	       0, NULL);
}

static void
test_cluster_changes_say_so(void **state)
{
	(void)state;
	expect("guard: {none: reads and requeues}\n"
	       "procedure:\n  - {name: requeue, ssh: 'scontrol requeue 42', mutates: false}\n",
	       1, "l.yaml:9:5: error: step 'requeue' runs 'scontrol requeue', which changes the "
		  "cluster, but says 'mutates: false': say 'mutates: cluster'");
	expect("guard: {none: reads}\n"
	       "procedure:\n  - {name: undo, run: 'kubectl -n prod --context c1 rollout undo deploy/x', mutates: false}\n",
	       1, "runs 'kubectl rollout', which changes the cluster");
	expect("guard: {none: reads}\n"
	       "procedure:\n  - {name: submit, run: '/usr/bin/sbatch job.sh', mutates: false,\n"
	       "     undo: {name: cancel, run: 'scancel 7', mutates: false}}\n",
	       2, "l.yaml:10:12: error: step 'cancel' runs 'scancel'");
	/* Reading the cluster is not changing it. */
	expect("guard: {none: reads}\n"
	       "procedure:\n  - {name: look, run: 'kubectl rollout status deploy/x; scontrol show job 4; "
	       "kubectl get pods', mutates: false}\n",
	       0, NULL);
	/* Said so: no node guard needed, and no undo (a requeue cannot be taken back). */
	expect("guard: {none: reads and requeues}\n"
	       "procedure:\n  - {name: requeue, ssh: 'scontrol requeue 42', mutates: cluster}\n",
	       0, NULL);
	/* A cluster change marked as a node change under guard none: say cluster. */
	expect("guard: {none: reads}\n"
	       "procedure:\n  - {name: scale, run: 'kubectl scale deploy/x --replicas=3', mutates: true,\n"
	       "     undo: {name: back, run: 'kubectl scale deploy/x --replicas=2'}}\n",
	       3, "step 'scale' runs 'kubectl scale', which changes the cluster, not the node");
}

/* A proof fed nothing must not pass: awk's main rule never runs on empty input. */
static void
test_awk_that_passes_on_nothing(void **state)
{
	(void)state;
	expect("guard: {cordon: true, drain: true}\n"
	       "verify:\n  - {name: burn, ssh: \"curl -s x | awk '{exit !($1 < 1)}'\"}\n",
	       0, "decides in awk's main rule");
	expect("guard: {cordon: true, drain: true}\n"
	       "verify:\n  - {name: burn, ssh: \"curl -s x | awk -v m=3 '{exit !($1 < m)}'\"}\n",
	       0, "decides in awk's main rule");
	expect("guard: {cordon: true, drain: true}\n"
	       "verify:\n  - {name: burn, ssh: \"curl -s x | awk 'NR == 1 {v = $1; seen = 1} END {exit !(seen && v < 1)}'\"}\n",
	       0, NULL);
	expect("guard: {cordon: true, drain: true}\n"
	       "verify:\n  - {name: bad, ssh: \"nvidia-smi | awk '$1 > m {bad = 1} END {exit bad}'\"}\n",
	       0, NULL);
}

static void
test_a_guard_without_drain_says_why(void **state)
{
	(void)state;
	expect("guard: {cordon: true, drain: false}\n",
	       1, "l.yaml:7:8: error: a guard that cordons without draining must say why");
	expect("guard: {cordon: true, drain: false, keep_running: the job under repair}\n", 0, NULL);
	expect("guard: {cordon: true, keep_running: x}\n", 1,
	       "'keep_running' is for a guard that does not drain");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_clean_runbook_has_no_findings),
		cmocka_unit_test(test_no_guard_means_read_only),
		cmocka_unit_test(test_pre_checks_only_read),
		cmocka_unit_test(test_every_change_can_be_undone),
		cmocka_unit_test(test_warnings_for_the_catalogue),
		cmocka_unit_test(test_rma_only_after_the_xid_is_known),
		cmocka_unit_test(test_cluster_changes_say_so),
		cmocka_unit_test(test_a_guard_without_drain_says_why),
		cmocka_unit_test(test_awk_that_passes_on_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
