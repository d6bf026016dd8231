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
 *
 * A range read as it comes (etcd_range_each) is fed to the event reader
 * by process() too, after curl_multi_socket_action has returned, a piece
 * at a time (etcd_range.c).
 *
 * This file is the transport: endpoints, TLS, the sockets and timer lent
 * to the loop, a call's attempts and retries, and process(). The calls
 * themselves (KV, txn, lease) are in etcd_kv.c, the watch streams in
 * etcd_watch.c, a range read as it comes in etcd_range.c; what they
 * share is in etcd_priv.h.
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
#include "pool/etcd_priv.h"

#define RESPONSE_MAX (256 * 1024 * 1024)
#define RETRY_MIN_MS 10 /* no retry with less time left */

static void process(struct etcd *);

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
void
etcd_failover(struct etcd *c, size_t ep)
{
	if (c->c_cur != ep || c->c_neps < 2)
		return;
	c->c_cur = (ep + 1) % c->c_neps;
	c->c_stats.st_failovers++;
}

/* What every transfer to etcd has: TLS, HTTP/1.1, no signals. */
void
etcd_easy_common(struct etcd *c, CURL *e, const char *ep, const char *path,
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
	free((char *)(uintptr_t)r->r_op.op_key);
	etcd_range_reader_free(r->r_rd);
	free(r);
}

void
etcd_req_attempt(struct etcd_req *r)
{
	struct etcd *c = r->r_etcd;
	int64_t left = r->r_deadline - xdc_ev_now();

	if (left < 1)
		left = 1;
	r->r_tries++;
	r->r_resp_len = 0;
	etcd_range_reader_free(r->r_rd);
	r->r_rd = NULL;
	r->r_fed = r->r_dropped = 0;
	r->r_lost = 0;
	r->r_whole = r->r_again;
	etcd_easy_common(c, r->r_curl, c->c_eps[r->r_ep], etcd_path(r->r_kind),
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

struct etcd_req *
etcd_req_start(struct etcd *c, enum etcd_kind kind, const char *key, char *body,
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
	etcd_req_attempt(r);
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
	etcd_req_attempt(r);
}

void
etcd_req_complete(struct etcd_req *r, struct etcd_result *res)
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
		etcd_failover(c, r->r_ep);
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
		etcd_req_complete(r, &res);
		goto out;
	}

	if (r->r_each != NULL && etcd_range_feed_end(r, ep, &res))
		goto out;
	if (r->r_resp == NULL)
		req_write("", 1, 0, r);
	etcd_decode(r->r_kind, status, r->r_resp, r->r_resp_len, a, &res);
	res.res_endpoint = ep;
	if (res.res_rc != 0 &&
	    (res.res_grpc_code == 14 || res.res_http_status == 503)) {
		/* This member cannot serve (no leader, shutting down). */
		note_failure(r, res.res_error);
		etcd_failover(c, r->r_ep);
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
	etcd_range_whole(r, &res);
	etcd_req_complete(r, &res);
out:
	xdc_arena_free(a);
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

/* Finished calls and buffered watch messages, to their callbacks. */
static void
process(struct etcd *c)
{
	struct etcd_watch *w, *next;
	struct etcd_req *r;
	struct xfer *x;
	char *priv;
	CURLMsg *m;
	CURLcode cc;
	CURL *e;
	int left;

	c->c_dispatching++;
	for (r = c->c_reqs; r != NULL; r = r->r_next)
		etcd_range_feed(r);
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
			etcd_watch_done((struct etcd_watch *)x, cc);
		else
			req_done((struct etcd_req *)x, cc);
	}
again:
	for (w = c->c_watches; w != NULL; w = w->w_next)
		if (w->w_pending && !w->w_dead) {
			etcd_watch_dispatch(w);
			goto again;
		}
	c->c_dispatching--;
	if (c->c_dispatching > 0)
		return;
	for (w = c->c_watches; w != NULL; w = next) {
		next = w->w_next;
		if (w->w_dead)
			etcd_watch_destroy(w);
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
			etcd_watch_stop_stream(c->c_watches);
			xdc_ev_timer_free(c->c_watches->w_timer);
		}
		etcd_watch_destroy(c->c_watches);
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
