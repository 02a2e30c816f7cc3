/* utf8.h - UTF-8 checks for text that leaves rbx as JSON: the journal and reports
 * must never lose a record to a byte jansson refuses, nor cut a character in half. */
#ifndef RBX_UTF8_H
#define RBX_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0 when s[0] starts none. */
size_t utf8_seq_len(const char *s, size_t left);
bool utf8_valid(const char *s, size_t len);
/* A copy with every invalid byte replaced by U+FFFD (allocated). */
char *utf8_sanitize(const char *s, size_t len);
/* The largest n <= max such that s[0..n) ends on a character boundary. */
size_t utf8_cut(const char *s, size_t max);
/* In place: invalid bytes become '?', and the string ends on a character boundary. */
void utf8_scrub(char *s);

#endif
