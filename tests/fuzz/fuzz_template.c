/* fuzz_template.c - template rendering: the first line is a template, the rest a value
 * bound to every name it may use. Each mode renders or refuses; in shell mode the value
 * never enters the text (it goes to the environment), which the harness checks. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "core/template.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum tmpl_mode modes[] = {TMPL_SHELL, TMPL_TEXT, TMPL_JSON, TMPL_URL};
	char *value, *tmpl = fuzz_split(data, size, &value);
	struct strmap params = {0}, captures = {0}, vars = {0};
	size_t m, len = strlen(value);

	strmap_set(&params, "x", value);
	strmap_set(&params, "gpu", value);
	strmap_set(&captures, "x", value);
	for (m = 0; m < sizeof(modes) / sizeof(*modes); m++) {
		struct tmpl_ctx c = {"n42", "20261126T000000Z-n42-abcdef", 1, &params, &captures,
				     NULL, false, false, NULL, &vars};
		struct rbx_err err;
		struct buf out;
		buf_init(&out, 0);
		if (template_render(tmpl, modes[m], &c, &out, &err) == 0 && modes[m] == TMPL_SHELL &&
		    len >= 8 && !strstr(tmpl, value) && out.data && strstr(out.data, value))
			abort(); /* a value became shell text */
		buf_release(&out);
		strmap_release(&vars);
	}
	for (m = 0; m < strlen(tmpl); m++)
		(void)template_shell_context_error(tmpl, m);
	strmap_release(&params);
	strmap_release(&captures);
	free(tmpl);
	free(value);
	return 0;
}
