/* lab_sim.c - the lab's controls for `rbx test`: a fresh node with faults, stubs that
 * stand for a team's own scripts (canned answers, one per call), and its state read back. */
#include "lab/lab.h"

#include <errno.h>
#include <glob.h>
#include <string.h>
#include <unistd.h>

#include "lab/lab_internal.h"

static int
sim_check_faults(int n, char **faults, struct rbx_err *err)
{
	json_t *st = lab_state_new("n0");
	int r = lab_faults_apply(st, n, faults, err);

	json_decref(st);
	return r;
}

/* A stub stands for a site's own command: never for one the lab simulates or provides. */
static int
sim_check_stub(const char *name, struct rbx_err *err)
{
	size_t i;

	if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
			      strlen(name) || name[0] == '.' || name[0] == '-')
		return err_set(err, "stub '%s': a command name (letters, digits, '.', '_', '-'), "
				    "called by name from the runbook", name);
	for (i = 0; lab_tools_table[i].name; i++)
		if (!strcmp(lab_tools_table[i].name, name))
			return err_set(err, "stub '%s': the lab simulates %s; inject a fault instead",
				       name, name);
	for (i = 0; lab_allowed[i]; i++)
		if (!strcmp(lab_allowed[i], name))
			return err_set(err, "stub '%s': a text tool the lab provides as it is", name);
	if (lab_is_refused(name) || !strcmp(name, "rbx"))
		return err_set(err, "stub '%s': not a command a stub may stand for", name);
	return 0;
}

struct prep {
	int n;
	char **faults;
	json_t *stubs;
};

static int
prep_node(json_t *st, void *arg, struct rbx_err *err)
{
	struct prep *p = arg;
	json_t *stubs = json_object(), *calls;
	const char *name;

	if (lab_faults_apply(st, p->n, p->faults, err) < 0) {
		json_decref(stubs);
		return -1;
	}
	json_object_foreach(p->stubs, name, calls)
		json_object_set_new(stubs, name, json_pack("{s:O, s:i}", "calls", calls, "n", 0));
	json_object_set_new(st, "stubs", stubs);
	return 0;
}

static int
sim_prepare(const char *state_dir, const char *node, int n, char **faults, json_t *stubs,
	    struct rbx_err *err)
{
	struct prep p = {n, faults, stubs};
	char *dir;
	int r;

	if (lab_reset(state_dir, node, err) < 0)
		return -1;
	dir = lab_node_dir(state_dir, node);
	r = lab_node_update(dir, node, prep_node, &p, err);
	free(dir);
	return r;
}

static json_t *
sim_state(const char *state_dir, const char *node, struct rbx_err *err)
{
	char *dir = lab_node_dir(state_dir, node);
	json_t *st = lab_node_load(dir, node, err);

	free(dir);
	return st;
}

static bool
sim_has_file(const char *state_dir, const char *node, const char *pattern)
{
	char *dir = lab_node_dir(state_dir, node), *pat;
	glob_t g;
	bool found;

	/* The pattern stays below the node's dir: no '..' climbs out of it. */
	if (pattern[0] == '/' || strstr(pattern, "..")) {
		free(dir);
		return false;
	}
	pat = xasprintf("%s/scratch/%s", dir, pattern);
	found = glob(pat, GLOB_NOSORT, NULL, &g) == 0 && g.gl_pathc > 0;
	globfree(&g);
	free(pat);
	free(dir);
	return found;
}

const struct sim_ops lab_sim_ops = {
	sim_check_faults, sim_check_stub, sim_prepare, sim_state, sim_has_file,
};
