/* when.c - a step's `when`: any, all and not over tests of params and captures,
 * evaluated as the run reaches the step. */
#include <regex.h>
#include <string.h>

#include "core/engine.h"

bool
engine_when(const struct when *w, const struct strmap *params, const struct strmap *captures)
{
	const char *v;
	size_t i;

	switch (w->kind) {
	case WHEN_NOT:
		return !engine_when(w->subs[0], params, captures);
	case WHEN_ANY:
		for (i = 0; i < w->nsubs; i++)
			if (engine_when(w->subs[i], params, captures))
				return true;
		return false;
	case WHEN_ALL:
		for (i = 0; i < w->nsubs; i++)
			if (!engine_when(w->subs[i], params, captures))
				return false;
		return true;
	case WHEN_TEST:
		break;
	}
	v = strmap_get(w->is_param ? params : captures, w->name);
	if (!v)
		v = "";
	if (w->op == WHEN_MATCHES)
		return regexec(&w->re, v, 0, NULL, 0) == 0;
	for (i = 0; i < w->nvalues; i++)
		if (strcmp(v, w->values[i]) == 0)
			return true;
	return false;
}
