/* target.c - resolves where a run goes (an inventory node, or one a named transport
 * reaches) and builds its backends from the registry, so run and plan agree on it. */
#define _GNU_SOURCE
#include "app/target.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "core/template.h"

/* The site guard commands arrive as templates; one renderer turns them to shell text. */
static int
render_guard_command(char **cmd, const char *what, struct rbx_err *err)
{
	struct strmap extra = {0};
	struct strmap vars = {0};
	struct tmpl_ctx c;
	struct buf out;
	int rc;

	if (!*cmd)
		return 0;
	memset(&c, 0, sizeof(c));
	strmap_set(&extra, "reason", "");
	c.node = "";
	c.extra = &extra;
	c.vars = &vars;
	buf_init(&out, 0);
	rc = template_render(*cmd, TMPL_SHELL, &c, &out, err);
	if (rc < 0)
		err_prefix(err, "%s '%s'", what, *cmd);
	else {
		free(*cmd);
		*cmd = buf_detach(&out);
	}
	buf_release(&out);
	strmap_release(&vars);
	strmap_release(&extra);
	return rc;
}

static int
pick_backends(struct target *t, const char *node, struct rbx_err *err)
{
	char names[256];

	t->tx = registry_transport(t->via ? t->via : t->conf.transport);
	if (!t->tx) {
		registry_names(true, names, sizeof(names));
		return err_set(err, "node %s: unknown transport '%s' (%s)", node,
			       t->via ? t->via : t->conf.transport, names);
	}
	if (!t->scheduler)
		t->scheduler = xstrdup(t->tx->default_sched);
	t->sc = registry_sched(t->scheduler);
	if (!t->sc) {
		registry_names(false, names, sizeof(names));
		return err_set(err, "node %s: unknown scheduler backend '%s' (%s)", node, t->scheduler,
			       names);
	}
	if (render_guard_command(&t->conf.cordon_command, "cordon_command", err) < 0 ||
	    render_guard_command(&t->conf.drain_command, "drain_command", err) < 0 ||
	    render_guard_command(&t->conf.uncordon_command, "uncordon_command", err) < 0 ||
	    render_guard_command(&t->conf.state_command, "state_command", err) < 0)
		return -1;
	if (t->tx->flags & BACKEND_SIMULATED)
		t->address = xasprintf("%s:%s", t->tx->name, node);
	else
		t->address = xasprintf("%s:%s@%s:%d", t->conf.transport, t->conf.user, t->conf.host,
				       t->conf.port);
	return 0;
}

int
target_resolve(const char *node, const char *via, const char *inventory, struct target *t,
	       struct rbx_err *err)
{
	struct inventory *inv = NULL;
	struct diags d;
	char *path = NULL;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	diags_init(&d);
	if (via) {
		const struct transport_entry *e = registry_transport(via);
		if (!e || !(e->flags & BACKEND_SIMULATED)) {
			err_set(err, "transport '%s' needs an inventory entry for node %s", via, node);
			goto out;
		}
		t->via = xstrdup(via);
		t->conf.name = xstrdup(node);
		rc = pick_backends(t, node, err);
		goto out;
	}
	path = inventory_default_path(inventory);
	if (!path) {
		err_set(err, "no inventory names node '%s': give --inventory FILE (or "
			     "$RBX_INVENTORY, /etc/rbx/inventory.yaml)",
			node);
		goto out;
	}
	inv = inventory_load(path, &d);
	if (!inv) {
		char *text = diags_text(&d);
		err_set(err, "the inventory %s is invalid:\n%s", path, text);
		free(text);
		goto out;
	}
	if (inventory_resolve(inv, node, &t->conf, err) < 0)
		goto out;
	{
		char buf[PATH_MAX];
		t->inventory = xstrdup(realpath(path, buf) ? buf : path);
	}
	t->scheduler = t->conf.scheduler ? xstrdup(t->conf.scheduler) : NULL;
	rc = pick_backends(t, node, err);
out:
	inventory_free(inv);
	diags_release(&d);
	free(path);
	return rc;
}

void
target_release(struct target *t)
{
	node_conf_release(&t->conf);
	free(t->address);
	free(t->scheduler);
	free(t->inventory);
	free(t->via);
	memset(t, 0, sizeof(*t));
}

static void
backend_ctx(const struct target *t, const char *state_dir, const char *run_id,
	    struct backend_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->state_dir = state_dir;
	c->run_id = run_id;
	c->node = t->conf.name;
	c->conf = &t->conf;
}

struct transport *
target_node_transport(const struct target *t, const char *state_dir, const char *run_id,
		      bool accept_new_host_key, struct rbx_err *err)
{
	struct backend_ctx c;

	backend_ctx(t, state_dir, run_id, &c);
	c.accept_new_host_key = accept_new_host_key;
	return t->tx->node_new(&c, err);
}

