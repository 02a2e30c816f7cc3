/* fuzz_runbook.c - the runbook loader and lint on arbitrary bytes: every input loads or
 * is refused with diagnostics, never a crash, a leak or undefined behaviour. */
#include "fuzz.h"

#include <stdlib.h>

#include "core/lint.h"
#include "core/runbook.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d;
	struct runbook *rb;

	diags_init(&d);
	rb = runbook_load_string("fuzz.yaml", (const char *)data, size, &d);
	if (rb)
		lint_runbook(rb, &d);
	free(diags_text(&d));
	runbook_free(rb);
	diags_release(&d);
	return 0;
}
