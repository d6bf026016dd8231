/*
 * An etcd v3 client over etcd's JSON gRPC gateway (POST /v3/kv/range,
 * put, txn, deleterange; /v3/lease/grant, keepalive, revoke; /v3/watch),
 * on libcurl's multi interface and jansson. It never blocks and never
 * starts a thread of its own: its sockets and its one timer join the
 * agent's event loop (base/ev.h), so a slow etcd can delay an answer but
 * never the loop (SPEC §8).
 *
 * Every call returns at once and later calls its callback, from the loop,
 * with a typed result or an error that names the endpoint and the reason.
 * Calls are tried on each endpoint of the list in turn when one cannot be
 * reached; the one that answered is remembered for the next call. A watch
 * is a long-lived stream that reconnects by itself and resumes from the
 * revision after the last one it delivered.
 *
 * Callbacks may start, cancel or free calls and watches, except etcd_free
 * and etcd_wait. Nothing here is thread-safe.
 */
#ifndef XDC_ETCD_H
#define XDC_ETCD_H

#include <stddef.h>
#include <stdint.h>

struct xdc_ev;
struct etcd;
struct etcd_req;
struct etcd_watch;

/* As etcdctl's --cacert, --cert and --key; any may be NULL. */
struct etcd_tls {
	const char *tls_cacert; /* CA bundle the servers must verify against */
	const char *tls_cert;   /* client certificate, PEM */
	const char *tls_key;    /* its private key, PEM */
};

/* One key as etcd holds it. key and value are NUL-terminated as well. */
struct etcd_kv {
	const char *kv_key;
	size_t kv_key_len;
	const char *kv_value;
	size_t kv_value_len;
	int64_t kv_create_revision; /* 0 when the key does not exist */
	int64_t kv_mod_revision;
	int64_t kv_version;
	int64_t kv_lease; /* 0: none */
};

enum etcd_kind {
	ETCD_RANGE,
	ETCD_PUT,
	ETCD_DELETE,
	ETCD_TXN,
	ETCD_LEASE_GRANT,
	ETCD_LEASE_KEEPALIVE,
	ETCD_LEASE_REVOKE,
};

/* Flags of a range, put, delete or watch. */
#define ETCD_PREFIX     0x01 /* every key that starts with key */
#define ETCD_PREV_KV    0x02 /* put, delete, watch: the value before */
#define ETCD_KEYS_ONLY  0x04 /* range: no values */
#define ETCD_COUNT_ONLY 0x08 /* range: only the count */

/* A range, put or delete, alone or inside a txn. Borrowed until sent. */
struct etcd_op {
	enum etcd_kind op_kind; /* ETCD_RANGE, ETCD_PUT or ETCD_DELETE */
	const char *op_key;
	unsigned op_flags;
	const void *op_value; /* put */
	size_t op_value_len;
	int64_t op_lease;    /* put: 0 for none */
	int64_t op_limit;    /* range: 0 for no limit */
	int64_t op_revision; /* range: read as of this revision; 0: latest */
};

enum etcd_cmp_target {
	ETCD_CMP_VERSION,
	ETCD_CMP_CREATE, /* create_revision: 0 when the key is absent */
	ETCD_CMP_MOD,
	ETCD_CMP_VALUE,
	ETCD_CMP_LEASE,
};

enum etcd_cmp_result {
	ETCD_EQUAL,
	ETCD_GREATER,
	ETCD_LESS,
	ETCD_NOT_EQUAL,
};

/* key's target compared with cmp_number, or cmp_value for ETCD_CMP_VALUE. */
struct etcd_cmp {
	const char *cmp_key;
	enum etcd_cmp_target cmp_target;
	enum etcd_cmp_result cmp_result;
	int64_t cmp_number;
	const void *cmp_value;
	size_t cmp_value_len;
};

/*
 * What a call returns, borrowed for the callback's duration. rc is 0, or
 * negative with error naming the endpoint and the reason (XDC_ENOTFOUND
 * for etcd's NotFound, such as an unknown or expired lease). Fields not
 * in a response read as 0 or empty, as proto3 says.
 */
struct etcd_result {
	enum etcd_kind res_kind;
	int res_rc;
	const char *res_error; /* NULL when rc is 0 */
	const char
	    *res_endpoint;    /* the endpoint that answered, or last tried */
	long res_http_status; /* 0 when no answer came */
	int res_grpc_code;    /* etcd's error code, 0 when none */
	int64_t res_revision; /* header.revision */

	/* range: the keys; put, delete with ETCD_PREV_KV: the previous ones */
	const struct etcd_kv *res_kvs;
	size_t res_nkvs;
	int64_t res_count; /* range: keys in the range, beyond any limit */
	int res_more;      /* range: more keys than limit */
	int64_t res_deleted;

	/* txn: which branch ran, and one result per op of that branch */
	int res_succeeded;
	const struct etcd_result *res_responses;
	size_t res_nresponses;

	/* lease: grant, keepalive; ttl 0 after keepalive means it is gone */
	int64_t res_lease;
	int64_t res_ttl;
};

typedef void etcd_cb(struct etcd_req *, const struct etcd_result *, void *);

/*
 * endpoints is --etcd's value, "URL[,URL...]" of http:// or https:// URLs;
 * tls may be NULL. The client joins ev, which must outlive it. Fails, with
 * the reason in xdc_error_last(), on a malformed list or an unreadable
 * TLS file; it does not contact etcd.
 */
int etcd_new(struct xdc_ev *, const char *endpoints, const struct etcd_tls *,
    struct etcd **out);
/* Cancels every call and watch without calling their callbacks. */
void etcd_free(struct etcd *);

/*
 * A call's time limit, from start to answer over every endpoint it tries
 * (default 5000 ms), and one connection's (default 2000 ms). For calls
 * started afterwards.
 */
