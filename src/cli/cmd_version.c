/* cmd_version.c - `rbx version`: rbx's version and the libraries it was built with.
 * What an operator pastes into a bug report. */
#include <curl/curl.h>
#include <jansson.h>
#include <libssh/libssh.h>
#include <stdio.h>
#include <yaml.h>

#include "cli/cmd.h"

#ifndef RBX_VERSION
#define RBX_VERSION "0.1.0"
#endif

static const struct opt version_opts[] = {
	{NULL, 0, NULL, NULL, false},
};

static enum rbx_status
version_exec(struct args *a, struct rbx_err *err)
{
	(void)a;
	(void)err;
	printf("rbx %s\nlibyaml %s, jansson %s, libcurl %s, libssh %s\n", RBX_VERSION,
	       yaml_get_version_string(), JANSSON_VERSION, curl_version_info(CURLVERSION_NOW)->version,
	       ssh_version(0));
	return RBX_OK;
}

const struct cmd cmd_version = {
	"version", "", "print rbx's version and its libraries' versions", version_opts, 0, 0,
	version_exec,
};
