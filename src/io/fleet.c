/* fleet.c - the maintenance-budget semaphore in etcd: a lease, N slot keys per budget
 * taken with a create-if-absent transaction, a keep-alive thread, revoke on release. */
#define _GNU_SOURCE
#include "io/fleet.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/http.h"

struct fleet {
	struct fleet_conf conf;
	char lease[32];
	char *slots;
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	rbx_flag *lost;
	rbx_flag *interrupted;
};

void
fleet_conf_release(struct fleet_conf *c)
{
	size_t i;

	for (i = 0; i < c->nbudgets; i++) {
		free(c->budgets[i].label);
		free(c->budgets[i].value);
	}
	free(c->budgets);
	free(c->endpoint);
	free(c->prefix);
	memset(c, 0, sizeof(*c));
}

void
fleet_conf_copy(struct fleet_conf *dst, const struct fleet_conf *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->endpoint = src->endpoint ? xstrdup(src->endpoint) : NULL;
	dst->prefix = src->prefix ? xstrdup(src->prefix) : NULL;
	dst->ttl_ms = src->ttl_ms;
	dst->budgets = xcalloc(src->nbudgets + 1, sizeof(*dst->budgets));
	for (i = 0; i < src->nbudgets; i++) {
		dst->budgets[i].label = xstrdup(src->budgets[i].label);
		dst->budgets[i].value = src->budgets[i].value ? xstrdup(src->budgets[i].value) : NULL;
		dst->budgets[i].limit = src->budgets[i].limit;
	}
	dst->nbudgets = src->nbudgets;
}

/* POST a JSON body to the gateway; the answer's JSON (new reference) or NULL with err. */
static json_t *
call_within(const char *endpoint, const char *path, json_t *body, long long timeout_ms,
	    struct rbx_err *err)
{
	static const char *const headers[] = {"Content-Type: application/json", NULL};
	char *url = xasprintf("%s%s", endpoint, path), *text = json_dumps(body, JSON_COMPACT);
	struct http_request rq = {.method = "POST", .url = url, .headers = headers, .body = text,
				  .timeout_ms = timeout_ms, .shown_url = url};
	struct http_response rs;
	json_t *out = NULL;
	json_error_t je;

	if (http_perform(&rq, &rs, err) < 0) {
		err_prefix(err, "etcd at %s", endpoint);
		http_response_release(&rs);
		goto out;
	}
	if (rs.status != 200) {
		err_set(err, "etcd at %s: %s answered HTTP %ld: %.200s", endpoint, path, rs.status,
			rs.body.data ? rs.body.data : "");
	} else if (!(out = json_loads(rs.body.data ? rs.body.data : "", 0, &je))) {
		err_set(err, "etcd at %s: %s: not JSON: %s", endpoint, path, je.text);
	}
	http_response_release(&rs);
out:
	free(url);
	free(text);
	json_decref(body);
	return out;
}

static json_t *
call(const char *endpoint, const char *path, json_t *body, struct rbx_err *err)
{
	return call_within(endpoint, path, body, 5000, err);
}

/* etcd's int64 fields are JSON strings; absent means 0 (proto3 leaves defaults out). */
static long long
int64_field(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	return json_is_integer(v) ? json_integer_value(v) : 0;
}

static json_t *
b64(const char *s)
{
	char *e = util_base64_encode(s, strlen(s));
	json_t *j = json_string(e);

	free(e);
	return j;
}

