/*
 * The etcd client's transport (see etcd.h): libcurl's multi interface
 * with its sockets and its timer lent to the agent's event loop
 * (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION, and
 * curl_multi_socket_action from the loop's callbacks).
 *
 * libcurl forbids calling the multi interface from inside its own
 * callbacks, and a caller reacting to a watch event will want to start a
 * call. So no callback of ours runs inside libcurl: a watch's write
 * callback only buffers, and process() hands finished calls and buffered
 * watch messages to their callbacks after curl_multi_socket_action has
 * returned.
 *
 * A call that could not reach an endpoint (nothing was sent: refused,
 * unresolvable, a failed TLS handshake, a connect timeout) is tried on the
 * next one, within its time limit; one that was sent and got no answer,
 * or an "unavailable" one, is tried again only when repeating it is
 * harmless (every call but a txn, whose compare may then see its own
 * write).
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/arena.h"
#include "base/error.h"
#include "base/ev.h"
#include "pool/etcd.h"
#include "pool/etcd_json.h"

#define RESPONSE_MAX      (256 * 1024 * 1024)
#define WATCH_BACKOFF_MIN 100  /* ms before the first reconnect */
#define WATCH_BACKOFF_MAX 5000 /* ms between reconnects at most */
#define RETRY_MIN_MS      10   /* no retry with less time left */

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

static void process(struct etcd *);
static void watch_connect(struct etcd_watch *);

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* curl's sockets and timer, on the loop. */

static void
sock_ready(struct xdc_ev_io *io, int fd, short revents, void *arg)
{
	struct sock *s = arg;
	struct etcd *c = s->s_etcd;
	int mask = 0, running;

	(void)io;
	if (revents & POLLIN)
		mask |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		mask |= CURL_CSELECT_OUT;
	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		mask |= CURL_CSELECT_ERR;
	/* s may be freed inside: curl may drop the socket. */
	curl_multi_socket_action(c->c_multi, fd, mask, &running);
	process(c);
}

static int
sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct etcd *c = userp;
	struct sock *s = socketp;
	short events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s == NULL)
			return 0;
		if (s->s_prev != NULL)
			s->s_prev->s_next = s->s_next;
		else
			c->c_socks = s->s_next;
		if (s->s_next != NULL)
			s->s_next->s_prev = s->s_prev;
		xdc_ev_io_del(s->s_io);
		free(s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= POLLIN;
	if (what & CURL_POLL_OUT)
		events |= POLLOUT;
	if (s == NULL) {
		s = xdc_calloc(1, sizeof(*s));
		s->s_etcd = c;
		s->s_fd = fd;
		s->s_io = xdc_ev_io_add(c->c_ev, fd, events, sock_ready, s);
		s->s_next = c->c_socks;
		if (c->c_socks != NULL)
			c->c_socks->s_prev = s;
		c->c_socks = s;
		curl_multi_assign(c->c_multi, fd, s);
	} else
		xdc_ev_io_set(s->s_io, events);
	return 0;
}

static void
timer_fired(struct xdc_ev_timer *t, void *arg)
{
	struct etcd *c = arg;
	int running;

	(void)t;
	curl_multi_socket_action(c->c_multi, CURL_SOCKET_TIMEOUT, 0, &running);
	process(c);
}

static int
timer_cb(CURLM *multi, long ms, void *arg)
{
	struct etcd *c = arg;

	(void)multi;
	if (ms < 0)
		xdc_ev_timer_stop(c->c_timer);
	else
		xdc_ev_timer_in(c->c_timer, ms);
	return 0;
}

/* The client. */

static int
tls_file(const char *what, const char *path, char **out)
{
	*out = NULL;
	if (path == NULL || *path == '\0')
		return 0;
	if (access(path, R_OK) != 0)
		return xdc_error_sys(XDC_ERR, "etcd %s %s", what, path);
	*out = xdc_strdup(path);
	return 0;
}

