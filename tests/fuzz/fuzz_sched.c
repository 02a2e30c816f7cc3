/* fuzz_sched.c - the answers rbx reads from the servers of the guard and the fleet: the
 * first byte picks Slurm's sinfo line, a Kubernetes node or pod object, an etcd range
 * answer (base64 keys and values holding JSON), or a kubeconfig. */
#include "fuzz.h"

#include <stdlib.h>

#include "backends/sched.h"
#include "io/fleet.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sched_state st;
	struct rbx_err err;
	json_t *doc;
	char *text;

	if (!size)
		return 0;
	switch (data[0] % 4) {
	case 0:
		text = fuzz_string(data + 1, size - 1);
		sched_slurm_parse_state(text, &st);
		free(text);
		break;
	case 1:
		doc = json_loadb((const char *)data + 1, size - 1, 0, NULL);
		sched_k8s_node_state(doc, &st);
		(void)sched_k8s_pod_stays(doc);
		json_decref(doc);
		break;
	case 2:
		doc = json_loadb((const char *)data + 1, size - 1, 0, NULL);
		free(fleet_describe_holders(doc));
		json_decref(doc);
		break;
	default:
		sched_free(sched_k8s_new("n42", fuzz_file(data + 1, size - 1, ".kubeconfig"), &err));
	}
	return 0;
}
