/* test_ydoc.c - the one YAML walker: lookups by key and index, typed scalars, and every
 * error at the file:line:col of the value that caused it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "io/ydoc.h"

static const char text[] =
	"name: n42\n"
	"port: 2222\n"
	"big: 70000\n"
	"on: true\n"
	"off: maybe\n"
	"wait: 90s\n"
	"never: 0s\n"
	"quoted: 'a b'\n"
	"list: [a, b, {c: d}]\n"
	"map: {x: 1, y: 2}\n";

struct fixture {
	struct ydoc y;
	struct diags d;
	yaml_node_t *root;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	diags_init(&f->d);
	assert_int_equal(ydoc_load(&f->y, "t.yaml", text, strlen(text), &f->d), 0);
	f->root = ydoc_root(&f->y);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ydoc_release(&f->y);
	diags_release(&f->d);
	free(f);
	return 0;
}

/* The last diagnostic, "file:line:col: error: message". */
static char *
last(struct fixture *f)
{
	const struct diag *g = &f->d.v[f->d.n - 1];

	return g->msg;
}

static void
test_lookups(void **state)
{
	struct fixture *f = *state;
	yaml_node_t *list = ydoc_get(&f->y, f->root, "list"), *map = ydoc_get(&f->y, f->root, "map");

	assert_string_equal(ydoc_scalar(ydoc_get(&f->y, f->root, "name")), "n42");
	assert_null(ydoc_get(&f->y, f->root, "absent"));
	assert_null(ydoc_get(&f->y, list, "a")); /* a list has no keys */
	assert_null(ydoc_get(&f->y, NULL, "a"));
	assert_int_equal(ydoc_len(list), 3);
	assert_int_equal(ydoc_len(map), 2);
	assert_int_equal(ydoc_len(ydoc_get(&f->y, f->root, "name")), 0);
	assert_string_equal(ydoc_scalar(ydoc_item(&f->y, list, 1)), "b");
	assert_null(ydoc_item(&f->y, list, 3));
	assert_true(ydoc_is_map(ydoc_item(&f->y, list, 2)));
	assert_string_equal(ydoc_scalar(ydoc_key(&f->y, map, 1)), "y");
	assert_string_equal(ydoc_scalar(ydoc_value(&f->y, map, 1)), "2");
	assert_null(ydoc_key(&f->y, map, 2));
	assert_string_equal(ydoc_kind(list), "a list");
	assert_string_equal(ydoc_kind(map), "a mapping");
	assert_string_equal(ydoc_kind(NULL), "nothing");
	assert_true(ydoc_quoted(ydoc_get(&f->y, f->root, "quoted")));
	assert_false(ydoc_quoted(ydoc_get(&f->y, f->root, "name")));
	/* Positions are 1-based: list is on line 9, its second item at column 11. */
	assert_int_equal(ydoc_pos(ydoc_item(&f->y, list, 1)).line, 9);
	assert_int_equal(ydoc_pos(ydoc_item(&f->y, list, 1)).col, 11);
	assert_int_equal(f->d.n, 0);
}

static void
test_typed_scalars(void **state)
{
	struct fixture *f = *state;
	long v = -1;

	assert_true(ydoc_int(&f->y, ydoc_get(&f->y, f->root, "port"), "port", 1, 65535, &v));
	assert_int_equal(v, 2222);
	assert_false(ydoc_int(&f->y, ydoc_get(&f->y, f->root, "big"), "big", 1, 65535, &v));
	assert_string_equal(last(f), "'big' must be between 1 and 65535, not 70000");
	assert_int_equal(f->d.v[f->d.n - 1].pos.line, 3);
	assert_int_equal(f->d.v[f->d.n - 1].pos.col, 6);
	assert_false(ydoc_int(&f->y, ydoc_get(&f->y, f->root, "name"), "name", 1, 9, &v));
	assert_string_equal(last(f), "'name' must be an integer, not 'n42'");
	assert_true(ydoc_bool(&f->y, ydoc_get(&f->y, f->root, "on"), "on", false));
	assert_false(ydoc_bool(&f->y, ydoc_get(&f->y, f->root, "off"), "off", false));
	assert_string_equal(last(f), "'off' must be true or false, not 'maybe'");
	assert_true(ydoc_bool(&f->y, NULL, "absent", true));
	assert_int_equal(ydoc_duration(&f->y, ydoc_get(&f->y, f->root, "wait"), "wait", 1), 90000);
	assert_int_equal(ydoc_duration(&f->y, ydoc_get(&f->y, f->root, "never"), "never", 7), 7);
	assert_string_equal(last(f), "'never' must be longer than zero");
	assert_int_equal(ydoc_duration(&f->y, ydoc_get(&f->y, f->root, "name"), "name", 7), 7);
	assert_int_equal(f->d.nerrors, 5);
}

static void
test_strings(void **state)
{
	struct fixture *f = *state;
	size_t n;
	char **v = ydoc_strings(&f->y, ydoc_get(&f->y, f->root, "list"), "list", &n);

	assert_int_equal(n, 3);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[2], ""); /* the mapping, refused */
	assert_null(v[3]);
	assert_string_equal(last(f), "items of 'list' must be scalars");
	ydoc_strings_free(v, n);
	assert_null(ydoc_strings(&f->y, ydoc_get(&f->y, f->root, "map"), "map", &n));
	assert_int_equal(n, 0);
	ydoc_strings_free(NULL, 0);
}

static void
test_bad_documents(void **state)
{
	struct ydoc y;
	struct diags d;

	(void)state;
	diags_init(&d);
	assert_int_equal(ydoc_load(&y, "bad.yaml", "a: [1, 2\nb: c\n", 14, &d), -1);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.v[0].file, "bad.yaml");
	assert_int_equal(d.v[0].pos.line, 2);
	assert_non_null(strstr(d.v[0].msg, "YAML: "));
	ydoc_release(&y);
	assert_int_equal(ydoc_load(&y, "empty.yaml", "", 0, &d), -1);
	assert_string_equal(d.v[1].msg, "the file is empty");
	assert_null(ydoc_root(&y));
	ydoc_release(&y);
	ydoc_release(NULL);
	diags_release(&d);
}

/*
 * A key given twice in one mapping: YAML says a document with one is invalid, and libyaml
 * loads it anyway. The inventory loader read `alertmanager:` twice into one struct and
 * wrote past an array (found by fuzz_inventory; its input is tests/fuzz/regress/inventory).
 */
static void
test_duplicate_keys_are_refused(void **state)
{
	static const char dup[] = "a: 1\nb:\n  c: 2\n  d: [x, {e: 1, e: 2}]\na: 3\n";
	struct ydoc y;
	struct diags d;
	char *all;

	(void)state;
	diags_init(&d);
	assert_int_equal(ydoc_load(&y, "dup.yaml", dup, strlen(dup), &d), -1);
	all = diags_text(&d);
	assert_non_null(strstr(all, "dup.yaml:4:17: error: key 'e' given twice (first at 4:11)"));
	assert_non_null(strstr(all, "dup.yaml:5:1: error: key 'a' given twice (first at 1:1)"));
	assert_int_equal(d.nerrors, 2);
	free(all);
	ydoc_release(&y);
	diags_release(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_typed_scalars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
		cmocka_unit_test(test_bad_documents),
		cmocka_unit_test(test_duplicate_keys_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
