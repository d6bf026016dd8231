/*
 * The etcd client's calls (see etcd.h): range, put, delete, txn and the
 * lease's grant, keep-alive and revoke, and a range read as it comes. Each
 * checks its arguments, has its body encoded by etcd_json.c and hands it to the
 * transport (etcd.c, etcd_req_start) as one call with its callback.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "base/error.h"
#include "pool/etcd.h"
#include "pool/etcd_json.h"
#include "pool/etcd_priv.h"

int
etcd_check_key(const char *key, unsigned flags)
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
	if (etcd_check_key(
	        op->op_key, op->op_kind == ETCD_PUT ? 0 : op->op_flags) < 0)
		return NULL;
	return etcd_req_start(
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
etcd_range_each(struct etcd *c, const struct etcd_op *op, etcd_kv_cb *each,
    etcd_cb *cb, void *arg)
{
	struct etcd_req *r;

	if (op->op_kind != ETCD_RANGE || each == NULL) {
		xdc_error(XDC_ERR, "etcd: only a range is read as it comes");
		return NULL;
	}
	if (etcd_check_key(op->op_key, op->op_flags) < 0)
		return NULL;
	r = etcd_req_start(
	    c, ETCD_RANGE, op->op_key, etcd_encode_op(op), cb, arg);
	/* Nothing comes before the loop runs again. */
	r->r_each = each;
	r->r_op = *op;
	r->r_op.op_key = xdc_strdup(op->op_key);
	return r;
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
		if (etcd_check_key(cmp[i].cmp_key, 0) < 0 ||
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
		    etcd_check_key(op->op_key,
		        op->op_kind == ETCD_PUT ? 0 : op->op_flags) < 0) {
			xdc_error(
			    XDC_ERR, "etcd: txn op %zu is invalid", i + 1);
			return NULL;
		}
	}
	return etcd_req_start(c, ETCD_TXN, ncmp > 0 ? cmp[0].cmp_key : NULL,
	    etcd_encode_txn(cmp, ncmp, success, nsuccess, failure, nfailure),
	    cb, arg);
}

static struct etcd_req *
lease_call(struct etcd *c, enum etcd_kind kind, int64_t lease, int64_t ttl,
    etcd_cb *cb, void *arg)
{
	char what[32];

	snprintf(what, sizeof(what), "%" PRId64, lease);
	return etcd_req_start(c, kind, kind == ETCD_LEASE_GRANT ? NULL : what,
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
