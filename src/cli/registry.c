/* registry.c - where rbx is put together: the backends beyond the built-in ones join
 * the registry here, and a multi-call name (nvidia-smi, ...) picks the lab's tool. */
#include "cli/cmd.h"

#include "backends/registry.h"
#include "lab/lab.h"

void
cmd_register_backends(void)
{
	registry_add_transport(&lab_transport_entry);
	registry_add_sched(&lab_sched_entry);
}

bool
cmd_is_tool(const char *argv0)
{
	return lab_is_tool(argv0);
}

int
cmd_tool_main(int argc, char **argv)
{
	return lab_tool_main(argc, argv);
}