void etcd_set_timeouts(struct etcd *, int request_ms, int connect_ms);

/*
 * The calls. Each returns a handle valid until its callback returns, or
 * NULL (an empty key) with the reason in xdc_error_last(); the callback
 * is called exactly once, never from inside the call.
 */
struct etcd_req *etcd_range(
    struct etcd *, const char *key, unsigned flags, etcd_cb *, void *);
struct etcd_req *etcd_put(struct etcd *, const char *key, const void *value,
    size_t value_len, int64_t lease, etcd_cb *, void *);
struct etcd_req *etcd_delete(
    struct etcd *, const char *key, unsigned flags, etcd_cb *, void *);
/* A range, put or delete with every option. */
struct etcd_req *etcd_do(
    struct etcd *, const struct etcd_op *, etcd_cb *, void *);
/* If every compare holds, the success ops run, else the failure ops. */
struct etcd_req *etcd_txn(struct etcd *, const struct etcd_cmp *, size_t ncmp,
    const struct etcd_op *success, size_t nsuccess,
    const struct etcd_op *failure, size_t nfailure, etcd_cb *, void *);
struct etcd_req *etcd_lease_grant(
    struct etcd *, int64_t ttl, etcd_cb *, void *);
/* One renewal, one POST (etcd issue 8237). */
struct etcd_req *etcd_lease_keepalive(
    struct etcd *, int64_t lease, etcd_cb *, void *);
struct etcd_req *etcd_lease_revoke(
    struct etcd *, int64_t lease, etcd_cb *, void *);

/*
 * A range read as it comes, for a range too large to hold twice (the
 * pool's: every host's record). Each kv goes to each as soon as it is
 * read, borrowed until each returns, instead of into the result: the
 * answer and its values are never held whole. each(NULL, arg) says to
 * forget every kv handed so far: the answer is read again (from another
 * endpoint, or by jansson when the event reader gave up on it). cb comes
 * last, without kvs (res_nkvs 0); only when its rc is 0 are the kvs
 * handed since the last each(NULL) the whole range, as of res_revision.
 * each must not call the client.
 */
typedef void etcd_kv_cb(const struct etcd_kv *, void *);
struct etcd_req *etcd_range_each(
    struct etcd *, const struct etcd_op *, etcd_kv_cb *each, etcd_cb *, void *);

/* Forget a call: its callback will not be called. Ignored inside it. */
void etcd_req_cancel(struct etcd_req *);

/*
 * For one-shot commands: run the loop until req's callback has returned.
 * Returns its rc, with its error in xdc_error_last(). Not from a callback.
 */
int etcd_wait(struct etcd *, struct etcd_req *);

/* A watch's news. */
enum etcd_watch_kind {
	ETCD_WATCH_CREATED,   /* the stream is open (again) */
	ETCD_WATCH_EVENTS,    /* changes, in revision order */
	ETCD_WATCH_PROGRESS,  /* nothing changed up to revision */
	ETCD_WATCH_COMPACTED, /* revisions were lost: see etcd_watch_resume */
	ETCD_WATCH_BROKEN,    /* the stream failed; it reconnects by itself */
};

enum etcd_event_type {
	ETCD_EVENT_PUT,
	ETCD_EVENT_DELETE,
};

struct etcd_event {
	enum etcd_event_type ev_type;
	struct etcd_kv ev_kv; /* DELETE: key and mod_revision only */
	const struct etcd_kv *ev_prev_kv; /* with ETCD_PREV_KV, else NULL */
};

/* Borrowed for the callback's duration. */
struct etcd_watch_msg {
	enum etcd_watch_kind wm_kind;
	int64_t wm_revision; /* header.revision */
	const struct etcd_event *wm_events;
	size_t wm_nevents;
	int64_t wm_compact_revision; /* COMPACTED: the oldest one left */
	const char *wm_error;        /* BROKEN: endpoint and reason */
};

typedef void etcd_watch_cb(
    struct etcd_watch *, const struct etcd_watch_msg *, void *);

/*
 * Watch key (with ETCD_PREFIX, every key under it; ETCD_PREV_KV) from
 * start_revision, or from now when it is 0. After a break it reconnects,
 * with backoff over the endpoints, and resumes at the revision after the
 * last it delivered, so no event is lost or repeated. If that revision
 * was compacted away it reports COMPACTED and stops: the caller re-reads
 * with a range and calls etcd_watch_resume with the range's revision + 1.
 */
int etcd_watch(struct etcd *, const char *key, unsigned flags,
    int64_t start_revision, etcd_watch_cb *, void *, struct etcd_watch **out);
/*
 * Reconnect now, from start_revision, or when it is 0 from the revision
 * after the last delivered (for a caller that suspects a dead stream).
 */
void etcd_watch_resume(struct etcd_watch *, int64_t start_revision);
/* The revision the stream asks for next, 0 before the first CREATED. */
int64_t etcd_watch_next_revision(const struct etcd_watch *);
/* May be called from the watch's own callback. */
void etcd_watch_free(struct etcd_watch *);

/* Counters, for metrics. */
struct etcd_stats {
	uint64_t st_requests; /* HTTP requests: calls, retries, watch streams */
	uint64_t st_errors;   /* calls that failed, watch streams that broke */
	uint64_t st_failovers; /* moves to another endpoint */
	uint64_t st_bytes_sent;
	uint64_t st_bytes_received;
	uint64_t st_watch_events;
	int64_t st_keepalive_rtt_us; /* last successful keepalive; -1: none */
};

void etcd_stats(const struct etcd *, struct etcd_stats *);
/* The endpoint calls go to first, as the list spells it. */
const char *etcd_endpoint(const struct etcd *);

#endif /* XDC_ETCD_H */
