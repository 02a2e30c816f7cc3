/* schema.c - the runbook format as one table: objects, keys, types and docs.
 * Loader, lint and `rbx schema` all read this table, so they cannot drift. */
#include "core/schema.h"

#include <string.h>

#include "base/util.h"

const char *const schema_subsystems[] = {
	"driver", "gpu-hardware", "fabric", "scheduling", "training", "inference",
	"provisioning", NULL,
};

const char *const schema_actions[] = {
	"cordon", "drain", "uncordon", "sleep", "wait_ssh", "reboot", NULL,
};

static const char *const on_success_choices[] = {"uncordon", "keep_cordoned", NULL};
static const char *const mutates_choices[] = {"false", "true", "cluster", NULL};
static const char *const http_methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", NULL};

static const struct field runbook_fields[] = {
	{"name", FT_SLUG, F_REQUIRED, NULL, NULL, "The runbook's name; equals the file stem."},
	{"title", FT_STRING, F_REQUIRED, NULL, NULL, "One line for humans."},
	{"subsystem", FT_ENUM, F_REQUIRED, NULL, schema_subsystems,
	 "Where the catalogue files it."},
	{"summary", FT_STRING, F_REQUIRED, NULL, NULL, "One paragraph: when and why to run it."},
	{"trigger", FT_OBJECT, F_REQUIRED, "trigger", NULL, "What sends an operator here."},
	{"params", FT_MIXED, 0, "param", NULL,
	 "A mapping of parameter name to its definition (see `param`)."},
	{"guard", FT_OBJECT, F_REQUIRED, "guard", NULL,
	 "How the node is taken out of service before any mutating step."},
	{"max_attempts", FT_INT, 0, NULL, NULL,
	 "How many times the procedure may run (rollback between attempts). Default 1."},
	{"on_success", FT_ENUM, 0, NULL, on_success_choices,
	 "`uncordon` (default) returns the node to service after verify; `keep_cordoned` "
	 "leaves it out."},
	{"pre_checks", FT_OBJECTS, 0, "step",
	 NULL, "Read-only checks. Any failure aborts the run with nothing changed (exit 3)."},
	{"procedure", FT_OBJECTS, F_REQUIRED, "step", NULL,
	 "The numbered steps, run only once the guard holds."},
	{"verify", FT_OBJECTS, F_REQUIRED, "step", NULL,
	 "The proofs. A failure rolls back (and may retry the procedure)."},
	{"rollback", FT_OBJECTS, 0, "step", NULL,
	 "Run after the completed steps' `undo`s, in order, when the procedure or verify fails."},
	{"relies_on", FT_STRINGS, 0, NULL, NULL,
	 "What the runbook relies on in the real tools and hardware, each fact with its source "
	 "(a link, or the capture under tests/fixtures/real that shows it)."},
	{"references", FT_STRINGS, 0, NULL, NULL, "Links to the sources the runbook rests on."},
	{"related", FT_STRINGS, 0, NULL, NULL, "Names of related runbooks."},
	{NULL, 0, 0, NULL, NULL, NULL},
};

static const struct field trigger_fields[] = {
	{"summary", FT_STRING, F_REQUIRED, NULL, NULL, "The symptom or alert, in a few words."},
	{"alerts", FT_MIXED, 0, NULL, NULL,
	 "A list of Alertmanager label matchers (mappings of label to value) that route an "
	 "alert here."},
	{"node_label", FT_STRING, 0, NULL, NULL,
	 "Which alert label names the node (default `Hostname`)."},
	{"rules", FT_OBJECTS, 0, "rule", NULL,
	 "The Prometheus alerting rules this runbook answers (see `rule`); `rbx rules` renders "
	 "them with a `runbook_url` to the runbook's page for the alert's node."},
	{NULL, 0, 0, NULL, NULL, NULL},
};

static const char *const severities[] = {"critical", "warning", "info", NULL};

