/* lab_tools_stub.c - a stub: what a lab step gets when it calls a site's own command that
 * a scenario stubbed (its canned answers in the node's state, one per call, the last kept). */
#include "lab/lab.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lab/lab_internal.h"

int
lab_link_stubs(const char *bin, const char *self, const char *node_dir, const char *node,
	       struct rbx_err *err)
{
	json_t *st = lab_node_load(node_dir, node, err), *v;
	json_t *stubs = json_object_get(st, "stubs");
	const char *name;
	int r = st ? (int)json_object_size(stubs) : -1;

	/* The dir only when there is a stub to put in it: most runs have none. */
	if (r > 0 && util_mkdir_p(bin, 0700, err) < 0)
		r = -1;
	json_object_foreach(r > 0 ? stubs : NULL, name, v) {
		char *p = xasprintf("%s/%s", bin, name);
		if (symlink(self, p) < 0 && errno != EEXIST)
			r = err_set(err, "cannot make %s: %s", p, strerror(errno));
		free(p);
	}
	json_decref(st);
	return r;
}

struct stub_call {
	const char *name;
	json_t *answer; /* the reply this call gets (a new reference) */
};

/* The call's answer: the n-th of its list, the last again once the list runs out. */
static int
next_answer(json_t *st, void *arg, struct rbx_err *err)
{
	struct stub_call *c = arg;
	json_t *stub = json_object_get(json_object_get(st, "stubs"), c->name), *calls;
	json_int_t n;
	size_t k;

	if (!stub)
		return err_set(err, "'%s' is not simulated in the lab, and no stub stands for it",
			       c->name);
	calls = json_object_get(stub, "calls");
	n = json_integer_value(json_object_get(stub, "n"));
	k = json_array_size(calls);
	if (!k)
		return err_set(err, "the stub for '%s' has no answers", c->name);
	c->answer = json_incref(json_array_get(calls, (size_t)n < k ? (size_t)n : k - 1));
	json_object_set_new(stub, "n", json_integer(n + 1));
	return 0;
}

int
lab_stub_main(const char *node_dir, const char *node, const char *name)
{
	struct stub_call c = {name, NULL};
	struct rbx_err err;
	const char *out, *errs;

	if (lab_node_update(node_dir, node, next_answer, &c, &err) < 0 || !c.answer) {
		fprintf(stderr, "rbx lab: %s\n", err.msg);
		return 127;
	}
	out = json_string_value(json_object_get(c.answer, "stdout"));
	errs = json_string_value(json_object_get(c.answer, "stderr"));
	if (out)
		fputs(out, stdout);
	if (errs)
		fputs(errs, stderr);
	fflush(stdout);
	{
		int rc = (int)json_integer_value(json_object_get(c.answer, "exit"));
		json_decref(c.answer);
		return rc;
	}
}
