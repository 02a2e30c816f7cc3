/* utf8.c - UTF-8 validation, repair and character-boundary cuts, so that text
 * from commands (any bytes) always becomes a JSON string and never vanishes. */
#include "base/utf8.h"

#include <string.h>

#include "base/util.h"

size_t
utf8_seq_len(const char *s, size_t left)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned c = p[0], lo = 0x80, hi = 0xBF;
	size_t n, i;

	if (left == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	/* The second byte's range rules out overlong forms, surrogates and > U+10FFFF. */
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

bool
utf8_valid(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_seq_len(s + i, len - i)) == 0 || s[i] == 0)
			return false;
		i += n;
	}
	return true;
}

char *
utf8_sanitize(const char *s, size_t len)
{
	struct buf b;
	size_t i = 0, n;

	buf_init(&b, 0);
	while (i < len) {
		n = utf8_seq_len(s + i, len - i);
		if (n == 0 || s[i] == 0) {
			buf_adds(&b, "\xEF\xBF\xBD");
			i++;
			continue;
		}
		buf_add(&b, s + i, n);
		i += n;
	}
	return buf_detach(&b);
}

size_t
utf8_cut(const char *s, size_t max)
{
	size_t i = 0, n, len = strlen(s);

	if (len <= max)
		return len;
	while (i < max) {
		n = utf8_seq_len(s + i, len - i);
		if (n == 0)
			n = 1; /* an invalid byte is a unit of its own */
		if (i + n > max)
			break;
		i += n;
	}
	return i;
}

void
utf8_scrub(char *s)
{
	size_t len = strlen(s), i = 0, n;

	while (i < len) {
		n = utf8_seq_len(s + i, len - i);
		if (n == 0) {
			s[i++] = '?';
			continue;
		}
		i += n;
	}
}
