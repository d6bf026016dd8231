/*
 * Backoff and restart limits (see backoff.h). Entries sit in arrays sorted
 * by key, found by binary search: the loop asks once per action per cycle,
 * and only failing actions and restarted VMs have an entry at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconciler/backoff.h"
#include "base/error.h"

struct bo_fail {
	char *f_key; /* first: the sort key */
	unsigned f_failures;
	int64_t f_next;
	char *f_error;
	int f_seen;
};

struct bo_restart {
	char *r_vm;    /* first: the sort key */
	int64_t *r_at; /* restart times, oldest first */
	size_t r_n;
	uint32_t r_count; /* the limit last asked about */
	uint32_t r_period;
	int64_t r_held_until; /* 0 when not held */
};

struct backoff {
	struct bo_fail *b_fail;
	size_t b_nfail;
	struct bo_restart *b_rs;
	size_t b_nrs;
};

/* ---- Sorted arrays ----------------------------------------------------- */

/* The index of key in v (entries of size bytes, key first), or where it
 * would go with *found 0. */
static size_t
find(const void *v, size_t n, size_t size, const char *key, int *found)
{
	size_t lo = 0, hi = n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(key, *(char *const *)(const void *)((const char *)v +
		                                               mid * size));
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = 0;
	return lo;
}

static struct bo_fail *
fail_get(struct backoff *b, const char *key, int create)
{
	struct bo_fail *f;
	size_t i;
	int found;

	i = find(b->b_fail, b->b_nfail, sizeof(*b->b_fail), key, &found);
	if (found)
		return &b->b_fail[i];
	if (!create)
		return NULL;
	b->b_fail =
	    xdc_reallocarray(b->b_fail, b->b_nfail + 1, sizeof(*b->b_fail));
	memmove(&b->b_fail[i + 1], &b->b_fail[i],
	    (b->b_nfail - i) * sizeof(*b->b_fail));
	b->b_nfail++;
	f = &b->b_fail[i];
	memset(f, 0, sizeof(*f));
	f->f_key = xdc_strdup(key);
	return f;
}

static void
fail_remove(struct backoff *b, size_t i)
{
	free(b->b_fail[i].f_key);
	free(b->b_fail[i].f_error);
	memmove(&b->b_fail[i], &b->b_fail[i + 1],
	    (b->b_nfail - i - 1) * sizeof(*b->b_fail));
	b->b_nfail--;
}

static struct bo_restart *
rs_get(struct backoff *b, const char *vm, int create)
{
	struct bo_restart *r;
	size_t i;
	int found;

	i = find(b->b_rs, b->b_nrs, sizeof(*b->b_rs), vm, &found);
	if (found)
		return &b->b_rs[i];
	if (!create)
		return NULL;
	b->b_rs = xdc_reallocarray(b->b_rs, b->b_nrs + 1, sizeof(*b->b_rs));
	memmove(
	    &b->b_rs[i + 1], &b->b_rs[i], (b->b_nrs - i) * sizeof(*b->b_rs));
	b->b_nrs++;
	r = &b->b_rs[i];
	memset(r, 0, sizeof(*r));
	r->r_vm = xdc_strdup(vm);
	return r;
}

static void
rs_remove(struct backoff *b, size_t i)
{
	free(b->b_rs[i].r_vm);
	free(b->b_rs[i].r_at);
	memmove(&b->b_rs[i], &b->b_rs[i + 1],
	    (b->b_nrs - i - 1) * sizeof(*b->b_rs));
	b->b_nrs--;
}

/* ---- The object ------------------------------------------------------- */

struct backoff *
backoff_new(void)
{
	return xdc_calloc(1, sizeof(struct backoff));
}

void
backoff_free(struct backoff *b)
{
	if (b == NULL)
		return;
	while (b->b_nfail > 0)
		fail_remove(b, b->b_nfail - 1);
	while (b->b_nrs > 0)
		rs_remove(b, b->b_nrs - 1);
	free(b->b_fail);
	free(b->b_rs);
	free(b);
}

/* ---- Failed actions --------------------------------------------------- */

int
backoff_ready(
    struct backoff *b, const char *key, int64_t now, struct backoff_info *info)
{
	struct bo_fail *f = fail_get(b, key, 0);

	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (f == NULL)
		return 1;
	f->f_seen = 1;
	if (info != NULL) {
		info->bi_failures = f->f_failures;
		info->bi_next = f->f_next;
		info->bi_error = f->f_error;
	}
	return now >= f->f_next;
}

