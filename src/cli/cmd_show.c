/* cmd_show.c - `rbx show RUNBOOK`: what a runbook is for, what triggers it,
 * its params and guard, and its steps by phase, as written (not rendered). */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "core/runbook.h"

static const struct opt show_opts[] = {
	{NULL, 0, NULL, NULL, false},
};

static void
show_steps(const struct runbook *rb, enum phase p)
{
	size_t i;

	if (!rb->nsteps[p])
		return;
	printf("\n%s\n", phase_title(p));
	for (i = 0; i < rb->nsteps[p]; i++) {
		const struct step *s = rb->steps[p][i];
		printf("  %zu. %s%s\n", i + 1, s->name, s->mutates ? "  [mutates]" : "");
		if (s->when) {
			struct buf b;
			buf_init(&b, 0);
			runbook_when_text(s->when, &b);
			printf("     when %s\n", b.data);
			buf_release(&b);
		}
		if (s->kind == STEP_ACTION)
			printf("     action: %s\n", step_action_name(s->action));
		else if (s->kind == STEP_HTTP)
			printf("     http: %s %s\n", s->http->method, s->http->url);
		else
			printf("     %s: %s\n", step_kind_name(s->kind), s->text);
		if (s->undo)
			printf("     undo: %s\n", s->undo->text ? s->undo->text : s->undo->name);
	}
}

static enum rbx_status
show_exec(struct args *a, struct rbx_err *err)
{
	struct runbook *rb = cmd_load_runbook(a->argv[0], err);
	size_t i, k;
	int p;

	if (!rb)
		return RBX_USAGE;
	printf("%s — %s\nsubsystem: %s\nfile: %s\n\n%s\n", rb->name, rb->title, rb->subsystem,
	       rb->path, rb->summary);
	printf("\ntrigger: %s\n", rb->trigger.summary);
	for (i = 0; i < rb->trigger.nalerts; i++) {
		printf("  alert:");
		for (k = 0; k < rb->trigger.alerts[i].n; k++)
			printf(" %s=%s", rb->trigger.alerts[i].keys[k], rb->trigger.alerts[i].values[k]);
		printf("\n");
	}
	for (i = 0; i < rb->nparams; i++)
		printf("param %s: %s (default %s%s%s)\n", rb->params[i].name,
		       rb->params[i].description, rb->params[i].def ? rb->params[i].def : "none",
		       rb->params[i].pattern ? ", pattern " : "",
		       rb->params[i].pattern ? rb->params[i].pattern : "");
	if (rb->guard.none)
		printf("guard: none (%s)\n", rb->guard.none);
	else
		printf("guard: cordon%s, max attempts %d\n", rb->guard.drain ? " + drain" : "",
		       rb->max_attempts);
	for (p = 0; p < PHASE_COUNT; p++)
		show_steps(rb, (enum phase)p);
	printf("\nrun it: rbx run %s --node NODE\n", rb->name);
	runbook_free(rb);
	return RBX_OK;
}

const struct cmd cmd_show = {
	"show", "RUNBOOK", "describe a runbook: trigger, params, guard and steps", show_opts, 1, 1,
	show_exec,
};