struct transport *
target_local_transport(const struct target *t, const char *state_dir, const char *run_id,
		       struct rbx_err *err)
{
	struct backend_ctx c;

	backend_ctx(t, state_dir, run_id, &c);
	return t->tx->local_new(&c, err);
}

void
target_run_end(const struct target *t, const char *state_dir, const char *run_id)
{
	struct backend_ctx c;

	if (!t->tx || !t->tx->run_end)
		return;
	backend_ctx(t, state_dir, run_id, &c);
	t->tx->run_end(&c);
}

char *
target_describe(const struct target *t, const char *state_dir)
{
	struct backend_ctx c;

	if (!t->tx || !t->tx->describe)
		return NULL;
	backend_ctx(t, state_dir, NULL, &c);
	return t->tx->describe(&c);
}

bool
target_simulated(const struct target *t)
{
	return t->tx && (t->tx->flags & BACKEND_SIMULATED);
}

/* The name the scheduler knows the node by. */
static const char *
sched_node_name(const struct target *t)
{
	const char *node = t->conf.name;

	if (!strcmp(t->scheduler, "slurm") && strmap_get(&t->conf.labels, "slurm_name"))
		return strmap_get(&t->conf.labels, "slurm_name");
	return node;
}

static void
add_field(struct buf *b, const char *name, const char *v)
{
	/* NUL-separated, so no two different entries hash the same text. */
	buf_adds(b, name);
	buf_add(b, "=", 1);
	if (v)
		buf_adds(b, v);
	buf_add(b, "", 1);
}

json_t *
target_identity(const struct target *t)
{
	const struct node_conf *c = &t->conf;
	struct buf b;
	char port[16], *digest;
	json_t *id;

	/* Everything that decides where steps go and which guard holds the node. */
	buf_init(&b, 0);
	snprintf(port, sizeof(port), "%d", c->port);
	add_field(&b, "transport", c->transport);
	add_field(&b, "host", c->host);
	add_field(&b, "port", port);
	add_field(&b, "user", c->user);
	add_field(&b, "identity", c->identity);
	add_field(&b, "known_hosts", c->known_hosts);
	add_field(&b, "jump", c->jump);
	add_field(&b, "scheduler", c->scheduler);
	add_field(&b, "reboot_command", c->reboot_command);
	add_field(&b, "boot_id_command", c->boot_id_command);
	add_field(&b, "kubeconfig", c->kubeconfig);
	add_field(&b, "cordon_command", c->cordon_command);
	add_field(&b, "drain_command", c->drain_command);
	add_field(&b, "uncordon_command", c->uncordon_command);
	add_field(&b, "state_command", c->state_command);
	add_field(&b, "slurm_name", strmap_get(&c->labels, "slurm_name"));
	digest = util_digest(b.data, b.len);
	id = json_pack("{s:s, s:s, s:s, s:s?, s:s}", "address", t->address, "scheduler",
		       t->scheduler, "sched_node", sched_node_name(t), "inventory", t->inventory,
		       "node_conf_digest", digest);
	free(digest);
	buf_release(&b);
	return id;
}

int
target_check_identity(const struct target *t, json_t *was, struct rbx_err *err)
{
	static const char *const keys[] = {"address", "scheduler", "sched_node", "node_conf_digest"};
	json_t *now = target_identity(t);
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *a = json_string_value(json_object_get(was, keys[i]));
		const char *b = json_string_value(json_object_get(now, keys[i]));
		if (a && b && strcmp(a, b) != 0) {
			rc = err_set(err, "the target changed since the run started: it ran on %s "
					  "(guard: %s for '%s'), and today resolves to %s (guard: %s "
					  "for '%s')%s; the guard the run holds is the old one's, so a "
					  "resume must go the same way: give the same --inventory "
					  "or none, or put the inventory entry back",
				     json_string_value(json_object_get(was, "address")) ?: "?",
				     json_string_value(json_object_get(was, "scheduler")) ?: "?",
				     json_string_value(json_object_get(was, "sched_node")) ?: "?",
				     t->address, t->scheduler, sched_node_name(t),
				     !strcmp(keys[i], "node_conf_digest")
					     ? " (the node's inventory entry changed)"
					     : "");
			break;
		}
	}
	json_decref(now);
	return rc;
}

struct sched *
target_sched(const struct target *t, const char *state_dir, struct rbx_err *err)
{
	struct backend_ctx c;

	backend_ctx(t, state_dir, NULL, &c);
	c.sched_node = sched_node_name(t);
	return t->sc->open(&c, err);
}

const char *
target_local_address(const struct target *t)
{
	return t->tx && (t->tx->flags & BACKEND_LOCAL_ON_NODE) ? t->address : "local";
}