static int
parse_endpoints(struct etcd *c, const char *list)
{
	const char *p = list, *end, *comma;
	size_t len;
	char *ep;

	if (list == NULL || *list == '\0')
		return xdc_error(XDC_ERR, "etcd: no endpoint given");
	for (;;) {
		while (*p == ' ')
			p++;
		comma = strchr(p, ',');
		end = comma != NULL ? comma : p + strlen(p);
		len = (size_t)(end - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '/'))
			len--;
		ep = xdc_calloc(1, len + 1);
		memcpy(ep, p, len);
		if (strncmp(ep, "http://", 7) != 0 &&
		    strncmp(ep, "https://", 8) != 0) {
			xdc_error(XDC_ERR,
			    "etcd endpoint '%s' is not an http:// or https:// "
			    "URL",
			    ep);
			free(ep);
			return XDC_ERR;
		}
		if (strlen(ep) == (ep[4] == 's' ? 8u : 7u) ||
		    strpbrk(ep, " ?#") != NULL) {
			xdc_error(
			    XDC_ERR, "etcd endpoint '%s' has no host", ep);
			free(ep);
			return XDC_ERR;
		}
		c->c_eps = xdc_reallocarray(
		    c->c_eps, c->c_neps + 1, sizeof(*c->c_eps));
		c->c_eps[c->c_neps++] = ep;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return 0;
}

int
etcd_new(struct xdc_ev *ev, const char *endpoints, const struct etcd_tls *tls,
    struct etcd **out)
{
	static int curl_ready;
	struct etcd *c;
	int rc = XDC_ERR;

	*out = NULL;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return xdc_error(
			    XDC_ERR, "etcd: libcurl failed to start");
		curl_ready = 1;
	}
	c = xdc_calloc(1, sizeof(*c));
	c->c_ev = ev;
	c->c_timeout_ms = 5000;
	c->c_connect_ms = 2000;
	c->c_stats.st_keepalive_rtt_us = -1;
	c->c_rand = (uint32_t)getpid() ^ (uint32_t)xdc_ev_realtime();
	if (parse_endpoints(c, endpoints) < 0)
		goto out;
	if (tls != NULL &&
	    (tls_file("CA certificate", tls->tls_cacert, &c->c_cacert) < 0 ||
	        tls_file("client certificate", tls->tls_cert, &c->c_cert) < 0 ||
	        tls_file("client key", tls->tls_key, &c->c_key) < 0))
		goto out;
	if ((c->c_multi = curl_multi_init()) == NULL) {
		xdc_error(XDC_ERR, "etcd: libcurl failed to start");
		goto out;
	}
	c->c_timer = xdc_ev_timer_new(ev, timer_fired, c);
	curl_multi_setopt(c->c_multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(c->c_multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->c_multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->c_multi, CURLMOPT_TIMERDATA, c);
	c->c_headers =
	    curl_slist_append(NULL, "Content-Type: application/json");
	/* No "Expect: 100-continue" round trip for a larger body. */
	c->c_headers = curl_slist_append(c->c_headers, "Expect:");
	*out = c;
	c = NULL;
	rc = 0;
out:
	etcd_free(c);
	return rc;
}

void
etcd_set_timeouts(struct etcd *c, int request_ms, int connect_ms)
{
	if (request_ms > 0)
		c->c_timeout_ms = request_ms;
	if (connect_ms > 0)
		c->c_connect_ms = connect_ms;
}

const char *
etcd_endpoint(const struct etcd *c)
{
	return c->c_eps[c->c_cur];
}

void
etcd_stats(const struct etcd *c, struct etcd_stats *st)
{
	*st = c->c_stats;
}

/* The endpoint ep failed: calls go to the next one from now on. */
static void
failover(struct etcd *c, size_t ep)
{
	if (c->c_cur != ep || c->c_neps < 2)
		return;
	c->c_cur = (ep + 1) % c->c_neps;
	c->c_stats.st_failovers++;
}

/* What every transfer to etcd has: TLS, HTTP/1.1, no signals. */
static void
easy_common(struct etcd *c, CURL *e, const char *ep, const char *path,
    const char *body, char *errbuf, void *priv)
{
	char *url = NULL;

	xdc_asprintf(&url, "%s%s", ep, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* Straight to etcd, whatever http_proxy says in the environment. */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->c_headers);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PRIVATE, priv);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	errbuf[0] = '\0';
	if (c->c_cacert != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->c_cacert);
	if (c->c_cert != NULL)
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->c_cert);
	if (c->c_key != NULL)
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->c_key);
}

/* Calls. */

