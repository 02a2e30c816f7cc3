/* test_report.h - how `rbx test` reports: a line a scenario as it ends, the summary (or
 * JSON), the coverage table, and JUnit XML for CI. */
#ifndef RBX_TEST_REPORT_H
#define RBX_TEST_REPORT_H

#include <jansson.h>
#include <stdbool.h>

#include "app/test_run.h"

struct test_report {
	const char *format; /* text or json */
	bool tty;
	size_t passed, failed;
	long long ms;
};

/* As each scenario ends (text: its line, and for a failure what did not hold). */
void test_report_line(void *arg, const struct test_result *r);
/* The summary (text) or the whole result (json); bare: runbooks with no scenario file. */
void test_report_summary(struct test_report *rep, const struct test_result *r, size_t n,
			 const char *const *bare, size_t nbare, json_t *coverage);
int test_report_junit(const char *path, const struct test_result *r, size_t n, long long ms,
		      struct rbx_err *err);

#endif
