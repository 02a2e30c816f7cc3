/* test_inventory.c - hostlists (Slurm's n[01-10] style) and the inventory: names expanded
 * and matched, bad lists refused, entries resolved in file order, errors at file:line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/inventory.h"

static char *
joined(const char *pattern)
{
	struct rbx_err err;
	struct buf b;
	size_t n, i;
	char **v = hostlist_expand(pattern, &n, &err);

	if (!v)
		return NULL;
	buf_init(&b, 0);
	for (i = 0; i < n; i++)
		buf_addf(&b, "%s%s", i ? " " : "", v[i]);
	hostlist_free(v, n);
	return buf_detach(&b);
}

static void
expect(const char *pattern, const char *names)
{
	char *got = joined(pattern);

	assert_non_null(got);
	assert_string_equal(got, names);
	free(got);
}

static void
refused(const char *pattern, const char *why)
{
	struct rbx_err err;
	size_t n = 7;
	char **v = hostlist_expand(pattern, &n, &err);

	assert_null(v);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err.msg, why));
}

static void
test_hostlists_expand(void **state)
{
	(void)state;
	expect("n42", "n42");
	expect("n[1-3]", "n1 n2 n3");
	expect("n[01-03]", "n01 n02 n03");	  /* zero padding kept, as Slurm does */
	expect("n[08-10]", "n08 n09 n10");
	expect("gpu-[1-2,7]", "gpu-1 gpu-2 gpu-7");
	expect("a[1-2]-b[1-2]", "a1-b1 a1-b2 a2-b1 a2-b2");
	expect("x,n[1-2],y", "x n1 n2 y");
	expect("rack[1-2]n[3]", "rack1n3 rack2n3");
}

static void
test_bad_hostlists_are_refused(void **state)
{
	(void)state;
	refused("n[1-3", "'[' without ']'");
	refused("n1-3]", "']' without '['");
	refused("n[3-1]", "empty or too large");
	refused("n[a-b]", "is not a number or a range");
	refused("n[1-]", "is not a range");
	refused("n1,,n2", "empty name");
	refused("", "empty name");
	refused("n[1-200000]", "empty or too large");
	refused("a[1-1000]b[1-1000]", "names more than 100000 nodes");
}

static void
test_the_limit_is_inclusive(void **state)
{
	struct rbx_err err;
	size_t n;
	char **v = hostlist_expand("n[1-100000]", &n, &err);

	(void)state;
	assert_non_null(v);
	assert_int_equal(n, 100000);
	assert_string_equal(v[99999], "n100000");
	hostlist_free(v, n);
}

static void
test_hostlists_match(void **state)
{
	(void)state;
	assert_true(hostlist_match("n[01-10]", "n07"));
	assert_false(hostlist_match("n[01-10]", "n7")); /* padded names only */
	assert_true(hostlist_match("a,b[1-2]", "b2"));
	assert_false(hostlist_match("n[1-3", "n1"));
	/* Matched without expanding: 100,000 names, read digit by digit. */
	assert_true(hostlist_match("n[000001-100000]", "n050000"));
	assert_false(hostlist_match("n[000001-100000]", "n50000"));
	assert_true(hostlist_match("a[01-02]-b[1-2],gpu-[1-4,7]", "gpu-7"));
	assert_false(hostlist_match("a[01-02]-b[1-2],gpu-[1-4,7]", "gpu-5"));
	assert_true(hostlist_match("r[1-12]n[1-4]", "r12n4"));
	assert_true(hostlist_match("r[1-12]n[1-4]", "r1n2"));
	/* A number past 18 digits is no node number (strtol clamped it; v++ overflowed). */
	assert_false(hostlist_match("an[0005688888888888888888884]n", "an1n"));
	{
		struct rbx_err err;
		size_t n;
		assert_null(hostlist_expand("n[1-99999999999999999999]", &n, &err));
		assert_non_null(strstr(err.msg, "is not a node number"));
	}
	/* Empty brackets are no hostlist (fuzz_hostlist: expand took "a[]']" for no names). */
	assert_false(hostlist_match("a[]']-b,gp1", "gp1"));
	{
		struct rbx_err err;
		size_t n;
		assert_null(hostlist_expand("a[]']-b,gp1", &n, &err));
		assert_non_null(strstr(err.msg, "'[]' holds no number or range"));
	}
	/* A hostlist expand refuses (too many names) matches nothing either. */
	assert_false(hostlist_match("n[1-100000]x[1-2]", "n5x1"));
}