static size_t
req_write(char *p, size_t size, size_t n, void *arg)
{
	struct etcd_req *r = arg;
	size_t len = size * n, cap;

	if (r->r_resp_len + len > RESPONSE_MAX)
		return 0;
	if (r->r_resp_len + len + 1 > r->r_resp_cap) {
		cap = r->r_resp_cap == 0 ? 1024 : r->r_resp_cap;
		while (cap < r->r_resp_len + len + 1)
			cap *= 2;
		r->r_resp = xdc_reallocarray(r->r_resp, cap, 1);
		r->r_resp_cap = cap;
	}
	memcpy(r->r_resp + r->r_resp_len, p, len);
	r->r_resp_len += len;
	return len;
}

static void
req_free(struct etcd_req *r)
{
	struct etcd *c;

	if (r == NULL)
		return;
	c = r->r_etcd;
	if (r->r_attached)
		curl_multi_remove_handle(c->c_multi, r->r_curl);
	if (r->r_curl != NULL)
		curl_easy_cleanup(r->r_curl);
	if (r->r_prev != NULL)
		r->r_prev->r_next = r->r_next;
	else if (c->c_reqs == r)
		c->c_reqs = r->r_next;
	if (r->r_next != NULL)
		r->r_next->r_prev = r->r_prev;
	free(r->r_what);
	free(r->r_body);
	free(r->r_resp);
	free(r->r_fails);
	free(r);
}

static void
req_attempt(struct etcd_req *r)
{
	struct etcd *c = r->r_etcd;
	int64_t left = r->r_deadline - xdc_ev_now();

	if (left < 1)
		left = 1;
	r->r_tries++;
	r->r_resp_len = 0;
	easy_common(c, r->r_curl, c->c_eps[r->r_ep], etcd_path(r->r_kind),
	    r->r_body, r->r_errbuf, r);
	curl_easy_setopt(r->r_curl, CURLOPT_WRITEFUNCTION, req_write);
	curl_easy_setopt(r->r_curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->r_curl, CURLOPT_TIMEOUT_MS, (long)left);
	curl_easy_setopt(r->r_curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(left < c->c_connect_ms ? left : c->c_connect_ms));
	curl_multi_add_handle(c->c_multi, r->r_curl);
	r->r_attached = 1;
	c->c_stats.st_requests++;
}

static struct etcd_req *
req_start(struct etcd *c, enum etcd_kind kind, const char *key, char *body,
    etcd_cb *cb, void *arg)
{
	struct etcd_req *r = xdc_calloc(1, sizeof(*r));

	r->r_etcd = c;
	r->r_kind = kind;
	r->r_body = body;
	r->r_cb = cb;
	r->r_arg = arg;
	if (key != NULL)
		xdc_asprintf(&r->r_what, "%s '%s'", etcd_kind_name(kind), key);
	else
		r->r_what = xdc_strdup(etcd_kind_name(kind));
	r->r_curl = curl_easy_init();
	if (r->r_curl == NULL)
		abort(); /* only allocation fails here */
	r->r_deadline = xdc_ev_now() + c->c_timeout_ms;
	r->r_start_us = now_us();
	r->r_ep = c->c_cur;
	r->r_next = c->c_reqs;
	if (c->c_reqs != NULL)
		c->c_reqs->r_prev = r;
	c->c_reqs = r;
	req_attempt(r);
	return r;
}

static void
note_failure(struct etcd_req *r, const char *reason)
{
	char *s = NULL;

	xdc_asprintf(&s, "%s%s%s: %s", r->r_fails ? r->r_fails : "",
	    r->r_fails ? "; " : "", r->r_etcd->c_eps[r->r_ep], reason);
	free(r->r_fails);
	r->r_fails = s;
	r->r_nfails++;
}

/* Whether to try the next endpoint, given that the request was sent. */
static int
may_retry(struct etcd_req *r, int sent)
{
	struct etcd *c = r->r_etcd;

	if (sent && r->r_kind == ETCD_TXN)
		return 0;
	return r->r_tries < c->c_neps &&
	       r->r_deadline - xdc_ev_now() >= RETRY_MIN_MS;
}

static void
retry(struct etcd_req *r)
{
	r->r_ep = (r->r_ep + 1) % r->r_etcd->c_neps;
	req_attempt(r);
}

