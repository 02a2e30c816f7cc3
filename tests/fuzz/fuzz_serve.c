/* fuzz_serve.c - what rbx serve takes from the network, past libmicrohttpd: a webhook
 * body for POST /alertmanager (recorded as incidents in a state dir of its own), and
 * the path and query of GET /runbooks/NAME?node=N, /runs/ID and /nodes/N. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "app/serve.h"

static struct serve_opts opts;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	opts.via = "lab";
	opts.auto_runbooks = NULL; /* an auto run would fork rbx itself: not here */
	opts.breaker_nodes = 3;
	opts.breaker_failures = 3;
	opts.breaker_window_ms = 3600000;
	return 0;
}

static void
page(void (*fn)(const char *, bool, struct serve_reply *), const char *arg, bool json)
{
	struct serve_reply r = {0};

	buf_init(&r.body, 0);
	fn(arg, json, &r);
	buf_release(&r.body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct serve_reply r = {0};
	char *rest, *first = fuzz_split(data, size, &rest);
	char *state = xstrdup(fuzz_state_dir());

	opts.state_dir = state;
	buf_init(&r.body, 0);
	serve_receive(&opts, (const char *)data, size, &r);
	buf_release(&r.body);
	page(serve_page_run, first, false);
	page(serve_page_run, first, true);
	page(serve_page_node, first, size & 1);
	buf_init(&r.body, 0);
	serve_page_runbook(&opts, first, *rest ? rest : NULL, size & 2, &r);
	buf_release(&r.body);
	free(state);
	free(first);
	free(rest);
	return 0;
}
