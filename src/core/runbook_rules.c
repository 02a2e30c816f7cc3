/* runbook_rules.c - the loader's part for trigger.rules: the Prometheus alerting rules a
 * runbook owns, checked here so that `rbx rules` renders only what promtool accepts. */
#include <ctype.h>
#include <regex.h>
#include <string.h>

#include "base/util.h"
#include "core/runbook_internal.h"

static bool
valid_metric_name(const char *s)
{
	if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/*
 * Annotations are Go templates in Prometheus; rbx renders their expected text for
 * promtool's tests itself, so it accepts only `{{ $labels.NAME }}` in them.
 */
static bool
template_ok(struct loader *L, yaml_node_t *n, const char *text)
{
	const char *p = text;

	while ((p = strstr(p, "{{")) != NULL) {
		const char *q = p + 2, *end;
		size_t len;
		if (strncmp(q, " $labels.", 9) != 0)
			goto bad;
		q += 9;
		end = strstr(q, " }}");
		if (!end)
			goto bad;
		len = (size_t)(end - q);
		char *name = xstrndup(q, len);
		bool ok = valid_metric_name(name);
		free(name);
		if (!ok)
			goto bad;
		p = end + 3;
	}
	return true;
bad:
	ydoc_error(L->y, n, "only '{{ $labels.NAME }}' may appear between braces here");
	return false;
}

static char **
series_list(struct loader *L, yaml_node_t *t, const char *key, size_t *count)
{
	char **v = ydoc_strings(L->y, ydoc_get(L->y, t, key), key, count);
	size_t i;

	for (i = 0; v && i < *count; i++) {
		const char *sp = strrchr(v[i], ' '), *brace = strchr(v[i], '{');
		if (!sp || sp == v[i] || (brace && brace > sp) || !sp[1])
			ydoc_error(L->y, ydoc_get(L->y, t, key),
				   "'%s' must read 'METRIC{LABELS} VALUES' (promtool's notation)", v[i]);
	}
	if (v && *count == 0)
		ydoc_error(L->y, ydoc_get(L->y, t, key), "'%s' needs at least one series", key);
	return v;
}

static void
parse_rule_test(struct loader *L, struct alert_rule *r, yaml_node_t *t, const char *node_label)
{
	yaml_node_t *lm;
	size_t i;
	bool has_node = false;

	if (!t || !loader_check_object(L, t, "rule_test", "a rule's 'test'"))
		return;
	r->firing = series_list(L, t, "firing", &r->nfiring);
	r->healthy = series_list(L, t, "healthy", &r->nhealthy);
	lm = ydoc_get(L->y, t, "labels");
	if (!lm || !ydoc_is_map(lm))
		return;
	r->labels.keys = xcalloc(ydoc_len(lm) + 1, sizeof(char *));
	r->labels.values = xcalloc(ydoc_len(lm) + 1, sizeof(char *));
	for (i = 0; i < ydoc_len(lm); i++) {
		const char *k = ydoc_scalar(ydoc_key(L->y, lm, i)), *v = ydoc_scalar(ydoc_value(L->y, lm, i));
		if (!k || !v || !valid_metric_name(k)) {
			ydoc_error(L->y, ydoc_key(L->y, lm, i), "test labels are label names to values");
			continue;
		}
		has_node = has_node || strcmp(k, node_label) == 0;
		r->labels.keys[r->labels.n] = xstrdup(k);
		r->labels.values[r->labels.n] = xstrdup(v);
		r->labels.n++;
	}
	if (!has_node)
		ydoc_error(L->y, lm, "the firing alert's labels must name the node ('%s')", node_label);
}

static bool
matched_by_trigger(yaml_node_t *alerts, struct loader *L, const char *name)
{
	size_t i;

	for (i = 0; alerts && ydoc_is_seq(alerts) && i < ydoc_len(alerts); i++) {
		yaml_node_t *m = ydoc_item(L->y, alerts, i);
		const char *v = ydoc_is_map(m) ? ydoc_scalar(ydoc_get(L->y, m, "alertname")) : NULL;
		if (v && strcmp(v, name) == 0)
			return true;
	}
	return false;
}

void
runbook_parse_rules(struct loader *L, yaml_node_t *trigger)
{
	struct trigger *t = &L->rb->trigger;
	yaml_node_t *rules = ydoc_get(L->y, trigger, "rules");
	size_t i, j;

	if (!rules || !ydoc_is_seq(rules))
		return;
	t->rules = xcalloc(ydoc_len(rules) + 1, sizeof(*t->rules));
	for (i = 0; i < ydoc_len(rules); i++) {
		yaml_node_t *n = ydoc_item(L->y, rules, i);
		struct alert_rule *r = &t->rules[t->nrules];
		if (!loader_check_object(L, n, "rule", "a rule"))
			continue;
		t->nrules++;
		r->alert = ydoc_get_str(L->y, n, "alert");
		r->expr = ydoc_get_str(L->y, n, "expr");
		r->for_ = ydoc_get_str(L->y, n, "for");
		r->severity = ydoc_get_str(L->y, n, "severity");
		r->summary = ydoc_get_str(L->y, n, "summary");
		r->description = ydoc_get_str(L->y, n, "description");
		if (r->alert && !valid_metric_name(r->alert))
			ydoc_error(L->y, ydoc_get(L->y, n, "alert"), "'%s' is not a valid alert name", r->alert);
		else if (r->alert && !matched_by_trigger(ydoc_get(L->y, trigger, "alerts"), L, r->alert))
			ydoc_error(L->y, ydoc_get(L->y, n, "alert"),
				   "no matcher in the trigger's 'alerts' names alert '%s': it would not "
				   "route here", r->alert);
		for (j = 0; j < i && r->alert; j++)
			if (t->rules[j].alert && t->rules[j].alert != r->alert &&
			    strcmp(t->rules[j].alert, r->alert) == 0)
				ydoc_error(L->y, n, "alert '%s' has a rule already", r->alert);
		if (r->summary)
			template_ok(L, ydoc_get(L->y, n, "summary"), r->summary);
		if (r->description)
			template_ok(L, ydoc_get(L->y, n, "description"), r->description);
		parse_rule_test(L, r, ydoc_get(L->y, n, "test"), t->node_label);
	}
}

void
runbook_rules_free(struct trigger *t)
{
	size_t i, j;

	for (i = 0; i < t->nrules; i++) {
		struct alert_rule *r = &t->rules[i];
		free(r->alert);
		free(r->expr);
		free(r->for_);
		free(r->severity);
		free(r->summary);
		free(r->description);
		ydoc_strings_free(r->firing, r->nfiring);
		ydoc_strings_free(r->healthy, r->nhealthy);
		for (j = 0; j < r->labels.n; j++) {
			free(r->labels.keys[j]);
			free(r->labels.values[j]);
		}
		free(r->labels.keys);
		free(r->labels.values);
	}
	free(t->rules);
	t->rules = NULL;
	t->nrules = 0;
}