static const struct field rule_fields[] = {
	{"alert", FT_STRING, F_REQUIRED, NULL, NULL,
	 "The alert's name; one of the trigger's `alerts` matchers names it."},
	{"expr", FT_STRING, F_REQUIRED, NULL, NULL,
	 "The PromQL expression, over the real exporters' metric names."},
	{"for", FT_DURATION, 0, NULL, NULL, "How long it must hold before it fires (default 0s)."},
	{"severity", FT_ENUM, F_REQUIRED, NULL, severities, "The `severity` label."},
	{"summary", FT_STRING, F_REQUIRED, NULL, NULL,
	 "One line; may name labels as `{{ $labels.NAME }}`."},
	{"description", FT_STRING, F_REQUIRED, NULL, NULL,
	 "What it means and what to do; may name labels as `{{ $labels.NAME }}`."},
	{"test", FT_OBJECT, F_REQUIRED, "rule_test", NULL,
	 "The series it fires on and stays quiet on: `promtool test rules` runs them."},
	{NULL, 0, 0, NULL, NULL, NULL},
};

static const struct field rule_test_fields[] = {
	{"firing", FT_STRINGS, F_REQUIRED, NULL, NULL,
	 "Input series, each `METRIC{LABELS} VALUES` in promtool's notation (`79x30`: 31 "
	 "samples a minute apart), on which the alert fires."},
	{"healthy", FT_STRINGS, F_REQUIRED, NULL, NULL,
	 "Input series of a healthy node, on which it stays quiet."},
	{"labels", FT_MAP, F_REQUIRED, NULL, NULL,
	 "The labels the expression gives the firing alert (the node label among them)."},
	{NULL, 0, 0, NULL, NULL, NULL},
};

static const struct field param_fields[] = {
	{"description", FT_STRING, F_REQUIRED, NULL, NULL, "What the value means."},
	{"default", FT_STRING, 0, NULL, NULL, "The value when none is given; without it the "
					      "parameter is required."},
	{"pattern", FT_REGEX, 0, NULL, NULL,
	 "An extended regex every value must match (anchor it with ^...$). Checked before "
	 "anything runs."},
	{"secret", FT_BOOL, 0, NULL, NULL,
	 "The value never reaches the journal or the output (shown as `***`)."},
	{NULL, 0, 0, NULL, NULL, NULL},
};

static const struct field guard_fields[] = {
	{"none", FT_STRING, 0, NULL, NULL,
	 "A reason the runbook needs no guard; then it may hold no mutating step."},
	{"cordon", FT_BOOL, 0, NULL, NULL, "Stop new work landing on the node (default true)."},
	{"drain", FT_BOOL, 0, NULL, NULL, "Wait for running work to leave (default true)."},
	{"drain_timeout", FT_DURATION, 0, NULL, NULL,
	 "How long the drain may take before the run aborts (default 30m)."},
	{"keep_running", FT_STRING, 0, NULL, NULL,
	 "With `drain: false`: why the work running on the node may stay while the procedure "
	 "runs (the job being repaired, which the procedure requeues). Required then: a guard "
	 "that cordons without draining says so."},
	{"blocking_alerts", FT_STRINGS, 0, NULL, NULL,
	 "Alert names that hold the guard back while they fire on the node or its pool "
	 "(asked of the inventory's Alertmanager, with its own `blocking_alerts`); the run "
	 "waits up to the Alertmanager's `gate_timeout`, then stops with nothing changed."},
	{NULL, 0, 0, NULL, NULL, NULL},
};

