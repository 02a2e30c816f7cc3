/* reading.c - a step's output read as the runbook says: its expected exits and
 * regexes (POSIX extended, line-anchored) and its captures. */
#define _GNU_SOURCE
#include "core/reading.h"

#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

static bool
exit_expected(const struct step *s, int status)
{
	size_t i;

	for (i = 0; i < s->expect.nexits; i++)
		if (s->expect.exits[i] == status)
			return true;
	return false;
}

bool
reading_output_ok(const struct step *s, int status, const char *out, char *why, size_t n)
{
	if (!exit_expected(s, status)) {
		snprintf(why, n, "exit status %d", status);
		return false;
	}
	if (s->expect.stdout_re && regexec(&s->expect.out_re, out, 0, NULL, 0) != 0) {
		snprintf(why, n, "stdout does not match /%s/", s->expect.stdout_re);
		return false;
	}
	if (s->expect.stdout_not && regexec(&s->expect.not_re, out, 0, NULL, 0) == 0) {
		snprintf(why, n, "stdout matches /%s/", s->expect.stdout_not);
		return false;
	}
	return true;
}

static char *
trimmed(const char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
		       s[len - 1] == '\r'))
		len--;
	return xstrndup(s, len);
}

char *
reading_capture(const struct capture *c, const char *out)
{
	regmatch_t m[2];

	if (!c->pattern)
		return trimmed(out);
	if (regexec(&c->re, out, 2, m, 0) != 0)
		return xstrdup("");
	if (m[1].rm_so >= 0)
		return xstrndup(out + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
	return xstrndup(out + m[0].rm_so, (size_t)(m[0].rm_eo - m[0].rm_so));
}
