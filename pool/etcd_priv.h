/*
 * What the etcd client's files share, and nobody else: etcd.c (the
 * transport), etcd_kv.c (the calls), etcd_range.c (a range read as it
 * comes) and etcd_watch.c (the watch streams). The structures of the client, a
 * call and a watch, and the functions one file calls in another. Not part of
 * etcd.h's interface.
 */
#ifndef XDC_POOL_ETCD_PRIV_H
#define XDC_POOL_ETCD_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "pool/etcd.h"
#include "pool/etcd_json.h"

struct xdc_arena;
struct xdc_ev;
struct xdc_ev_io;
struct xdc_ev_timer;

/* The first member of a call and of a watch: which one CURLINFO_PRIVATE is. */
struct xfer {
	int x_watch;
};

/* A socket curl asked us to watch. */
struct sock {
	struct sock *s_next, *s_prev;
	struct xdc_ev_io *s_io;
	struct etcd *s_etcd;
	curl_socket_t s_fd;
};

struct waiter {
	int wt_done;
	int wt_rc;
	char *wt_msg;
};

struct etcd_req {
	struct xfer r_x;
	struct etcd *r_etcd;
	struct etcd_req *r_next, *r_prev;
	enum etcd_kind r_kind;
	char *r_what; /* "put 'xdc/hosts/a'", for messages */
	char *r_body;
	CURL *r_curl;
	int r_attached; /* in the multi handle */
	char *r_resp;
	size_t r_resp_len, r_resp_cap;
	size_t r_ep;    /* this attempt's endpoint */
	size_t r_tries; /* attempts started */
	int64_t r_deadline;
	int64_t r_start_us;
	char *r_fails; /* "URL: reason" of each failed attempt */
	size_t r_nfails;
	etcd_cb *r_cb;
	void *r_arg;
	struct waiter *r_waiter;
	int r_in_cb;
	char r_errbuf[CURL_ERROR_SIZE];

	/*
	 * A range read as it comes (etcd_range_each): the answer is fed to
	 * r_rd as process() finds it in r_resp, which holds the first
	 * HEAD_KEEP bytes and then only what has not been fed yet.
	 */
	etcd_kv_cb *r_each;
	struct etcd_op r_op;            /* its op; r_op.op_key owned */
	struct etcd_range_reader *r_rd; /* this answer's, once it is a 200 */
	size_t r_fed;                   /* of r_resp, fed to r_rd */
	size_t r_dropped;               /* bytes fed and no longer held */
	size_t r_handed;                /* kvs handed since each(NULL) */
	int r_whole; /* held whole, for jansson: an error, or given up */
	int r_lost;  /* given up once bytes were dropped: ask again */
	int r_again; /* this is asking again, at r_again_rev */
	int64_t r_again_rev;
};

struct etcd_watch {
	struct xfer w_x;
	struct etcd *w_etcd;
	struct etcd_watch *w_next, *w_prev;
	char *w_key;
	unsigned w_flags;
	int64_t w_next_rev; /* 0 until the first CREATED */
	CURL *w_curl;       /* NULL between streams */
	char *w_body;
	struct etcd_lines w_lines;
	long w_status;
	int w_pending; /* w_lines may hold a whole line */
	int w_created; /* this stream said created */
	int w_stopped; /* compacted: waits for etcd_watch_resume */
	int w_dead;    /* freed during a dispatch; reaped after it */
	int w_backoff; /* ms before the next reconnect */
	size_t w_ep;
	struct xdc_ev_timer *w_timer;
	struct xdc_arena *w_arena;
	etcd_watch_cb *w_cb;
	void *w_arg;
	char w_errbuf[CURL_ERROR_SIZE];
};

struct etcd {
	struct xdc_ev *c_ev;
	CURLM *c_multi;
	struct xdc_ev_timer *c_timer;
	struct curl_slist *c_headers;
	char **c_eps;
	size_t c_neps;
	size_t c_cur; /* the endpoint calls try first */
	char *c_cacert, *c_cert, *c_key;
	int c_timeout_ms, c_connect_ms;
	struct etcd_req *c_reqs;
	struct etcd_watch *c_watches;
	struct sock *c_socks;
	struct etcd_stats c_stats;
	int c_dispatching; /* inside process() */
	uint32_t c_rand;
};

/* etcd.c: the transport. */
/* Starts a call of kind with body (owned from here on); key names it. */
struct etcd_req *etcd_req_start(struct etcd *, enum etcd_kind kind,
    const char *key, char *body, etcd_cb *cb, void *arg);
void etcd_failover(struct etcd *, size_t ep);
/* A call's next attempt, on r_ep. */
void etcd_req_attempt(struct etcd_req *);
/* The call is over: res to its callback, then freed. */
void etcd_req_complete(struct etcd_req *, struct etcd_result *);
void etcd_easy_common(struct etcd *, CURL *e, const char *ep, const char *path,
    const char *body, char *errbuf, void *priv);

/* etcd_kv.c: the calls. */
int etcd_check_key(const char *key, unsigned flags);

/* etcd_range.c: a range read as it comes. */
/* What curl brought since the last time, to the reader. */
void etcd_range_feed(struct etcd_req *);
/*
 * The answer is all here: 1 when r is complete (and freed) or asked
 * again, 0 when the answer is held whole, for etcd_decode to read.
 */
int etcd_range_feed_end(
    struct etcd_req *, const char *ep, struct etcd_result *res);
/* An answer read whole: its kvs to each, as of the revision asked. */
void etcd_range_whole(struct etcd_req *, struct etcd_result *res);

/* etcd_watch.c: the watch streams, as process() drives them. */
void etcd_watch_done(struct etcd_watch *, CURLcode cc);
void etcd_watch_dispatch(struct etcd_watch *);
void etcd_watch_stop_stream(struct etcd_watch *);
void etcd_watch_destroy(struct etcd_watch *);

#endif
