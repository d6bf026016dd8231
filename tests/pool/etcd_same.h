/*
 * Whether two decoded etcd answers, or watch messages, say the same thing,
 * field by field and byte by byte (the arena pointers aside): for the
 * tests and the fuzzer that hold etcd_decode, etcd_decode_watch and their
 * event readers to the tree's reading (pool/etcd_json.h). Header-only,
 * as both include it and neither is a library.
 */
#ifndef XDC_TESTS_ETCD_SAME_H
#define XDC_TESTS_ETCD_SAME_H

#include <string.h>

#include "pool/etcd_json.h"

static inline int
etcd_same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static inline int
etcd_same_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	/* The NUL after the bytes too, which callers rely on. */
	return alen == blen && memcmp(a, b, alen + 1) == 0;
}

static inline int
etcd_same_kv(const struct etcd_kv *a, const struct etcd_kv *b)
{
	return etcd_same_bytes(
	           a->kv_key, a->kv_key_len, b->kv_key, b->kv_key_len) &&
	       etcd_same_bytes(a->kv_value, a->kv_value_len, b->kv_value,
	           b->kv_value_len) &&
	       a->kv_create_revision == b->kv_create_revision &&
	       a->kv_mod_revision == b->kv_mod_revision &&
	       a->kv_version == b->kv_version && a->kv_lease == b->kv_lease;
}

/* NULL when a and b agree, else the first field that differs. */
static inline const char *
etcd_result_diff(const struct etcd_result *a, const struct etcd_result *b)
{
	size_t i;

	if (a->res_kind != b->res_kind)
		return "kind";
	if (a->res_rc != b->res_rc)
		return "rc";
	if (!etcd_same_str(a->res_error, b->res_error))
		return "error";
	if (!etcd_same_str(a->res_endpoint, b->res_endpoint))
		return "endpoint";
	if (a->res_http_status != b->res_http_status)
		return "http status";
	if (a->res_grpc_code != b->res_grpc_code)
		return "grpc code";
	if (a->res_revision != b->res_revision)
		return "revision";
	if (a->res_nkvs != b->res_nkvs ||
	    (a->res_kvs == NULL) != (b->res_kvs == NULL))
		return "kvs";
	for (i = 0; i < a->res_nkvs; i++)
		if (!etcd_same_kv(&a->res_kvs[i], &b->res_kvs[i]))
			return "a kv";
	if (a->res_count != b->res_count)
		return "count";
	if (a->res_more != b->res_more)
		return "more";
	if (a->res_deleted != b->res_deleted)
		return "deleted";
	if (a->res_succeeded != b->res_succeeded)
		return "succeeded";
	if (a->res_nresponses != b->res_nresponses ||
	    (a->res_responses == NULL) != (b->res_responses == NULL))
		return "responses";
	for (i = 0; i < a->res_nresponses; i++)
		if (etcd_result_diff(
		        &a->res_responses[i], &b->res_responses[i]) != NULL)
			return "a response";
	if (a->res_lease != b->res_lease)
		return "lease";
	if (a->res_ttl != b->res_ttl)
		return "ttl";
	return NULL;
}

/* The same for two watch messages. */
static inline const char *
etcd_watch_diff(const struct etcd_watch_msg *a, const struct etcd_watch_msg *b)
{
	const struct etcd_kv *pa, *pb;
	size_t i;

	if (a->wm_kind != b->wm_kind)
		return "kind";
	if (!etcd_same_str(a->wm_error, b->wm_error))
		return "error";
	if (a->wm_revision != b->wm_revision)
		return "revision";
	if (a->wm_compact_revision != b->wm_compact_revision)
		return "compact revision";
	if (a->wm_nevents != b->wm_nevents ||
	    (a->wm_events == NULL) != (b->wm_events == NULL))
		return "events";
	for (i = 0; i < a->wm_nevents; i++) {
		if (a->wm_events[i].ev_type != b->wm_events[i].ev_type)
			return "an event's type";
		if (!etcd_same_kv(
		        &a->wm_events[i].ev_kv, &b->wm_events[i].ev_kv))
			return "an event's kv";
		pa = a->wm_events[i].ev_prev_kv;
		pb = b->wm_events[i].ev_prev_kv;
		if ((pa == NULL) != (pb == NULL) ||
		    (pa != NULL && !etcd_same_kv(pa, pb)))
			return "an event's prev kv";
	}
	return NULL;
}

#endif
