/* test_alert.c - Alertmanager notifications as untrusted input: the JSON path of each
 * fault, matching an alert to the most specific runbook, and naming the node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "core/alert.h"
#include "core/runbook.h"

static const char good[] =
	"{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"rbx\",\"alerts\":["
	"{\"status\":\"firing\",\"labels\":{\"alertname\":\"GpuXidError\",\"Hostname\":\"n42\",\"xid\":\"74\"},"
	"\"startsAt\":\"2026-11-24T04:29:25.9Z\",\"fingerprint\":\"da72c7ba56643c14\"},"
	"{\"status\":\"resolved\",\"labels\":{\"alertname\":\"X\"},\"startsAt\":\"2026-11-24T04:29:25Z\","
	"\"fingerprint\":\"0a\"}]}";

static void
expect_fault(const char *json, const char *path)
{
	struct alert_note note;
	struct rbx_err err;

	assert_int_equal(alert_parse(json, strlen(json), &note, &err), -1);
	if (!strstr(err.msg, path))
		fail_msg("'%s' does not name %s", err.msg, path);
	assert_int_equal(note.n, 0); /* nothing is kept */
}

static void
test_parse(void **state)
{
	struct alert_note note;
	struct rbx_err err;

	(void)state;
	assert_int_equal(alert_parse(good, strlen(good), &note, &err), 0);
	assert_int_equal(note.n, 2);
	assert_string_equal(note.items[0].status, "firing");
	assert_string_equal(strmap_get(&note.items[0].labels, "xid"), "74");
	assert_string_equal(note.items[1].status, "resolved");
	alert_note_release(&note);
	alert_note_release(NULL);

	expect_fault("nope", "$: not JSON");
	expect_fault("[]", "$: a notification is an object");
	expect_fault("{\"version\":\"3\",\"alerts\":[]}", "$.version");
	expect_fault("{\"version\":\"4\",\"alerts\":{}}", "$.alerts");
	expect_fault("{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\","
		     "\"Hostname\":7},\"startsAt\":\"2026\",\"fingerprint\":\"ab\"}]}",
		     "$.alerts[0].labels.Hostname");
	expect_fault("{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\","
		     "\"a-b\":\"x\"},\"startsAt\":\"2026\",\"fingerprint\":\"ab\"}]}",
		     "$.alerts[0].labels.a-b");
	expect_fault("{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\"},"
		     "\"startsAt\":\"2026\",\"fingerprint\":\"../x\"}]}",
		     "$.alerts[0].fingerprint");
	expect_fault("{\"version\":\"4\",\"alerts\":[{\"status\":\"pending\",\"labels\":{},"
		     "\"startsAt\":\"2026\",\"fingerprint\":\"ab\"}]}",
		     "$.alerts[0].status");
	expect_fault("{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"x\":\"y\"},"
		     "\"startsAt\":\"2026\",\"fingerprint\":\"ab\"}]}",
		     "has no alertname");
}

static struct runbook *
rb_with(const char *name, const char *alerts)
{
	struct diags d;
	char *text = xasprintf("name: %s\ntitle: t\nsubsystem: driver\nsummary: s\n"
			       "trigger: {summary: s, alerts: %s}\nguard: {none: reads only}\n"
			       "procedure: [{name: a, ssh: 'nvidia-smi -L', mutates: false}]\n"
			       "verify: [{name: b, ssh: 'nvidia-smi -L'}]\n",
			       name, alerts);
	char *path = xasprintf("%s.yaml", name);
	struct runbook *rb;

	diags_init(&d);
	rb = runbook_load_string(path, text, strlen(text), &d);
	if (!rb)
		fail_msg("%s did not load", name);
	diags_release(&d);
	free(text);
	free(path);
	return rb;
}

static void
test_match(void **state)
{
	struct runbook *rbs[3], *tie;
	struct strmap l = {0};

	(void)state;
	rbs[0] = rb_with("gpu-fault", "[{alertname: GpuXidError}]");
	rbs[1] = rb_with("nvlink", "[{alertname: GpuXidError, xid: '74'}]");
	rbs[2] = rb_with("other", "[{alertname: GpuXidError, xid: '74'}, {alertname: Z}]");
	strmap_set(&l, "alertname", "GpuXidError");
	strmap_set(&l, "xid", "48");
	assert_string_equal(alert_match(rbs, 2, &l, &tie)->name, "gpu-fault");
	assert_null(tie);
	strmap_set(&l, "xid", "74"); /* the more specific matcher wins */
	assert_string_equal(alert_match(rbs, 2, &l, &tie)->name, "nvlink");
	assert_null(tie);
	assert_non_null(alert_match(rbs, 3, &l, &tie)); /* two as specific: a tie */
	assert_non_null(tie);
	strmap_set(&l, "alertname", "Unknown");
	assert_null(alert_match(rbs, 3, &l, &tie));
	strmap_release(&l);
	for (int i = 0; i < 3; i++)
		runbook_free(rbs[i]);
}

static void
test_node(void **state)
{
	char n42[] = "n42", gpu7[] = "gpu-7";
	char *nodes[] = {n42, gpu7};
	struct rbx_err err;
	char *n;

	(void)state;
	n = alert_node("n42", nodes, 2, &err);
	assert_string_equal(n, "n42");
	free(n);
	n = alert_node("n42:9100", nodes, 2, &err);
	assert_string_equal(n, "n42");
	free(n);
	n = alert_node("n42.dc1.example.com:9400", nodes, 2, &err);
	assert_string_equal(n, "n42");
	free(n);
	assert_null(alert_node("n99.dc1.example.com", nodes, 2, &err));
	assert_non_null(strstr(err.msg, "not in the inventory"));
	assert_null(alert_node("n42;reboot", nodes, 2, &err));
	assert_null(alert_node("$(id)", NULL, 0, &err));
	assert_null(alert_node("[::1]:9100", NULL, 0, &err));
	n = alert_node("lab3.example:1", NULL, 0, &err); /* no inventory: the host part */
	assert_string_equal(n, "lab3");
	free(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_node),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
