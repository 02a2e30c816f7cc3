/* alerts.c - one small file per handled alert under STATE/alerts, named by the alert's
 * fingerprint and start: written before the run it starts, read before any other. */
#include "app/alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* STATE/alerts/FINGERPRINT@STARTSAT, ':' spelt '-' (both checked by alert_parse). */
static char *
memo_path(const char *state_dir, const struct alert_item *it)
{
	char *p = xasprintf("%s/alerts/%s@%s", state_dir, it->fingerprint, it->starts_at), *c;

	for (c = strrchr(p, '@'); *c; c++)
		if (*c == ':')
			*c = '-';
	return p;
}

bool
alerts_handled(const char *state_dir, const struct alert_item *it, char *run_id, size_t n)
{
	char *path = memo_path(state_dir, it), *text;
	struct rbx_err err;
	size_t len;

	text = util_read_file(path, 256, &len, &err);
	free(path);
	if (!text)
		return false;
	snprintf(run_id, n, "%.*s", (int)strcspn(text, "\n"), text);
	free(text);
	return true;
}

int
alerts_remember(const char *state_dir, const struct alert_item *it, const char *run_id,
		struct rbx_err *err)
{
	char *dir = xasprintf("%s/alerts", state_dir), *path = memo_path(state_dir, it);
	char *line = xasprintf("%s\n", run_id);
	int rc = -1;

	if (util_mkdir_p(dir, 0700, err) < 0)
		goto out;
	rc = util_write_file_atomic(path, line, strlen(line), 0600, err);
out:
	free(dir);
	free(path);
	free(line);
	return rc;
}
