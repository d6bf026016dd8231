/*
 * A range's answer read by the range reader (pool/etcd_json.h,
 * etcd_range_reader) in pieces cut where the caller says, its kvs copied
 * into an arena as they are handed, so that the result compares with a
 * whole reading (etcd_same.h): for the tests and the fuzzer that hold the
 * reader to etcd_decode_range_events. Header-only, as both include it
 * and neither is a library.
 */
#ifndef XDC_TESTS_ETCD_PIECES_H
#define XDC_TESTS_ETCD_PIECES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/error.h"
#include "pool/etcd_json.h"

struct etcd_pieces {
	struct xdc_arena *ep_arena;
	struct etcd_kv *ep_kvs; /* malloc'd */
	size_t ep_n, ep_cap;
	size_t ep_reused; /* kvs whose value sat where the one before's did */
	const char *ep_last;
};

static inline void
etcd_pieces_kv(const struct etcd_kv *kv, void *arg)
{
	struct etcd_pieces *p = arg;
	struct etcd_kv *c;

	if (p->ep_n == p->ep_cap) {
		p->ep_cap = p->ep_cap == 0 ? 8 : p->ep_cap * 2;
		p->ep_kvs =
		    xdc_reallocarray(p->ep_kvs, p->ep_cap, sizeof(*p->ep_kvs));
	}
	if (p->ep_last != NULL && kv->kv_value == p->ep_last)
		p->ep_reused++;
	p->ep_last = kv->kv_value;
	c = &p->ep_kvs[p->ep_n++];
	*c = *kv;
	/* The NUL after each as well. */
	c->kv_key = xdc_arena_strndup(p->ep_arena, kv->kv_key, kv->kv_key_len);
	c->kv_value = xdc_arena_alloc(p->ep_arena, kv->kv_value_len + 1);
	memcpy(
	    (char *)(uintptr_t)c->kv_value, kv->kv_value, kv->kv_value_len + 1);
}

/*
 * body fed in the pieces that end at cuts[0..ncuts) (ascending, within
 * len) and at len. Returns the reader's rc, res as etcd_decode_range_events
 * fills it (the kvs in a), and in handed the kvs it handed, given up or
 * not.
 */
static inline int
etcd_pieces_read(const char *body, size_t len, const size_t *cuts, size_t ncuts,
    struct xdc_arena *a, struct etcd_result *res, size_t *handed,
    size_t *reused)
{
	struct etcd_pieces p = { .ep_arena = a };
	struct etcd_range_reader *rr =
	    etcd_range_reader_new(etcd_pieces_kv, &p);
	size_t i, at = 0;
	int rc = 0;

	for (i = 0; i <= ncuts && rc == 0; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		rc = etcd_range_reader_feed(rr, body + at, end - at);
		at = end;
	}
	if (rc == 0)
		rc = etcd_range_reader_end(rr, res);
	else
		memset(res, 0, sizeof(*res));
	if (rc == 0 && p.ep_n > 0) {
		res->res_kvs = xdc_arena_alloc(a, p.ep_n * sizeof(*p.ep_kvs));
		memcpy((void *)(uintptr_t)res->res_kvs, p.ep_kvs,
		    p.ep_n * sizeof(*p.ep_kvs));
		res->res_nkvs = p.ep_n;
	}
	if (handed != NULL)
		*handed = etcd_range_reader_handed(rr);
	if (reused != NULL)
		*reused = p.ep_reused;
	etcd_range_reader_free(rr);
	free(p.ep_kvs);
	return rc;
}

#endif
