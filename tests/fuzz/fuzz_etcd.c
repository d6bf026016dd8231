/*
 * libFuzzer target for the etcd client's decoders (pool/etcd_json*.c):
 * any bytes, as the answer to every kind of call with a good and a bad
 * HTTP status, as a watch stream cut into pieces whose size the first
 * byte picks, as base64, and as a key to encode. etcd, or whatever
 * stands at its address, may send anything: the decoders must never
 * crash, leak or read out of bounds; they may only refuse. And the event
 * readers of a range (whole, and in pieces) and of a watch message must
 * agree with the tree:
 * the same result where they read, and etcd_decode and etcd_decode_watch
 * always the tree's result and message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/error.h"
#include "pool/etcd_json.h"
#include "tests/pool/etcd_pieces.h"
#include "tests/pool/etcd_same.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_kv(const struct etcd_kv *kv)
{
	/* Every byte is readable, and the NUL after the value is there. */
	if (kv->kv_key[kv->kv_key_len] != '\0' ||
	    kv->kv_value[kv->kv_value_len] != '\0')
		abort();
}

static void
check_result(const struct etcd_result *res)
{
	size_t i;

	if ((res->res_rc == 0) != (res->res_error == NULL))
		abort();
	for (i = 0; i < res->res_nkvs; i++)
		check_kv(&res->res_kvs[i]);
	for (i = 0; i < res->res_nresponses; i++)
		check_result(&res->res_responses[i]);
}

static void
stream(const char *p, size_t len, size_t chunk, struct xdc_arena *a)
{
	struct etcd_lines l = { 0 };
	struct etcd_watch_msg m, tree;
	const char *line;
	size_t off, n, ll, i;

	for (off = 0; off <= len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		if (etcd_lines_add(&l, p + off, n) < 0)
			abort();
		if (off + n == len && etcd_lines_add(&l, "\n", 1) < 0)
			abort();
		while (etcd_lines_next(&l, &line, &ll)) {
			if (memchr(line, '\n', ll) != NULL)
				abort();
			xdc_arena_reset(a);
			etcd_decode_watch_tree(line, ll, a, &tree);
			if (etcd_decode_watch_events(line, ll, a, &m) == 0 &&
			    etcd_watch_diff(&m, &tree) != NULL)
				abort();
			etcd_decode_watch(line, ll, a, &m);
			if (etcd_watch_diff(&m, &tree) != NULL)
				abort();
			if ((m.wm_kind == ETCD_WATCH_BROKEN) !=
			    (m.wm_error != NULL))
				abort();
			for (i = 0; i < m.wm_nevents; i++) {
				check_kv(&m.wm_events[i].ev_kv);
				if (m.wm_events[i].ev_prev_kv != NULL)
					check_kv(m.wm_events[i].ev_prev_kv);
			}
		}
		if (n == 0)
			break;
	}
	etcd_lines_free(&l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long status[] = { 200, 404, 500 };
	struct xdc_arena *a = xdc_arena_new();
	const char *p = (const char *)data;
	struct etcd_result res, tree;
	struct etcd_op op = { .op_kind = ETCD_RANGE, .op_flags = ETCD_PREFIX };
	char *s, *key, *out;
	size_t i, j, len;
	int kind;

	for (kind = ETCD_RANGE; kind <= ETCD_LEASE_REVOKE; kind++)
		for (j = 0; j < 3; j++) {
			xdc_arena_reset(a);
			etcd_decode(
			    (enum etcd_kind)kind, status[j], p, size, a, &res);
			check_result(&res);
			etcd_decode_tree(
			    (enum etcd_kind)kind, status[j], p, size, a, &tree);
			if (etcd_result_diff(&res, &tree) != NULL)
				abort();
		}
	xdc_arena_reset(a);
	etcd_decode_tree(ETCD_RANGE, 200, p, size, a, &tree);
	if (etcd_decode_range_events(p, size, a, &res) == 0) {
		check_result(&res);
		if (etcd_result_diff(&res, &tree) != NULL)
			abort();
	}
	/* The range reader, in pieces whose size the first byte picks. */
	{
		size_t step = size > 0 ? (size_t)data[0] % 61 + 1 : 1;
		size_t *cuts = xdc_calloc(size / step + 1, sizeof(*cuts));
		size_t n = 0, at;
		int whole = etcd_decode_range_events(p, size, a, &res);

		for (at = step; at < size; at += step)
			cuts[n++] = at;
		if (etcd_pieces_read(p, size, cuts, n, a, &res, NULL, NULL) !=
		        whole ||
		    (whole == 0 && etcd_result_diff(&res, &tree) != NULL))
			abort();
		free(cuts);
	}
	stream(p, size, size + 1, a);
	stream(p, size, size > 0 ? (size_t)data[0] % 61 + 1 : 1, a);

	xdc_arena_reset(a);
	if (etcd_b64_decode(p, size, a, &out, &len) == 0) {
		/* What decodes encodes back to the same bytes, padded. */
		s = etcd_b64_encode(out, len);
		if (etcd_b64_decode(s, strlen(s), a, &key, &i) < 0 ||
		    i != len || memcmp(key, out, len) != 0)
			abort();
		free(s);
	}

	/* A key of these bytes, as a prefix to range and to watch. */
	len = size < 256 ? size : 256;
	key = xdc_calloc(1, len + 1);
	memcpy(key, p, len);
	op.op_key = key;
	free(etcd_encode_op(&op));
	free(etcd_encode_watch(key, ETCD_PREFIX | ETCD_PREV_KV, 1));
	free(key);
	xdc_arena_free(a);
	return 0;
}
