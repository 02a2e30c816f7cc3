/* ui.c - the small helpers app/ uses to speak through the front end's ui: formatted
 * notices, so no module of app/ needs stdio for its user. */
#include "app/ui.h"

#include <stdarg.h>
#include <stdio.h>

void
ui_notice(const struct app_ui *ui, enum ui_level level, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	if (!ui || !ui->notice)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ui->notice(ui->arg, level, text);
}
