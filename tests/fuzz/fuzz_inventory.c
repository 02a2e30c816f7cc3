/* fuzz_inventory.c - the inventory loader on arbitrary bytes, and every node it names
 * resolved (hostlists, templates of host, labels). */
#include "fuzz.h"

#include <stdlib.h>

#include "core/inventory.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diags d;
	struct inventory *inv;
	char **nodes = NULL;
	size_t n = 0, i;

	diags_init(&d);
	inv = inventory_load(fuzz_file(data, size, ".yaml"), &d);
	if (inv)
		nodes = inventory_nodes(inv, &n);
	for (i = 0; i < n; i++) {
		struct node_conf c;
		struct rbx_err err;
		if (i < 64 && inventory_resolve(inv, nodes[i], &c, &err) == 0)
			node_conf_release(&c);
		free(nodes[i]);
	}
	free(nodes);
	inventory_free(inv);
	diags_release(&d);
	return 0;
}
