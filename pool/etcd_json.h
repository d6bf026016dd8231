/*
 * The etcd client's wire format, apart from its transport so that tests
 * and the fuzzer can feed it recorded bytes: base64, the JSON bodies of
 * requests, and the decoding of responses and of the watch stream.
 *
 * The gateway speaks proto3's JSON mapping: bytes are base64, int64 are
 * strings (numbers are accepted too), enums are names, and a field at its
 * default value (0, false, empty, PUT, EQUAL) is left out. A unary call's
 * error is {"error": "...", "message": "...", "code": N} with an HTTP
 * status; a stream's is {"error": {"grpc_code": N, "http_code": N,
 * "message": "...", "http_status": "..."}}; a stream's messages are
 * {"result": {...}}, one per line.
 */
#ifndef XDC_ETCD_JSON_H
#define XDC_ETCD_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "pool/etcd.h"

struct xdc_arena;

/* Standard base64 with padding; malloc'd and NUL-terminated. */
char *etcd_b64_encode(const void *, size_t);
/*
 * Standard or URL-safe base64, padded or not, into the arena with a NUL
 * after the data. -1 on anything else.
 */
int etcd_b64_decode(
    const char *, size_t, struct xdc_arena *, char **out, size_t *outlen);

/*
 * The request bodies, malloc'd; the paths they go to. The range end of a
 * prefix is the prefix with its last byte that is not 0xff incremented.
 */
char *etcd_encode_op(const struct etcd_op *);
char *etcd_encode_txn(const struct etcd_cmp *, size_t, const struct etcd_op *,
    size_t, const struct etcd_op *, size_t);
char *etcd_encode_lease(enum etcd_kind, int64_t lease, int64_t ttl);
char *etcd_encode_watch(const char *key, unsigned flags, int64_t start);
const char *etcd_path(enum etcd_kind);
/* "range", "put", ... for messages. */
const char *etcd_kind_name(enum etcd_kind);

/*
 * Decode a unary call's answer of the given HTTP status into res, every
 * allocation in the arena. Returns 0, or a negative code with res_rc,
 * res_error (the reason alone, without the endpoint) and res_grpc_code
 * set: for an error body, a body that is not what the call returns, or a
 * keepalive that says the lease is gone.
 */
int etcd_decode(enum etcd_kind, long http_status, const char *body, size_t len,
    struct xdc_arena *, struct etcd_result *res);

/*
 * One message of the watch stream (one line, without its newline). An
 * error message or a malformed one is ETCD_WATCH_BROKEN with wm_error;
 * a cancel is BROKEN too, unless compaction caused it (COMPACTED).
 */
void etcd_decode_watch(const char *line, size_t len, struct xdc_arena *,
    struct etcd_watch_msg *msg);

/*
 * etcd_decode's and etcd_decode_watch's two readers, apart for the tests
 * and the fuzzer that compare them. The tree (jansson) reads every answer
 * and message and is the reference. The events (yajl,
 * etcd_json_events.c) read only a range's ordinary answer of HTTP 200 and
 * a watch message that is not an error nor a cancel, into the same
 * result, and return -1 (res zeroed, msg BROKEN without wm_error) on
 * anything else for the tree to read.
 */
int etcd_decode_tree(enum etcd_kind, long http_status, const char *body,
    size_t len, struct xdc_arena *, struct etcd_result *res);
int etcd_decode_range_events(
    const char *body, size_t len, struct xdc_arena *, struct etcd_result *res);
void etcd_decode_watch_tree(const char *line, size_t len, struct xdc_arena *,
    struct etcd_watch_msg *msg);
int etcd_decode_watch_events(const char *line, size_t len, struct xdc_arena *,
    struct etcd_watch_msg *msg);

/*
 * A range's answer of HTTP 200 read by the events as it comes, in pieces
 * of any size, for a caller that does not hold it whole. Each kv goes to
 * each as soon as it is read, borrowed until each returns: its key and
 * value live in a buffer the next kv reuses. feed and end return -1 when
 * the reader gives up (where etcd_decode_range_events would), and from
 * then on: the kvs handed so far are then to be forgotten, and the
 * answer is jansson's to read. end fills res as etcd_decode_range_events
 * does, without the kvs (res_kvs NULL, res_nkvs 0).
 */
struct etcd_range_reader;

struct etcd_range_reader *etcd_range_reader_new(etcd_kv_cb *each, void *arg);
int etcd_range_reader_feed(struct etcd_range_reader *, const char *, size_t);
int etcd_range_reader_end(struct etcd_range_reader *, struct etcd_result *res);
/* header.revision once read, 0 before. */
int64_t etcd_range_reader_revision(const struct etcd_range_reader *);
/* The kvs handed to each so far. */
size_t etcd_range_reader_handed(const struct etcd_range_reader *);
void etcd_range_reader_free(struct etcd_range_reader *);

/*
 * The watch stream's bytes, as they come, cut into lines. A line longer
 * than ETCD_LINE_MAX makes add fail: no sane stream has one.
 */
#define ETCD_LINE_MAX (64 * 1024 * 1024)

struct etcd_lines {
	char *l_buf;
	size_t l_len; /* bytes held */
	size_t l_off; /* bytes already returned */
	size_t l_cap;
	size_t l_scan; /* l_buf[l_off..l_scan) has no newline */
};

int etcd_lines_add(struct etcd_lines *, const char *, size_t);
/* The next whole line, borrowed until the next call; 0 when none yet. */
int etcd_lines_next(struct etcd_lines *, const char **line, size_t *len);
void etcd_lines_reset(struct etcd_lines *);
void etcd_lines_free(struct etcd_lines *);

#endif /* XDC_ETCD_JSON_H */