int64_t
backoff_fail(struct backoff *b, const char *key, const char *error, int64_t now)
{
	struct bo_fail *f = fail_get(b, key, 1);
	int64_t delay = BACKOFF_FIRST_MS;
	unsigned i;

	f->f_seen = 1;
	f->f_failures++;
	for (i = 1; i < f->f_failures && delay < BACKOFF_CAP_MS; i++)
		delay *= 2;
	if (delay > BACKOFF_CAP_MS)
		delay = BACKOFF_CAP_MS;
	f->f_next = now + delay;
	free(f->f_error);
	f->f_error = xdc_strdup(error != NULL ? error : "failed");
	return f->f_next;
}

void
backoff_success(struct backoff *b, const char *key)
{
	size_t i;
	int found;

	i = find(b->b_fail, b->b_nfail, sizeof(*b->b_fail), key, &found);
	if (found)
		fail_remove(b, i);
}

size_t
backoff_count(const struct backoff *b)
{
	return b->b_nfail;
}

/* ---- Restarts --------------------------------------------------------- */

/* Drop restarts that left the window ending at now. */
static void
rs_prune(struct bo_restart *r, int64_t now)
{
	int64_t from = now - (int64_t)r->r_period * 1000;
	size_t k = 0;

	while (k < r->r_n && r->r_at[k] <= from)
		k++;
	if (k == 0)
		return;
	memmove(r->r_at, r->r_at + k, (r->r_n - k) * sizeof(*r->r_at));
	r->r_n -= k;
}

int
backoff_restart_ready(struct backoff *b, const char *vm,
    const struct xdc_rate *limit, int64_t now, int64_t *next)
{
	struct bo_restart *r;

	*next = 0;
	if (limit == NULL || limit->r_period == 0) {
		if ((r = rs_get(b, vm, 0)) != NULL)
			r->r_held_until = 0;
		return 1;
	}
	r = rs_get(b, vm, 1);
	r->r_count = limit->r_count;
	r->r_period = limit->r_period;
	rs_prune(r, now);
	if (r->r_n < r->r_count) {
		r->r_held_until = 0;
		return 1;
	}
	/* Once the oldest of the last r_count leaves the window. */
	if (r->r_count == 0)
		*next = 0;
	else
		*next =
		    r->r_at[r->r_n - r->r_count] + (int64_t)r->r_period * 1000;
	r->r_held_until = *next;
	return 0;
}

void
backoff_restart_done(struct backoff *b, const char *vm, int64_t now)
{
	struct bo_restart *r = rs_get(b, vm, 1);

	r->r_held_until = 0;
	/* Only the last r_count restarts can decide; keep no more. */
	if (r->r_count > 0 && r->r_n >= r->r_count) {
		memmove(r->r_at, r->r_at + (r->r_n - r->r_count + 1),
		    (r->r_count - 1) * sizeof(*r->r_at));
		r->r_n = r->r_count - 1;
	}
	r->r_at = xdc_reallocarray(r->r_at, r->r_n + 1, sizeof(*r->r_at));
	r->r_at[r->r_n++] = now;
}

size_t
backoff_restart_limited(const struct backoff *b, int64_t now)
{
	size_t i, n = 0;

	for (i = 0; i < b->b_nrs; i++)
		if (b->b_rs[i].r_held_until > now)
			n++;
	return n;
}

/* ---- The timer and the sweep ----------------------------------------- */

int64_t
backoff_next(const struct backoff *b, int64_t now)
{
	int64_t next = 0, t;
	size_t i;

	for (i = 0; i < b->b_nfail; i++) {
		t = b->b_fail[i].f_next;
		if (t > now && (next == 0 || t < next))
			next = t;
	}
	for (i = 0; i < b->b_nrs; i++) {
		t = b->b_rs[i].r_held_until;
		if (t > now && (next == 0 || t < next))
			next = t;
	}
	return next;
}

void
backoff_sweep_begin(struct backoff *b)
{
	size_t i;

	for (i = 0; i < b->b_nfail; i++)
		b->b_fail[i].f_seen = 0;
}

void
backoff_sweep_end(struct backoff *b, int64_t now)
{
	size_t i;

	for (i = b->b_nfail; i-- > 0;)
		if (!b->b_fail[i].f_seen)
			fail_remove(b, i);
	for (i = b->b_nrs; i-- > 0;) {
		rs_prune(&b->b_rs[i], now);
		if (b->b_rs[i].r_n == 0)
			rs_remove(b, i);
	}
}

const char *
backoff_rate_fmt(const struct xdc_rate *r, char buf[BACKOFF_RATE_BUFSZ])
{
	static const struct {
		uint32_t u_secs;
		char u_name;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (r->r_period % units[i].u_secs == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		i--;
	snprintf(buf, BACKOFF_RATE_BUFSZ, "%u/%u%c", r->r_count,
	    r->r_period / units[i].u_secs, units[i].u_name);
	return buf;
}