static void
req_complete(struct etcd_req *r, struct etcd_result *res)
{
	struct etcd *c = r->r_etcd;
	struct waiter *w = r->r_waiter;

	if (res->res_rc != 0)
		c->c_stats.st_errors++;
	if (w != NULL) {
		w->wt_done = 1;
		w->wt_rc = res->res_rc;
		w->wt_msg = res->res_error ? xdc_strdup(res->res_error) : NULL;
	}
	r->r_in_cb = 1;
	if (r->r_cb != NULL)
		r->r_cb(r, res, r->r_arg);
	req_free(r);
}

static void
req_done(struct etcd_req *r, CURLcode cc)
{
	struct etcd *c = r->r_etcd;
	struct xdc_arena *a = xdc_arena_new();
	struct etcd_result res;
	const char *ep = c->c_eps[r->r_ep];
	curl_off_t up = 0, down = 0;
	long status = 0, reqsize = 0, hdrsize = 0;
	int sent;

	curl_easy_getinfo(r->r_curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(r->r_curl, CURLINFO_REQUEST_SIZE, &reqsize);
	curl_easy_getinfo(r->r_curl, CURLINFO_HEADER_SIZE, &hdrsize);
	curl_easy_getinfo(r->r_curl, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(r->r_curl, CURLINFO_SIZE_DOWNLOAD_T, &down);
	c->c_stats.st_bytes_sent += (uint64_t)reqsize + (uint64_t)up;
	c->c_stats.st_bytes_received += (uint64_t)hdrsize + (uint64_t)down;
	curl_multi_remove_handle(c->c_multi, r->r_curl);
	r->r_attached = 0;
	/* Nothing left our side when no request header went out. */
	sent = reqsize > 0;

	if (cc != CURLE_OK) {
		note_failure(r, r->r_errbuf[0] != '\0'
		                    ? r->r_errbuf
		                    : curl_easy_strerror(cc));
		failover(c, r->r_ep);
		if (may_retry(r, sent)) {
			retry(r);
			goto out;
		}
		memset(&res, 0, sizeof(res));
		res.res_kind = r->r_kind;
		res.res_rc = XDC_ERR;
		res.res_http_status = status;
		res.res_endpoint = ep;
		if (r->r_nfails == 1)
			res.res_error = xdc_arena_printf(
			    a, "etcd %s: %s", r->r_what, r->r_fails);
		else
			res.res_error = xdc_arena_printf(a,
			    "etcd: %s: every endpoint failed: %s", r->r_what,
			    r->r_fails);
		req_complete(r, &res);
		goto out;
	}

	if (r->r_resp == NULL)
		req_write("", 1, 0, r);
	etcd_decode(r->r_kind, status, r->r_resp, r->r_resp_len, a, &res);
	res.res_endpoint = ep;
	if (res.res_rc != 0 &&
	    (res.res_grpc_code == 14 || res.res_http_status == 503)) {
		/* This member cannot serve (no leader, shutting down). */
		note_failure(r, res.res_error);
		failover(c, r->r_ep);
		if (may_retry(r, 1)) {
			retry(r);
			goto out;
		}
	}
	if (res.res_rc == 0 ||
	    (res.res_grpc_code != 0 && res.res_grpc_code != 14))
		c->c_cur = r->r_ep; /* it answered: remember it */
	if (res.res_rc != 0) {
		if (r->r_nfails > 0 &&
		    strstr(r->r_fails, res.res_error) == NULL)
			res.res_error =
			    xdc_arena_printf(a, "etcd %s: %s: %s (before: %s)",
			        ep, r->r_what, res.res_error, r->r_fails);
		else
			res.res_error = xdc_arena_printf(
			    a, "etcd %s: %s: %s", ep, r->r_what, res.res_error);
	} else if (r->r_kind == ETCD_LEASE_KEEPALIVE)
		c->c_stats.st_keepalive_rtt_us = now_us() - r->r_start_us;
	req_complete(r, &res);
out:
	xdc_arena_free(a);
}

static int
check_key(const char *key, unsigned flags)
{
	if (key == NULL || (*key == '\0' && !(flags & ETCD_PREFIX)))
		return xdc_error(XDC_ERR, "etcd: a key must not be empty");
	return 0;
}

struct etcd_req *
etcd_do(struct etcd *c, const struct etcd_op *op, etcd_cb *cb, void *arg)
{
	if (op->op_kind > ETCD_DELETE) {
		xdc_error(
		    XDC_ERR, "etcd: only a range, put or delete is an op");
		return NULL;
	}
	if (check_key(op->op_key, op->op_kind == ETCD_PUT ? 0 : op->op_flags) <
	    0)
		return NULL;
	return req_start(
	    c, op->op_kind, op->op_key, etcd_encode_op(op), cb, arg);
}

struct etcd_req *
etcd_range(
    struct etcd *c, const char *key, unsigned flags, etcd_cb *cb, void *arg)
{
	struct etcd_op op = {
		.op_kind = ETCD_RANGE, .op_key = key, .op_flags = flags
	};

	return etcd_do(c, &op, cb, arg);
}

struct etcd_req *
etcd_put(struct etcd *c, const char *key, const void *value, size_t len,
    int64_t lease, etcd_cb *cb, void *arg)
{
	struct etcd_op op = { .op_kind = ETCD_PUT,
		.op_key = key,
		.op_value = value,
		.op_value_len = len,
		.op_lease = lease };

	return etcd_do(c, &op, cb, arg);
}

struct etcd_req *
etcd_delete(
    struct etcd *c, const char *key, unsigned flags, etcd_cb *cb, void *arg)
{
	struct etcd_op op = {
		.op_kind = ETCD_DELETE, .op_key = key, .op_flags = flags
	};

	return etcd_do(c, &op, cb, arg);
}

struct etcd_req *
etcd_txn(struct etcd *c, const struct etcd_cmp *cmp, size_t ncmp,
    const struct etcd_op *success, size_t nsuccess,
    const struct etcd_op *failure, size_t nfailure, etcd_cb *cb, void *arg)
{
	size_t i;

	for (i = 0; i < ncmp; i++)
		if (check_key(cmp[i].cmp_key, 0) < 0 ||
		    (unsigned)cmp[i].cmp_target > ETCD_CMP_LEASE ||
		    (unsigned)cmp[i].cmp_result > ETCD_NOT_EQUAL) {
			xdc_error(
			    XDC_ERR, "etcd: txn compare %zu is invalid", i + 1);
			return NULL;
		}
	for (i = 0; i < nsuccess + nfailure; i++) {
		const struct etcd_op *op =
		    i < nsuccess ? &success[i] : &failure[i - nsuccess];

		if (op->op_kind > ETCD_DELETE ||
		    check_key(op->op_key,
		        op->op_kind == ETCD_PUT ? 0 : op->op_flags) < 0) {
			xdc_error(
			    XDC_ERR, "etcd: txn op %zu is invalid", i + 1);
			return NULL;
		}
	}
	return req_start(c, ETCD_TXN, ncmp > 0 ? cmp[0].cmp_key : NULL,
	    etcd_encode_txn(cmp, ncmp, success, nsuccess, failure, nfailure),
	    cb, arg);
}

static struct etcd_req *
lease_call(struct etcd *c, enum etcd_kind kind, int64_t lease, int64_t ttl,
    etcd_cb *cb, void *arg)
{
	char what[32];

	snprintf(what, sizeof(what), "%" PRId64, lease);
	return req_start(c, kind, kind == ETCD_LEASE_GRANT ? NULL : what,
	    etcd_encode_lease(kind, lease, ttl), cb, arg);
}

struct etcd_req *
etcd_lease_grant(struct etcd *c, int64_t ttl, etcd_cb *cb, void *arg)
{
	return lease_call(c, ETCD_LEASE_GRANT, 0, ttl, cb, arg);
}

struct etcd_req *
etcd_lease_keepalive(struct etcd *c, int64_t lease, etcd_cb *cb, void *arg)
{
	return lease_call(c, ETCD_LEASE_KEEPALIVE, lease, 0, cb, arg);
}

struct etcd_req *
etcd_lease_revoke(struct etcd *c, int64_t lease, etcd_cb *cb, void *arg)
{
	return lease_call(c, ETCD_LEASE_REVOKE, lease, 0, cb, arg);
}

void
etcd_req_cancel(struct etcd_req *r)
{
	if (r == NULL || r->r_in_cb)
		return;
	if (r->r_waiter != NULL)
		r->r_waiter->wt_done = 1, r->r_waiter->wt_rc = XDC_ERR;
	req_free(r);
}

int
etcd_wait(struct etcd *c, struct etcd_req *r)
{
	struct waiter w = { 0, 0, NULL };
	int rc;

	if (r == NULL)
		return XDC_ERR; /* its reason is already set */
	r->r_waiter = &w;
	while (!w.wt_done) {
		if (xdc_ev_run_once(c->c_ev, -1) < 0) {
			if (!w.wt_done)
				etcd_req_cancel(r);
			free(w.wt_msg);
			return XDC_ERR;
		}
	}
	rc = w.wt_rc;
	if (rc != 0)
		xdc_error(rc, "%s", w.wt_msg ? w.wt_msg : "etcd call canceled");
	free(w.wt_msg);
	return rc;
}

/* Watches. */

static uint32_t
rnd(struct etcd *c)
{
	c->c_rand ^= c->c_rand << 13;
	c->c_rand ^= c->c_rand >> 17;
	c->c_rand ^= c->c_rand << 5;
	return c->c_rand;
}

static size_t
watch_write(char *p, size_t size, size_t n, void *arg)
{
	struct etcd_watch *w = arg;
	size_t len = size * n;

	w->w_etcd->c_stats.st_bytes_received += len;
	if (w->w_status == 0)
		curl_easy_getinfo(
		    w->w_curl, CURLINFO_RESPONSE_CODE, &w->w_status);
	if (etcd_lines_add(&w->w_lines, p, len) < 0)
		return 0;
	w->w_pending = 1;
	return len;
}

/* A dead peer on an idle stream: found in about 11 s, not hours. */
static int
watch_sockopt(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	int cnt = 3;

	(void)arg;
	if (purpose == CURLSOCKTYPE_IPCXN)
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	return CURL_SOCKOPT_OK;
}

static void
watch_stop_stream(struct etcd_watch *w)
{
	if (w->w_curl != NULL) {
		curl_multi_remove_handle(w->w_etcd->c_multi, w->w_curl);
		curl_easy_cleanup(w->w_curl);
		w->w_curl = NULL;
	}
	etcd_lines_reset(&w->w_lines);
	w->w_pending = 0;
	w->w_status = 0;
}

static void
watch_connect(struct etcd_watch *w)
{
	struct etcd *c = w->w_etcd;

	watch_stop_stream(w);
	xdc_ev_timer_stop(w->w_timer);
	free(w->w_body);
	w->w_body = etcd_encode_watch(w->w_key, w->w_flags, w->w_next_rev);
	w->w_ep = c->c_cur;
	w->w_created = 0;
	if ((w->w_curl = curl_easy_init()) == NULL)
		abort(); /* only allocation fails here */
	easy_common(c, w->w_curl, c->c_eps[w->w_ep], "/v3/watch", w->w_body,
	    w->w_errbuf, w);
	curl_easy_setopt(w->w_curl, CURLOPT_WRITEFUNCTION, watch_write);
	curl_easy_setopt(w->w_curl, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(
	    w->w_curl, CURLOPT_CONNECTTIMEOUT_MS, (long)c->c_connect_ms);
	curl_easy_setopt(w->w_curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(w->w_curl, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(w->w_curl, CURLOPT_TCP_KEEPINTVL, 2L);
	curl_easy_setopt(w->w_curl, CURLOPT_SOCKOPTFUNCTION, watch_sockopt);
	curl_multi_add_handle(c->c_multi, w->w_curl);
	c->c_stats.st_requests++;
	c->c_stats.st_bytes_sent += strlen(w->w_body);
}

static void
watch_timer(struct xdc_ev_timer *t, void *arg)
{
	(void)t;
	watch_connect(arg);
}

/* The stream failed: tell the caller, and reconnect after a backoff. */
static void
watch_broken(struct etcd_watch *w, const char *why)
{
	struct etcd *c = w->w_etcd;
	struct etcd_watch_msg msg;
	int delay;

	c->c_stats.st_errors++;
	if (!w->w_created)
		failover(c, w->w_ep);
	watch_stop_stream(w);
	delay = w->w_backoff > 0 ? w->w_backoff : WATCH_BACKOFF_MIN;
	w->w_backoff =
	    delay * 2 > WATCH_BACKOFF_MAX ? WATCH_BACKOFF_MAX : delay * 2;
	/* Some jitter, so that a pool's agents do not come back at once. */
	delay += (int)(rnd(c) % (uint32_t)(delay / 4 + 1));
	xdc_ev_timer_in(w->w_timer, delay);
	memset(&msg, 0, sizeof(msg));
	msg.wm_kind = ETCD_WATCH_BROKEN;
	msg.wm_error = why;
	w->w_cb(w, &msg, w->w_arg);
}

/* Hand each whole message to the callback, until w is gone or stopped. */
static void
watch_dispatch(struct etcd_watch *w)
{
	struct etcd *c = w->w_etcd;
	struct etcd_watch_msg msg;
	const char *line, *ep = c->c_eps[w->w_ep];
	size_t len, i;

	while (!w->w_dead && w->w_curl != NULL && w->w_status == 200 &&
	       etcd_lines_next(&w->w_lines, &line, &len)) {
		xdc_arena_reset(w->w_arena);
		etcd_decode_watch(line, len, w->w_arena, &msg);
		switch (msg.wm_kind) {
		case ETCD_WATCH_CREATED:
			w->w_created = 1;
			w->w_backoff = 0;
			c->c_cur = w->w_ep;
			if (w->w_next_rev == 0)
				w->w_next_rev = msg.wm_revision + 1;
			break;
		case ETCD_WATCH_EVENTS:
			for (i = 0; i < msg.wm_nevents; i++)
				if (msg.wm_events[i].ev_kv.kv_mod_revision >=
				    w->w_next_rev)
					w->w_next_rev =
					    msg.wm_events[i]
					        .ev_kv.kv_mod_revision +
					    1;
			c->c_stats.st_watch_events += msg.wm_nevents;
			break;
		case ETCD_WATCH_PROGRESS:
			if (msg.wm_revision >= w->w_next_rev)
				w->w_next_rev = msg.wm_revision + 1;
			break;
		case ETCD_WATCH_COMPACTED:
			watch_stop_stream(w);
			w->w_stopped = 1;
			break;
		case ETCD_WATCH_BROKEN:
			watch_broken(w, xdc_arena_printf(w->w_arena,
			                    "etcd %s: watch '%s': %s", ep,
			                    w->w_key, msg.wm_error));
			return;
		}
		w->w_cb(w, &msg, w->w_arg);
	}
	/*
	 * Every whole line was handed over, or the stream is gone, or its
	 * error body waits for the end of the transfer.
	 */
	if (!w->w_dead)
		w->w_pending = 0;
}

static void
watch_done(struct etcd_watch *w, CURLcode cc)
{
	struct etcd *c = w->w_etcd;
	struct etcd_result res;
	const char *ep = c->c_eps[w->w_ep], *why;
	long status = 0;

	curl_easy_getinfo(w->w_curl, CURLINFO_RESPONSE_CODE, &status);
	if (w->w_status == 0)
		w->w_status = status;
	if (status == 200) {
		/* What came before the end, even without its newline. */
		etcd_lines_add(&w->w_lines, "\n", 1);
		watch_dispatch(w);
		if (w->w_dead || w->w_curl == NULL)
			return; /* freed, stopped or already broken */
	}
	xdc_arena_reset(w->w_arena);
	if (cc != CURLE_OK)
		why = w->w_errbuf[0] != '\0' ? w->w_errbuf
		                             : curl_easy_strerror(cc);
	else if (status != 200) {
		if (w->w_lines.l_buf == NULL)
			etcd_lines_add(&w->w_lines, "", 0);
		etcd_decode(ETCD_RANGE, status,
		    w->w_lines.l_buf + w->w_lines.l_off,
		    w->w_lines.l_len - w->w_lines.l_off, w->w_arena, &res);
		why = res.res_error != NULL ? res.res_error : "HTTP error";
	} else
		why = "the stream ended";
	watch_broken(w, xdc_arena_printf(w->w_arena, "etcd %s: watch '%s': %s",
	                    ep, w->w_key, why));
}

int
etcd_watch(struct etcd *c, const char *key, unsigned flags,
    int64_t start_revision, etcd_watch_cb *cb, void *arg,
    struct etcd_watch **out)
{
	struct etcd_watch *w;

	*out = NULL;
	if (check_key(key, flags) < 0)
		return XDC_ERR;
	w = xdc_calloc(1, sizeof(*w));
	w->w_x.x_watch = 1;
	w->w_etcd = c;
	w->w_key = xdc_strdup(key);
	w->w_flags = flags;
	w->w_next_rev = start_revision > 0 ? start_revision : 0;
	w->w_cb = cb;
	w->w_arg = arg;
	w->w_arena = xdc_arena_new();
	w->w_timer = xdc_ev_timer_new(c->c_ev, watch_timer, w);
	w->w_next = c->c_watches;
	if (c->c_watches != NULL)
		c->c_watches->w_prev = w;
	c->c_watches = w;
	watch_connect(w);
	*out = w;
	return 0;
}

void
etcd_watch_resume(struct etcd_watch *w, int64_t start_revision)
{
	if (w == NULL || w->w_dead)
		return;
	if (start_revision > 0)
		w->w_next_rev = start_revision;
	w->w_stopped = 0;
	watch_connect(w);
}

int64_t
etcd_watch_next_revision(const struct etcd_watch *w)
{
	return w->w_next_rev;
}

static void
watch_destroy(struct etcd_watch *w)
{
	struct etcd *c = w->w_etcd;

	if (w->w_prev != NULL)
		w->w_prev->w_next = w->w_next;
	else
		c->c_watches = w->w_next;
	if (w->w_next != NULL)
		w->w_next->w_prev = w->w_prev;
	free(w->w_key);
	free(w->w_body);
	etcd_lines_free(&w->w_lines);
	xdc_arena_free(w->w_arena);
	free(w);
}

void
etcd_watch_free(struct etcd_watch *w)
{
	if (w == NULL || w->w_dead)
		return;
	watch_stop_stream(w);
	xdc_ev_timer_free(w->w_timer);
	w->w_timer = NULL;
	w->w_dead = 1;
	/* Inside process() the list is being walked: reap it afterwards. */
	if (w->w_etcd->c_dispatching == 0)
		watch_destroy(w);
}

/* Finished calls and buffered watch messages, to their callbacks. */
static void
process(struct etcd *c)
{
	struct etcd_watch *w, *next;
	struct xfer *x;
	char *priv;
	CURLMsg *m;
	CURLcode cc;
	CURL *e;
	int left;

	c->c_dispatching++;
	while ((m = curl_multi_info_read(c->c_multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		e = m->easy_handle;
		cc = m->data.result;
		priv = NULL;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
		if ((x = (struct xfer *)(void *)priv) == NULL)
			continue;
		if (x->x_watch)
			watch_done((struct etcd_watch *)x, cc);
		else
			req_done((struct etcd_req *)x, cc);
	}
again:
	for (w = c->c_watches; w != NULL; w = w->w_next)
		if (w->w_pending && !w->w_dead) {
			watch_dispatch(w);
			goto again;
		}
	c->c_dispatching--;
	if (c->c_dispatching > 0)
		return;
	for (w = c->c_watches; w != NULL; w = next) {
		next = w->w_next;
		if (w->w_dead)
			watch_destroy(w);
	}
}

void
etcd_free(struct etcd *c)
{
	struct sock *s;
	size_t i;

	if (c == NULL)
		return;
	while (c->c_reqs != NULL)
		req_free(c->c_reqs);
	while (c->c_watches != NULL) {
		if (!c->c_watches->w_dead) {
			watch_stop_stream(c->c_watches);
			xdc_ev_timer_free(c->c_watches->w_timer);
		}
		watch_destroy(c->c_watches);
	}
	if (c->c_multi != NULL)
		curl_multi_cleanup(c->c_multi);
	/* Sockets of cached connections curl did not tell us it closed. */
	while ((s = c->c_socks) != NULL) {
		c->c_socks = s->s_next;
		xdc_ev_io_del(s->s_io);
		free(s);
	}
	if (c->c_timer != NULL)
		xdc_ev_timer_free(c->c_timer);
	curl_slist_free_all(c->c_headers);
	for (i = 0; i < c->c_neps; i++)
		free(c->c_eps[i]);
	free(c->c_eps);
	free(c->c_cacert);
	free(c->c_cert);
	free(c->c_key);
	free(c);
}
