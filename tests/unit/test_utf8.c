/* test_utf8.c - UTF-8 validation and cuts: what keeps command output a JSON string.
 * Overlong forms, surrogates and values past U+10FFFF are invalid, as jansson holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "io/journal.h"
#include "base/utf8.h"

static void
test_valid_and_invalid(void **state)
{
	static const char *const bad[] = {"caf\xe9", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
					  "\xf4\x90\x80\x80", "\xc3", "\xff", NULL};
	size_t i;

	(void)state;
	assert_true(utf8_valid("café ✓ 𝄞", strlen("café ✓ 𝄞")));
	for (i = 0; bad[i]; i++) {
		json_t *j = json_string(bad[i]);
		assert_false(utf8_valid(bad[i], strlen(bad[i])));
		/* The same verdict as jansson's, whose refusal used to drop fields. */
		assert_null(j);
	}
}

static void
test_cut_on_boundaries(void **state)
{
	const char *s = "xééé"; /* 1 + 3*2 bytes */

	(void)state;
	assert_int_equal(utf8_cut(s, 2), 1);
	assert_int_equal(utf8_cut(s, 3), 3);
	assert_int_equal(utf8_cut(s, 4), 3);
	assert_int_equal(utf8_cut(s, 100), strlen(s));
	assert_int_equal(utf8_cut("a\xff" "b", 2), 2); /* a stray byte is a unit of its own */
}

static void
test_journal_never_loses_text(void **state)
{
	json_t *v = journal_string("caf\xe9!"), *b = journal_bytes("caf\xe9"),
	       *o = json_pack("{s:s}", "k", "plain");
	char *back = journal_bytes_value(b), s[8] = "\xc3\xa9\xc3";

	(void)state;
	assert_string_equal(json_string_value(v), "caf\xef\xbf\xbd!");
	assert_string_equal(back, "caf\xe9");
	free(back);
	back = journal_bytes_value(json_object_get(o, "k"));
	assert_string_equal(back, "plain");
	utf8_scrub(s);
	assert_string_equal(s, "\xc3\xa9?");
	free(back);
	json_decref(v);
	json_decref(b);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_and_invalid),
		cmocka_unit_test(test_cut_on_boundaries),
		cmocka_unit_test(test_journal_never_loses_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