struct fleet *
fleet_new(const struct fleet_conf *c)
{
	struct fleet *f = xcalloc(1, sizeof(*f));

	fleet_conf_copy(&f->conf, c);
	if (!f->conf.prefix)
		f->conf.prefix = xstrdup("/rbx");
	if (f->conf.ttl_ms < 2000)
		f->conf.ttl_ms = 2000;
	pthread_mutex_init(&f->mu, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&f->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	f->slots = xstrdup("");
	return f;
}

static char *
budget_dir(const struct fleet *f, const struct fleet_budget *b)
{
	return xasprintf("%s/budget/%s=%s/", f->conf.prefix, b->label, b->value);
}

static int
grant(struct fleet *f, struct rbx_err *err)
{
	json_t *r = call(f->conf.endpoint, "/v3/lease/grant",
			 json_pack("{s:I}", "TTL", (json_int_t)(f->conf.ttl_ms / 1000)), err);
	const char *id;

	if (!r)
		return -1;
	id = json_string_value(json_object_get(r, "ID"));
	if (!id || !*id) {
		json_decref(r);
		return err_set(err, "etcd at %s granted no lease", f->conf.endpoint);
	}
	snprintf(f->lease, sizeof(f->lease), "%s", id);
	json_decref(r);
	return 0;
}

/* 1 taken, 0 held by another, -1 error. */
static int
take(struct fleet *f, const char *key, const char *holder, struct rbx_err *err)
{
	json_t *r = call(f->conf.endpoint, "/v3/kv/txn",
			 json_pack("{s:[{s:o, s:s, s:s}], s:[{s:{s:o, s:o, s:s}}]}", "compare", "key",
				   b64(key), "target", "CREATE", "createRevision", "0", "success",
				   "requestPut", "key", b64(key), "value", b64(holder), "lease",
				   f->lease),
			 err);
	int rc;

	if (!r)
		return -1;
	rc = json_is_true(json_object_get(r, "succeeded")) ? 1 : 0;
	json_decref(r);
	return rc;
}

/* Who holds the slots under dir: "run R on node N (user@host, pid P); ..." (allocated). */
static char *
holders(struct fleet *f, const char *dir, struct rbx_err *err)
{
	char *end = xstrdup(dir), *text;
	json_t *r;

	end[strlen(end) - 1]++; /* the prefix's range end: its last byte plus one */
	r = call(f->conf.endpoint, "/v3/kv/range",
		 json_pack("{s:o, s:o}", "key", b64(dir), "range_end", b64(end)), err);
	free(end);
	if (!r)
		return NULL;
	text = fleet_describe_holders(r);
	json_decref(r);
	return text;
}

char *
fleet_describe_holders(json_t *r)
{
	struct buf b;
	json_t *kv;
	size_t i;

	buf_init(&b, 0);
	json_array_foreach(json_object_get(r, "kvs"), i, kv) {
		char *v = util_base64_decode(json_string_value(json_object_get(kv, "value")) ?: "",
					     NULL);
		json_t *h = v ? json_loads(v, 0, NULL) : NULL;
		buf_addf(&b, "%srun %s on node %s (%s@%s, pid %lld)", i ? "; " : "",
			 json_string_value(json_object_get(h, "run")) ?: "?",
			 json_string_value(json_object_get(h, "node")) ?: "?",
			 json_string_value(json_object_get(h, "user")) ?: "?",
			 json_string_value(json_object_get(h, "host")) ?: "?",
			 (long long)json_integer_value(json_object_get(h, "pid")));
		json_decref(h);
		free(v);
	}
	return buf_detach(&b);
}

static int keepalive_once(struct fleet *f);

/* One budget: a slot, or wait. 0, -2 (none in time), -1. */
static int
take_budget(struct fleet *f, const struct fleet_budget *bg, const char *holder, long long wait_ms,
	    rbx_flag *stop, void (*on_wait)(void *, const char *), void *arg,
	    struct rbx_err *err)
{
	char *dir = budget_dir(f, bg), *seen = NULL, *who = NULL;
	int64_t deadline = wait_ms < 0 ? -1 : util_now_ms() + wait_ms;
	int rc = -1, i, got;

	for (;;) {
		for (i = 0; i < bg->limit; i++) {
			char *key = xasprintf("%sslot-%d", dir, i);
			got = take(f, key, holder, err);
			if (got == 1) {
				char *s = xasprintf("%s%s%s", f->slots, *f->slots ? "," : "", key);
				free(f->slots);
				f->slots = s;
			}
			free(key);
			if (got != 0) {
				rc = got == 1 ? 0 : -1;
				goto out;
			}
		}
		free(who);
		if (!(who = holders(f, dir, err)))
			goto out;
		if (deadline >= 0 && util_now_ms() >= deadline) {
			err_set(err, "no maintenance slot free for %s=%s (at most %d at once): held by %s",
				bg->label, bg->value, bg->limit, *who ? who : "(slots freed just now)");
			rc = -2;
			goto out;
		}
		if (on_wait && (!seen || strcmp(seen, who) != 0)) {
			char *line = xasprintf("%s=%s (at most %d at once): held by %s", bg->label,
					       bg->value, bg->limit, who);
			on_wait(arg, line);
			free(line);
			free(seen);
			seen = xstrdup(who);
		}
		util_sleep_ms(500);
		/* A long wait must not outlive the lease the slot will be bound to. */
		if (keepalive_once(f) == 0) {
			if (*f->slots) {
				err_set(err, "the fleet lease ran out while waiting; the slots it held "
					     "are gone");
				goto out;
			}
			if (grant(f, err) < 0)
				goto out;
		}
		if (stop && *stop) {
			err_set(err, "interrupted while waiting for a maintenance slot");
			rc = -2;
			goto out;
		}
	}
out:
	free(dir);
	free(seen);
	free(who);
	return rc;
}

int
fleet_acquire(struct fleet *f, const char *holder, long long wait_ms,
	      rbx_flag *stop, void (*on_wait)(void *arg, const char *holders),
	      void *arg, struct rbx_err *err)
{
	size_t i;
	int rc;

	if (grant(f, err) < 0)
		return -1;
	for (i = 0; i < f->conf.nbudgets; i++) {
		rc = take_budget(f, &f->conf.budgets[i], holder, wait_ms, stop, on_wait, arg, err);
		if (rc < 0) {
			/* Give back what was taken: a half-held budget blocks others for nothing. */
			struct rbx_err ignored;
			fleet_revoke(f->conf.endpoint, f->lease, &ignored);
			f->lease[0] = 0;
			return rc;
		}
	}
	return 0;
}

const char *
fleet_lease_id(const struct fleet *f)
{
	return f->lease;
}

const char *
fleet_slots(const struct fleet *f)
{
	return f->slots;
}

/*
 * The keep-alive's timing, from the TTL: renew every TTL/4, give each call at
 * most TTL/4, and call the lease lost once TTL/2 has passed without a renewal,
 * so the run stops while etcd still holds its slot (TTL/2 before anyone else
 * can take it), never after.
 */
#define RENEW_EVERY(ttl) ((ttl) / 4)
#define LOST_AFTER(ttl) ((ttl) / 2)

/* 1 alive, 0 gone (etcd says so), -1 no answer. */
static int
keepalive_once(struct fleet *f)
{
	struct rbx_err err;
	json_t *r = call_within(f->conf.endpoint, "/v3/lease/keepalive",
				json_pack("{s:s}", "ID", f->lease), RENEW_EVERY(f->conf.ttl_ms), &err);
	int rc;

	if (!r)
		return -1;
	/* A dead lease still answers 200, with no TTL. */
	rc = int64_field(json_object_get(r, "result"), "TTL") > 0;
	json_decref(r);
	return rc;
}

static void *
keepalive_main(void *arg)
{
	struct fleet *f = arg;
	int64_t last_ok = util_now_ms();
	long long every = RENEW_EVERY(f->conf.ttl_ms);

	pthread_mutex_lock(&f->mu);
	while (!f->stop) {
		struct timespec until;
		int alive;

		/* Monotonic, like the condition variable: a clock step cannot delay a renewal. */
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += every / 1000;
		until.tv_nsec += (every % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&f->cv, &f->mu, &until);
		if (f->stop)
			break;
		pthread_mutex_unlock(&f->mu);
		alive = keepalive_once(f);
		pthread_mutex_lock(&f->mu);
		if (alive == 1)
			last_ok = util_now_ms();
		if (alive == 0 || util_now_ms() - last_ok >= LOST_AFTER(f->conf.ttl_ms)) {
			*f->lost = 1;
			*f->interrupted = 1;
			break;
		}
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

int
fleet_keepalive_start(struct fleet *f, rbx_flag *lost,
		      rbx_flag *interrupted, struct rbx_err *err)
{
	sigset_t all, old;
	int rc;

	f->lost = lost;
	f->interrupted = interrupted;
	/* Signals go to the main thread, which owns the run. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&f->thread, NULL, keepalive_main, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return err_set(err, "cannot start the lease keep-alive: %s", strerror(rc));
	f->running = true;
	return 0;
}

int
fleet_release(struct fleet *f, struct rbx_err *err)
{
	int rc = 0;

	if (!f)
		return 0;
	if (f->running) {
		pthread_mutex_lock(&f->mu);
		f->stop = true;
		pthread_cond_signal(&f->cv);
		pthread_mutex_unlock(&f->mu);
		pthread_join(f->thread, NULL);
		f->running = false;
	}
	if (f->lease[0] && !(f->lost && *f->lost) && fleet_revoke(f->conf.endpoint, f->lease, err) < 0)
		rc = err_prefix(err, "the fleet lease was not revoked (its slot frees itself when "
				     "the lease runs out)");
	f->lease[0] = 0;
	return rc;
}

void
fleet_free(struct fleet *f)
{
	struct rbx_err ignored;

	if (!f)
		return;
	fleet_release(f, &ignored);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	fleet_conf_release(&f->conf);
	free(f->slots);
	free(f);
}

int
fleet_revoke(const char *endpoint, const char *lease_id, struct rbx_err *err)
{
	json_t *r = call(endpoint, "/v3/lease/revoke", json_pack("{s:s}", "ID", lease_id), err);

	if (!r)
		return -1;
	json_decref(r);
	return 0;
}
