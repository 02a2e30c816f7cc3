/* test_exec.c - the local executor: capture, exit codes, signals, deadlines that
 * end the whole process group, and output that never stalls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/exec.h"

static int
run(const char *cmd, long long timeout_ms, struct exec_result *r)
{
	struct exec_opts o = {0};
	struct rbx_err err;

	o.timeout_ms = timeout_ms;
	exec_result_init(r, &o);
	return exec_local_run(cmd, &o, r, &err);
}

static void
test_capture_and_status(void **state)
{
	struct exec_result r;
	char *e;

	(void)state;
	assert_int_equal(run("echo out; echo err >&2; exit 3", 5000, &r), 0);
	assert_int_equal(r.status, 3);
	assert_string_equal(r.out.data, "out\n");
	e = tail_string(&r.err_tail);
	assert_string_equal(e, "err\n");
	free(e);
	assert_false(r.timed_out);
	exec_result_release(&r);
	assert_int_equal(run("kill -9 $$", 5000, &r), 0);
	assert_int_equal(r.status, 128 + SIGKILL);
	exec_result_release(&r);
	assert_int_equal(run("read x; echo \"[$x]\"", 5000, &r), 0);
	assert_string_equal(r.out.data, "[]\n"); /* stdin is /dev/null */
	exec_result_release(&r);
}

static void
test_timeout_kills_the_group(void **state)
{
	struct exec_result r;
	struct exec_result check;

	(void)state;
	assert_int_equal(run("sleep 31 & sleep 31", 500, &r), 0);
	assert_true(r.timed_out);
	assert_in_range(r.duration_ms, 450, 2000);
	exec_result_release(&r);
	/* The background child died with the group. */
	assert_int_equal(run("ps -eo args | grep -c '^sleep 31$'", 5000, &check), 0);
	assert_string_equal(check.out.data, "0\n");
	exec_result_release(&check);
	/* A child that ignores SIGTERM gets SIGKILL after the grace period. */
	assert_int_equal(run("trap '' TERM; sleep 32", 300, &r), 0);
	assert_true(r.timed_out);
	assert_in_range(r.duration_ms, 250, 3000);
	exec_result_release(&r);
}

static void
test_loud_stderr_never_stalls(void **state)
{
	struct exec_result r;

	(void)state;
	assert_int_equal(run("head -c 8000000 /dev/zero | tr '\\0' x >&2; echo done", 20000, &r), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out.data, "done\n");
	assert_int_equal(r.err_tail.total, 8000000);
	exec_result_release(&r);
}

static void
test_stdout_is_capped(void **state)
{
	struct exec_opts o = {0};
	struct exec_result r;
	struct rbx_err err;

	(void)state;
	o.capture_max = 1000;
	o.timeout_ms = 10000;
	exec_result_init(&r, &o);
	assert_int_equal(exec_local_run("head -c 100000 /dev/zero | tr '\\0' y", &o, &r, &err), 0);
	assert_int_equal(r.out.len, 1000);
	assert_int_equal(r.out.dropped, 99000);
	assert_int_equal(r.out_tail.total, 100000);
	exec_result_release(&r);
}

static void
test_leftover_child_does_not_block(void **state)
{
	struct exec_result r;

	(void)state;
	assert_int_equal(run("sleep 33 & echo started", 10000, &r), 0);
	assert_int_equal(r.status, 0);
	assert_in_range(r.duration_ms, 0, 2000);
	assert_string_equal(r.out.data, "started\n");
	exec_result_release(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_and_status),
		cmocka_unit_test(test_timeout_kills_the_group),
		cmocka_unit_test(test_loud_stderr_never_stalls),
		cmocka_unit_test(test_stdout_is_capped),
		cmocka_unit_test(test_leftover_child_does_not_block),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
