/* fuzz_journal.c - arbitrary bytes as a run's journal: read, then replayed for a resume
 * against a real runbook (gpu-fault), as `rbx resume` and `rbx log` would. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/engine.h"
#include "core/resume.h"
#include "core/runbook.h"
#include "io/journal.h"

static struct runbook *rb;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct diags d;
	const char *path = getenv("RBX_FUZZ_RUNBOOK");

	(void)argc;
	(void)argv;
	diags_init(&d);
	rb = runbook_load(path ? path : "runbooks/gpu-fault.yaml", &d);
	diags_release(&d);
	if (!rb) {
		fprintf(stderr, "fuzz_journal: set RBX_FUZZ_RUNBOOK to runbooks/gpu-fault.yaml\n");
		exit(2);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char id[] = "20261126T000000Z-n42-abcdef";
	const char *dir = fuzz_state_dir();
	char *runs = xasprintf("%s/runs", dir), *path = journal_run_path(dir, id);
	struct resume_info info = {0};
	struct run_seed sd;
	struct rbx_err err;
	FILE *fp;

	util_mkdir_p(runs, 0700, &err);
	fp = fopen(path, "w");
	if (fp) {
		fwrite(data, 1, size, fp);
		fclose(fp);
	}
	json_decref(journal_read(path, NULL, NULL, &err));
	run_seed_init(&sd);
	if (resume_read(dir, id, &info, &err) == 0) {
		json_decref(resume_where(info.recs));
		(void)resume_replay(&info, rb, &sd, &err);
	}
	run_seed_release(&sd);
	resume_info_release(&info);
	free(path);
	free(runs);
	return 0;
}
