/* test_util.c - durations, quoting, bounded buffers, tails, names, maps.
 * The small pieces every other module trusts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

static void
test_durations(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(util_parse_duration("90s"), 90000);
	assert_int_equal(util_parse_duration("10m"), 600000);
	assert_int_equal(util_parse_duration("2h"), 7200000);
	assert_int_equal(util_parse_duration("1h30m"), 5400000);
	assert_int_equal(util_parse_duration("500ms"), 500);
	assert_int_equal(util_parse_duration("1d"), 86400000);
	assert_int_equal(util_parse_duration(""), -1);
	assert_int_equal(util_parse_duration("5"), -1);
	assert_int_equal(util_parse_duration("5 minutes"), -1);
	assert_int_equal(util_parse_duration("m"), -1);
	assert_int_equal(util_parse_duration("-5s"), -1);
	assert_int_equal(util_parse_duration("99999999999999999999h"), -1);
	util_format_duration(250, out, sizeof(out));
	assert_string_equal(out, "250ms");
	util_format_duration(1500, out, sizeof(out));
	assert_string_equal(out, "1.5s");
	util_format_duration(90000, out, sizeof(out));
	assert_string_equal(out, "1m30s");
	util_format_duration(5400000, out, sizeof(out));
	assert_string_equal(out, "1h30m");
}

static void
test_shell_quote(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	util_shell_quote(&b, "it's");
	assert_string_equal(b.data, "'it'\\''s'");
	buf_reset(&b);
	util_shell_quote(&b, "");
	assert_string_equal(b.data, "''");
	buf_release(&b);
}

static void
test_buf_cap_and_tail(void **state)
{
	struct buf b;
	struct tail t;
	char *s;

	(void)state;
	buf_init(&b, 10);
	buf_adds(&b, "0123456789abc");
	assert_int_equal(b.len, 10);
	assert_int_equal(b.dropped, 3);
	assert_string_equal(b.data, "0123456789");
	buf_release(&b);

	tail_init(&t, 4);
	tail_add(&t, "ab", 2);
	s = tail_string(&t);
	assert_string_equal(s, "ab");
	free(s);
	tail_add(&t, "cdef", 4);
	s = tail_string(&t);
	assert_string_equal(s, "cdef");
	free(s);
	tail_add(&t, "0123456789", 10);
	tail_add(&t, "X", 1);
	s = tail_string(&t);
	assert_string_equal(s, "789X");
	assert_int_equal(t.total, 17);
	free(s);
	tail_release(&t);
}

static void
test_node_names(void **state)
{
	char long_name[80];

	(void)state;
	assert_true(util_valid_node_name("n42"));
	assert_true(util_valid_node_name("gpu-a01.rack3_b"));
	assert_false(util_valid_node_name(""));
	assert_false(util_valid_node_name("-n42"));
	assert_false(util_valid_node_name("n42;reboot"));
	assert_false(util_valid_node_name("n42 x"));
	assert_false(util_valid_node_name("n42$(x)"));
	assert_false(util_valid_node_name("../etc"));
	memset(long_name, 'a', 63);
	long_name[63] = 0;
	assert_true(util_valid_node_name(long_name));
	long_name[63] = 'a';
	long_name[64] = 0;
	assert_false(util_valid_node_name(long_name));
	assert_true(util_valid_slug("gpu-fault"));
	assert_false(util_valid_slug("GPU"));
	assert_false(util_valid_slug("-x"));
}

static void
test_strmap_and_distance(void **state)
{
	struct strmap m = {0};

	(void)state;
	strmap_set(&m, "a", "1");
	strmap_set(&m, "b", "2");
	strmap_set(&m, "a", "3");
	assert_int_equal(m.n, 2);
	assert_string_equal(strmap_get(&m, "a"), "3");
	assert_null(strmap_get(&m, "c"));
	strmap_release(&m);
	assert_int_equal(util_edit_distance("timeout", "timeuot"), 2);
	assert_int_equal(util_edit_distance("", "abc"), 3);
	assert_int_equal(util_edit_distance("same", "same"), 0);
}

static void
test_err_buffers(void **state)
{
	struct rbx_err e;

	(void)state;
	assert_int_equal(err_set(&e, "cannot %s", "open"), -1);
	assert_int_equal(err_prefix(&e, "lab"), -1);
	assert_string_equal(e.msg, "lab: cannot open");
	assert_int_equal(err_set(NULL, "ignored"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_shell_quote),
		cmocka_unit_test(test_buf_cap_and_tail),
		cmocka_unit_test(test_node_names),
		cmocka_unit_test(test_strmap_and_distance),
		cmocka_unit_test(test_err_buffers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
