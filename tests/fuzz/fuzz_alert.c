/* fuzz_alert.c - an Alertmanager webhook body (what rbx alert and rbx serve's receiver
 * take from the network): parsed, and each alert routed to a runbook and a node. */
#include "fuzz.h"

#include <stdlib.h>

#include "core/alert.h"
#include "core/runbook.h"

static struct runbook **rbs;
static size_t nrbs;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct diags d;

	(void)argc;
	(void)argv;
	diags_init(&d);
	runbook_load_catalogue(&rbs, &nrbs, &d); /* RBX_RUNBOOKS names runbooks/ */
	diags_release(&d);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char n42[] = "n42", n43[] = "n43";
	char *nodes[] = {n42, n43};
	struct alert_note note;
	struct rbx_err err;
	size_t i;

	if (alert_parse((const char *)data, size, &note, &err) < 0)
		return 0;
	for (i = 0; i < note.n; i++) {
		struct alert_route rt;
		alert_route(&note.items[i], rbs, nrbs, nodes, 2, &rt);
		free(rt.node);
	}
	alert_note_release(&note);
	return 0;
}
