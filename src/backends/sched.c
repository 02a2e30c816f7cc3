/* sched.c - what every guard backend shares: freeing one, and waiting in a way
 * that Ctrl-C ends at once (a drain may wait for hours). */
#include "backends/sched.h"

#include <stdlib.h>

void
sched_free(struct sched *s)
{
	if (!s)
		return;
	if (s->ops && s->ops->free)
		s->ops->free(s);
	free(s->node);
	free(s);
}

bool
sched_cancelled(const struct sched *s)
{
	return s->cancel && *s->cancel;
}

int
sched_sleep(const struct sched *s, long long ms, struct rbx_err *err)
{
	int64_t end = util_now_ms() + ms;

	for (;;) {
		int64_t left = end - util_now_ms();
		if (sched_cancelled(s))
			return err_set(err, "interrupted while waiting on node %s", s->node);
		if (left <= 0)
			return 0;
		util_sleep_ms(left > 100 ? 100 : left);
	}
}