static const struct field step_fields[] = {
	{"name", FT_STRING, F_REQUIRED, NULL, NULL, "What the step does, for humans."},
	{"ssh", FT_TEMPLATE, F_ACTION, NULL, NULL,
	 "A shell command run on the node through its transport (on a simulated node: "
	 "locally, with the simulated tools)."},
	{"run", FT_TEMPLATE, F_ACTION, NULL, NULL, "A shell command run on the machine rbx runs on."},
	{"http", FT_OBJECT, F_ACTION, "http", NULL, "An HTTP request (libcurl)."},
	{"action", FT_ENUM, F_ACTION, NULL, schema_actions,
	 "A built-in action: cordon, drain, uncordon, sleep (needs `duration`), wait_ssh, reboot."},
	{"confirm", FT_TEMPLATE, F_ACTION, NULL, NULL,
	 "A yes/no question for the operator; `--yes` answers yes. No TTY and no `--yes`: "
	 "the run stops before its first mutation."},
	{"timeout", FT_DURATION, 0, NULL, NULL,
	 "Deadline for one try (default: 5m pre-checks, 30m procedure, 60m verify, 30m "
	 "rollback). The step's whole process group is killed at the deadline."},
	{"retries", FT_INT, 0, NULL, NULL, "Extra tries after a failure (default 0)."},
	{"retry_delay", FT_DURATION, 0, NULL, NULL, "Pause between tries (default 5s)."},
	{"duration", FT_DURATION, 0, NULL, NULL, "How long `action: sleep` sleeps."},
	{"expect", FT_OBJECT, 0, "expect", NULL, "What success looks like (default: exit 0)."},
	{"capture", FT_MIXED, 0, NULL, NULL,
	 "A name (the whole trimmed stdout is kept under it), or a mapping of names to regexes "
	 "(group 1, or the whole match, is kept). Used later as `{{captures.NAME}}`."},
	{"when", FT_OBJECT, 0, "when", NULL, "Run the step only when this holds; else it is skipped."},
	{"mutates", FT_ENUM, 0, NULL, mutates_choices,
	 "Whether the step changes the node: `true` (the default in procedure and rollback; "
	 "it needs the guard), `false` (the default in pre_checks and verify), or `cluster`: "
	 "it changes cluster state, not the node (`scontrol requeue`, `sbatch`, `kubectl "
	 "rollout`), so it may run without a node guard but is never repeated on resume "
	 "without asking."},
	{"idempotent", FT_BOOL, 0, NULL, NULL,
	 "Safe to run again when a resume finds it in doubt (default: true for steps that do "
	 "not mutate, false for `true` and `cluster`)."},
	{"undo", FT_OBJECT, 0, "step", NULL,
	 "One step that reverses this one; run in reverse order on rollback."},
	{"on_success", FT_ENUM, 0, NULL, on_success_choices,
	 "`keep_cordoned`: once this step has run, the node stays out of service at the end "
	 "(an RMA decision, say)."},
	{NULL, 0, 0, NULL, NULL, NULL},
};

static const struct field http_fields[] = {
	{"method", FT_ENUM, 0, NULL, http_methods, "Default GET."},
	{"url", FT_TEMPLATE, F_REQUIRED, NULL, NULL, "Templates in it are percent-encoded."},
	{"headers", FT_MAP, 0, NULL, NULL, "Header name to value (templates allowed)."},
	{"body", FT_TEMPLATE, 0, NULL, NULL, "The request body."},
	{"expect_status", FT_MIXED, 0, NULL, NULL,
	 "A status code or a list of them (default: any 2xx)."},
	{NULL, 0, 0, NULL, NULL, NULL},
};

static const struct field expect_fields[] = {
	{"exit", FT_MIXED, 0, NULL, NULL, "An exit status or a list of them (default 0)."},
	{"stdout", FT_REGEX, 0, NULL, NULL, "A regex stdout must match."},
	{"stdout_not", FT_REGEX, 0, NULL, NULL, "A regex stdout must not match."},
	{NULL, 0, 0, NULL, NULL, NULL},
};

static const struct field when_fields[] = {
	{"capture", FT_STRING, 0, NULL, NULL, "Test a value captured by an earlier step "
					      "(an unset capture is the empty string)."},
	{"param", FT_STRING, 0, NULL, NULL, "Test a parameter."},
	{"equals", FT_STRING, 0, NULL, NULL, "Holds when the value equals this."},
	{"in", FT_STRINGS, 0, NULL, NULL, "Holds when the value is one of these."},
	{"matches", FT_REGEX, 0, NULL, NULL, "Holds when the value matches this regex."},
	{"not", FT_OBJECT, 0, "when", NULL, "Holds when the inner condition does not."},
	{"any", FT_OBJECTS, 0, "when", NULL, "Holds when any inner condition holds."},
	{"all", FT_OBJECTS, 0, "when", NULL, "Holds when every inner condition holds."},
	{NULL, 0, 0, NULL, NULL, NULL},
};

