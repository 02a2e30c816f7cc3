/* reading.h - how a step's output is read: whether it succeeded (exit, stdout, stdout_not)
 * and what each capture keeps. The engine and the conformance test read through it alike. */
#ifndef RBX_READING_H
#define RBX_READING_H

#include <stdbool.h>
#include <stddef.h>

#include "core/runbook.h"

/* Whether a finished command's status and stdout satisfy s's expect; else why, into why. */
bool reading_output_ok(const struct step *s, int status, const char *out, char *why, size_t n);
/* What capture c keeps from out: group 1, the whole match, the trimmed output, or "" (allocated). */
char *reading_capture(const struct capture *c, const char *out);

#endif