static char *
write_inventory(const char *text)
{
	char *path = xstrdup("/tmp/rbx-test-inv.XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs(text, f);
	fclose(f);
	return path;
}

static void
test_entries_resolve_in_file_order(void **state)
{
	char *path = write_inventory("defaults: {user: ops, port: 2222}\n"
				     "nodes:\n"
				     "  - {match: 'n[1-4]', host: '{{node}}.gpu.example'}\n"
				     "  - {match: n3, port: 22, labels: {pool: a}}\n");
	struct diags d;
	struct inventory *inv;
	struct node_conf c;
	struct rbx_err err;
	size_t n;
	char **names;

	(void)state;
	diags_init(&d);
	inv = inventory_load(path, &d);
	assert_non_null(inv);
	assert_int_equal(inventory_resolve(inv, "n3", &c, &err), 0);
	assert_string_equal(c.host, "n3.gpu.example");
	assert_string_equal(c.user, "ops");
	assert_int_equal(c.port, 22); /* the later entry wins */
	assert_string_equal(strmap_get(&c.labels, "pool"), "a");
	node_conf_release(&c);
	assert_int_equal(inventory_resolve(inv, "n1", &c, &err), 0);
	assert_int_equal(c.port, 2222);
	node_conf_release(&c);
	assert_int_equal(inventory_resolve(inv, "n9", &c, &err), -1);
	assert_non_null(strstr(err.msg, "names node 'n9'"));
	names = inventory_nodes(inv, &n);
	assert_int_equal(n, 4); /* n3 once */
	/* In the order first named: n1..n4 from the first entry; n3 again is a repeat. */
	assert_string_equal(names[0], "n1");
	assert_string_equal(names[2], "n3");
	assert_string_equal(names[3], "n4");
	hostlist_free(names, n);
	inventory_free(inv);
	diags_release(&d);
	unlink(path);
	free(path);
}

static void
test_inventory_errors_name_their_place(void **state)
{
	char *path = write_inventory("nodes:\n"
				     "  - {match: 'n[1-2', port: 99999}\n"
				     "  - {host: x, colour: blue}\n");
	struct diags d;
	char *text;

	(void)state;
	diags_init(&d);
	assert_null(inventory_load(path, &d));
	text = diags_text(&d);
	assert_non_null(strstr(text, ":2:13: error: hostlist 'n[1-2': '[' without ']'"));
	assert_non_null(strstr(text, ":2:28: error: port '99999' is not 1-65535"));
	assert_non_null(strstr(text, ":3:15: error: unknown key 'colour' in a node entry"));
	assert_non_null(strstr(text, ":3:5: error: a node entry needs 'match'"));
	free(text);
	diags_release(&d);
	unlink(path);
	free(path);
}

/* A mapping where the list goes was once "unknown key 'nodes'", which it is not. */
static void
test_nodes_as_a_mapping_says_so(void **state)
{
	char *path = write_inventory("nodes:\n  gpu[01-03]: {host: 127.0.0.1}\n");
	struct diags d;
	char *text;

	(void)state;
	diags_init(&d);
	assert_null(inventory_load(path, &d));
	text = diags_text(&d);
	assert_non_null(strstr(text, ":2:3: error: 'nodes' is a list of entries, each with a 'match'"));
	assert_null(strstr(text, "unknown key"));
	free(text);
	diags_release(&d);
	unlink(path);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostlists_expand),
		cmocka_unit_test(test_nodes_as_a_mapping_says_so),
		cmocka_unit_test(test_bad_hostlists_are_refused),
		cmocka_unit_test(test_the_limit_is_inclusive),
		cmocka_unit_test(test_hostlists_match),
		cmocka_unit_test(test_entries_resolve_in_file_order),
		cmocka_unit_test(test_inventory_errors_name_their_place),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
