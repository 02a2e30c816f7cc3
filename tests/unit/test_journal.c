/* test_journal.c - the journal: private files, numbered records, tolerant reads
 * of a torn last line, run listing in time order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/journal.h"

static char dir[] = "/tmp/rbx-journal-test.XXXXXX";

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	util_rm_rf(dir);
	return 0;
}

static void
test_write_and_read_back(void **state)
{
	struct rbx_err err;
	struct journal *j;
	struct stat st;
	json_t *recs, *rec;
	int torn = 0;
	char *path;

	(void)state;
	umask(0);
	j = journal_create(dir, "20260101T000000Z-n1-aaaaaa", &err);
	umask(022);
	assert_non_null(j);
	rec = json_pack("{s:s}", "type", "run_start");
	assert_int_equal(journal_append_record(j, rec, true, &err), 0);
	json_decref(rec);
	rec = json_pack("{s:s, s:s}", "type", "step_start", "cmd", "echo 'x\"y'\n");
	assert_int_equal(journal_append_record(j, rec, false, &err), 0);
	json_decref(rec);
	path = xstrdup(journal_path(j));
	journal_close(j);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	recs = journal_read(path, &torn, NULL, &err);
	assert_non_null(recs);
	assert_int_equal(torn, 0);
	assert_int_equal(json_array_size(recs), 2);
	rec = json_array_get(recs, 1);
	assert_int_equal(json_integer_value(json_object_get(rec, "seq")), 2);
	assert_string_equal(json_string_value(json_object_get(rec, "cmd")), "echo 'x\"y'\n");
	assert_string_equal(json_string_value(json_object_get(rec, "run")), "20260101T000000Z-n1-aaaaaa");
	json_decref(recs);
	/* A second journal of the same id is refused, never overwritten. */
	assert_null(journal_create(dir, "20260101T000000Z-n1-aaaaaa", &err));
	free(path);
}

static void
test_torn_and_damaged(void **state)
{
	struct rbx_err err;
	char *path = journal_run_path(dir, "20260101T000000Z-n1-aaaaaa");
	FILE *fp = fopen(path, "a");
	json_t *recs;
	int torn = 0;

	(void)state;
	fputs("{\"type\":\"step_end\",\"seq\":3", fp);
	fclose(fp);
	recs = journal_read(path, &torn, NULL, &err);
	assert_non_null(recs);
	assert_int_equal(torn, 1);
	assert_int_equal(json_array_size(recs), 2);
	json_decref(recs);
	fp = fopen(path, "a");
	fputs("\n{\"type\":\"x\"}\n", fp);
	fclose(fp);
	assert_null(journal_read(path, &torn, NULL, &err));
	assert_non_null(strstr(err.msg, ":3: not a journal record"));
	free(path);
}

static void
test_reopen_cuts_a_torn_tail(void **state)
{
	struct rbx_err err;
	char *path = journal_run_path(dir, "20280101T000000Z-n3-cccccc");
	struct journal *j = journal_create(dir, "20280101T000000Z-n3-cccccc", &err);
	json_t *recs, *rec = json_pack("{s:s}", "type", "run_start");
	size_t good = 0;
	int torn = 0;
	FILE *fp;

	(void)state;
	assert_int_equal(journal_append_record(j, rec, true, &err), 0);
	json_decref(rec);
	journal_close(j);
	fp = fopen(path, "a");
	fputs("{\"type\":\"step_st", fp); /* what a power loss mid-write leaves */
	fclose(fp);
	recs = journal_read(path, &torn, &good, &err);
	assert_int_equal(torn, 1);
	json_decref(recs);
	j = journal_reopen(dir, "20280101T000000Z-n3-cccccc", 1, good, &err);
	assert_non_null(j);
	rec = json_pack("{s:s}", "type", "resume");
	assert_int_equal(journal_append_record(j, rec, true, &err), 0);
	json_decref(rec);
	journal_close(j);
	/* The torn bytes are gone and numbering went on: two whole records. */
	recs = journal_read(path, &torn, NULL, &err);
	assert_int_equal(torn, 0);
	assert_int_equal(json_array_size(recs), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(recs, 1), "seq")), 2);
	json_decref(recs);
	/* A journal another user could write is not continued. */
	chmod(path, 0644);
	assert_null(journal_reopen(dir, "20280101T000000Z-n3-cccccc", 2, 0, &err));
	assert_non_null(strstr(err.msg, "not this user's alone"));
	free(path);
}

static void
test_list_and_ids(void **state)
{
	struct rbx_err err;
	struct journal *j = journal_create(dir, "20270101T000000Z-n2-bbbbbb", &err);
	char **ids;

	(void)state;
	journal_close(j);
	ids = journal_list_runs(dir);
	assert_string_equal(ids[0], "20270101T000000Z-n2-bbbbbb");
	assert_string_equal(ids[1], "20260101T000000Z-n1-aaaaaa");
	assert_null(ids[2]);
	journal_free_list(ids);
	assert_true(journal_valid_run_id("20270101T000000Z-n2-bbbbbb"));
	assert_false(journal_valid_run_id("../x"));
	assert_false(journal_valid_run_id(".hidden"));
	assert_false(journal_valid_run_id("a/b"));
	assert_false(journal_valid_run_id(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_and_read_back),
		cmocka_unit_test(test_torn_and_damaged),
		cmocka_unit_test(test_list_and_ids),
		cmocka_unit_test(test_reopen_cuts_a_torn_tail),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
