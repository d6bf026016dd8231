/*
 * A range read as it comes (etcd_range_each, see etcd.h): its answer fed
 * to the event reader (etcd_range_reader) by process(), after
 * curl_multi_socket_action has returned, a piece at a time, and each kv
 * handed on as it is read. The answer is held only while its first
 * HEAD_KEEP bytes come, so that an error, or an answer the reader gives
 * up on early, is there whole for jansson as any call's is; after that,
 * no longer than it takes to feed it. If the reader gives up later, the
 * range is asked again at the revision its answer was of (every key as
 * it was then), and that answer is held whole and read as any call's;
 * the kvs handed until then are forgotten (each(NULL)).
 */
#include <stdint.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "pool/etcd.h"
#include "pool/etcd_json.h"
#include "pool/etcd_priv.h"

#define HEAD_KEEP (64 * 1024) /* bytes of an answer held first */

/* The kvs handed so far are void: the answer is read again. */
static void
each_forget(struct etcd_req *r)
{
	if (r->r_handed == 0)
		return;
	r->r_handed = 0;
	r->r_each(NULL, r->r_arg);
}

static void
each_kv(const struct etcd_kv *kv, void *arg)
{
	struct etcd_req *r = arg;

	r->r_handed++;
	r->r_each(kv, r->r_arg);
}

/* What curl brought since the last time, to the reader. */
void
etcd_range_feed(struct etcd_req *r)
{
	long status = 0;
	int rc;

	if (r->r_each == NULL || r->r_whole || r->r_resp_len == r->r_fed)
		return;
	if (r->r_rd == NULL && !r->r_lost) {
		curl_easy_getinfo(r->r_curl, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200) {
			r->r_whole = 1; /* an error, for jansson */
			return;
		}
		each_forget(r);
		r->r_rd = etcd_range_reader_new(each_kv, r);
	}
	if (!r->r_lost) {
		r->r_in_cb = 1;
		rc = etcd_range_reader_feed(
		    r->r_rd, r->r_resp + r->r_fed, r->r_resp_len - r->r_fed);
		r->r_in_cb = 0;
		r->r_fed = r->r_resp_len;
		if (rc < 0) {
			each_forget(r);
			if (r->r_dropped == 0) {
				/* All of it is here: jansson reads it whole. */
				r->r_whole = 1;
				return;
			}
			r->r_lost = 1; /* the rest is dropped unread */
		}
	}
	if (r->r_dropped > 0 || r->r_lost || r->r_resp_len >= HEAD_KEEP) {
		r->r_dropped += r->r_resp_len;
		r->r_resp_len = r->r_fed = 0;
	}
}

/*
 * The end of an answer read as it comes: 1 when r is complete or asked
 * again, 0 when the answer is held whole, for etcd_decode to read.
 */
int
etcd_range_feed_end(struct etcd_req *r, const char *ep, struct etcd_result *res)
{
	struct etcd *c = r->r_etcd;

	etcd_range_feed(r);
	if (r->r_whole || r->r_rd == NULL)
		return 0;
	if (!r->r_lost && etcd_range_reader_end(r->r_rd, res) == 0) {
		res->res_endpoint = ep;
		c->c_cur = r->r_ep; /* it answered: remember it */
		etcd_req_complete(r, res);
		return 1;
	}
	each_forget(r);
	if (r->r_dropped == 0)
		return 0; /* given up at its very end, with it all here */
	/*
	 * Given up on bytes no longer held: ask again for the answer as of
	 * the same revision (every key as it was), to be held whole.
	 */
	r->r_again = 1;
	r->r_again_rev = etcd_range_reader_revision(r->r_rd);
	r->r_op.op_revision = r->r_again_rev > 0 ? r->r_again_rev : 0;
	free(r->r_body);
	r->r_body = etcd_encode_op(&r->r_op);
	etcd_req_attempt(r);
	return 1;
}

/* An answer read whole: its kvs to each, as of the revision asked. */
void
etcd_range_whole(struct etcd_req *r, struct etcd_result *res)
{
	size_t i;

	if (r->r_each == NULL || res->res_rc != 0)
		return;
	each_forget(r);
	r->r_in_cb = 1;
	for (i = 0; i < res->res_nkvs; i++)
		each_kv(&res->res_kvs[i], r);
	r->r_in_cb = 0;
	res->res_kvs = NULL;
	res->res_nkvs = 0;
	if (r->r_again && r->r_again_rev > 0)
		res->res_revision = r->r_again_rev;
}
