/*
 * The etcd client's watch streams (see etcd.h): one long POST to /v3/watch
 * a watch, its messages buffered line by line by libcurl's write callback
 * and handed to the caller by process() (etcd.c) outside libcurl; a
 * stream that breaks is reconnected, on the next endpoint, after a
 * backoff with jitter, from the revision after the last one seen.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "base/arena.h"
#include "base/error.h"
#include "base/ev.h"
#include "pool/etcd.h"
#include "pool/etcd_json.h"
#include "pool/etcd_priv.h"

#define WATCH_BACKOFF_MIN 100  /* ms before the first reconnect */
#define WATCH_BACKOFF_MAX 5000 /* ms between reconnects at most */

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

void
etcd_watch_stop_stream(struct etcd_watch *w)
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

	etcd_watch_stop_stream(w);
	xdc_ev_timer_stop(w->w_timer);
	free(w->w_body);
	w->w_body = etcd_encode_watch(w->w_key, w->w_flags, w->w_next_rev);
	w->w_ep = c->c_cur;
	w->w_created = 0;
	if ((w->w_curl = curl_easy_init()) == NULL)
		abort(); /* only allocation fails here */
	etcd_easy_common(c, w->w_curl, c->c_eps[w->w_ep], "/v3/watch",
	    w->w_body, w->w_errbuf, w);
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
		etcd_failover(c, w->w_ep);
	etcd_watch_stop_stream(w);
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
void
etcd_watch_dispatch(struct etcd_watch *w)
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
			etcd_watch_stop_stream(w);
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

void
etcd_watch_done(struct etcd_watch *w, CURLcode cc)
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
		etcd_watch_dispatch(w);
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
	if (etcd_check_key(key, flags) < 0)
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

void
etcd_watch_destroy(struct etcd_watch *w)
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
	etcd_watch_stop_stream(w);
	xdc_ev_timer_free(w->w_timer);
	w->w_timer = NULL;
	w->w_dead = 1;
	/* Inside process() the list is being walked: reap it afterwards. */
	if (w->w_etcd->c_dispatching == 0)
		etcd_watch_destroy(w);
}