static const struct schema schemas[] = {
	{"runbook", "The top level of a runbook file.", runbook_fields},
	{"trigger", "What sends an operator to the runbook.", trigger_fields},
	{"rule", "A Prometheus alerting rule, under `trigger.rules`.", rule_fields},
	{"rule_test", "A rule's unit test for `promtool test rules`.", rule_test_fields},
	{"param", "One parameter, under `params:`; used as `{{params.NAME}}`.", param_fields},
	{"guard", "The cordon/drain guard. Either `{none: REASON}` or cordon/drain settings.",
	 guard_fields},
	{"step", "One step, in pre_checks, procedure, verify, rollback, or as an `undo`. A step "
		 "has a name and exactly one action: ssh, run, http, action or confirm.",
	 step_fields},
	{"http", "An HTTP request step.", http_fields},
	{"expect", "A step's success test.", expect_fields},
	{"when", "A condition: exactly one of capture/param with exactly one of "
		 "equals/in/matches; or exactly one of not/any/all.",
	 when_fields},
	{NULL, NULL, NULL},
};

const struct schema *
schema_get(const char *name)
{
	const struct schema *s;

	for (s = schemas; s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

const struct field *
schema_field(const struct schema *s, const char *key)
{
	const struct field *f;

	for (f = s->fields; f->key; f++)
		if (strcmp(f->key, key) == 0)
			return f;
	return NULL;
}

const char *
schema_suggest(const struct schema *s, const char *key)
{
	const struct field *f;
	const char *best = NULL;
	size_t bestd = 3;

	for (f = s->fields; f->key; f++) {
		size_t d = util_edit_distance(key, f->key);
		if (d < bestd) {
			bestd = d;
			best = f->key;
		}
	}
	return best;
}

const char *
field_type_name(enum field_type t)
{
	switch (t) {
	case FT_STRING: return "string";
	case FT_TEMPLATE: return "template";
	case FT_SLUG: return "name";
	case FT_INT: return "integer";
	case FT_BOOL: return "boolean";
	case FT_DURATION: return "duration";
	case FT_REGEX: return "regex";
	case FT_ENUM: return "one of";
	case FT_STRINGS: return "list of strings";
	case FT_MAP: return "mapping";
	case FT_OBJECT: return "object";
	case FT_OBJECTS: return "list";
	case FT_MIXED: return "see text";
	}
	return "?";
}

const struct schema *const *
schema_all(void)
{
	static const struct schema *all[sizeof(schemas) / sizeof(schemas[0])];
	size_t i;

	for (i = 0; schemas[i].name; i++)
		all[i] = &schemas[i];
	all[i] = NULL;
	return all;
}

void
schema_print_markdown(FILE *fp)
{
	const struct schema *s;
	const struct field *f;

	for (s = schemas; s->name; s++) {
		fprintf(fp, "### `%s`\n\n%s\n\n", s->name, s->doc);
		fprintf(fp, "| key | type | required | meaning |\n|---|---|---|---|\n");
		for (f = s->fields; f->key; f++) {
			fprintf(fp, "| `%s` | %s", f->key, field_type_name(f->type));
			if (f->type == FT_ENUM && f->choices) {
				const char *const *c;
				fprintf(fp, ":");
				for (c = f->choices; *c; c++)
					fprintf(fp, "%s `%s`", c == f->choices ? "" : ",", *c);
			} else if ((f->type == FT_OBJECT || f->type == FT_OBJECTS) && f->object) {
				fprintf(fp, " of `%s`", f->object);
			}
			fprintf(fp, " | %s | %s |\n", (f->flags & F_REQUIRED) ? "yes" : "",
				f->doc);
		}
		fprintf(fp, "\n");
	}
}
