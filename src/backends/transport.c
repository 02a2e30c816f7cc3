/* transport.c - the local transport (run: steps on the machine rbx runs on) and the
 * generic free; each other transport lives in its own file, built through registry.c. */
#include "backends/transport.h"

#include <stdlib.h>

static int
local_exec(struct transport *t, const char *cmd, const struct exec_opts *o, struct exec_result *r,
	   struct rbx_err *err)
{
	(void)t;
	return exec_local_run(cmd, o, r, err);
}

static int
local_reboot(struct transport *t, long long timeout_ms, struct rbx_err *err)
{
	(void)t;
	(void)timeout_ms;
	return err_set(err, "rbx never reboots the machine it runs on");
}

static int
local_wait_up(struct transport *t, long long timeout_ms, struct rbx_err *err)
{
	(void)t;
	(void)timeout_ms;
	(void)err;
	return 0;
}

static void
local_free(struct transport *t)
{
	(void)t;
}

static const struct transport_ops local_ops = {
	"local", NULL, local_exec, local_reboot, local_wait_up, local_free, NULL, NULL,
};

struct transport *
transport_local_new(void)
{
	struct transport *t = xcalloc(1, sizeof(*t));

	t->ops = &local_ops;
	t->address = xstrdup("local");
	return t;
}

void
transport_free(struct transport *t)
{
	if (!t)
		return;
	if (t->ops && t->ops->free)
		t->ops->free(t);
	free(t->address);
	free(t);
}
