/*
 * Checking a git source's signatures (see source.h, verify.h): the verdict
 * on the commit or annotated tag REF names, kept per object so that a
 * commit is checked once, and what it found -- the reason of a refusal,
 * the signer, the key seen -- for the status. The loop's checks run in a
 * thread (source_fetch.c); elsewhere a load checks in line.
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "reconciler/source.h"
#include "reconciler/source_priv.h"
#include "reconciler/verify.h"
#include "base/error.h"

/* ---- Checking signatures -------------------------------------------- */

/* The name of the tag REF names, for messages: REF without refs/tags/. */
const char *
source_tag_name(const struct source *src)
{
	return strncmp(src->src_ref, "refs/tags/", 10) == 0 ? src->src_ref + 10
	                                                    : src->src_ref;
}

/*
 * The verdict on named, what REF resolved to: the last check's when it
 * was of that object, else a check now -- but never in the loop, whose
 * checks run in a thread (source_check_start): there XDC_ERETRY until
 * the check of that object has ended.
 */
int
source_verdict_of(struct source *src, const git_object *named)
{
	struct verdict *vd = src->src_vd;
	const git_oid *id = git_object_id(named);

	if (vd == NULL || !git_oid_equal(&vd->vd_oid, id)) {
		if (src->src_async)
			return xdc_error(XDC_ERETRY, "%s: %s is being checked",
			    src->src_name, git_oid_tostr_s(id));
		vd = xdc_calloc(1, sizeof(*vd));
		git_oid_cpy(&vd->vd_oid, id);
		vd->vd_rc = verify_object(src->src_verify, src->src_repo, named,
		    source_tag_name(src), &vd->vd_res);
		if (vd->vd_rc != 0)
			vd->vd_msg = xdc_strdup(xdc_error_last());
		source_verdict_free(src->src_vd);
		src->src_vd = vd;
	}
	src->src_reason = vd->vd_res.vr_reason;
	if (vd->vd_res.vr_signer != NULL)
		src->src_signer = xdc_strdup(vd->vd_res.vr_signer);
	if (vd->vd_res.vr_key != NULL)
		src->src_key = xdc_strdup(vd->vd_res.vr_key);
	if (vd->vd_rc != 0)
		return xdc_error(vd->vd_rc, "%s", vd->vd_msg);
	return 0;
}

void
source_set_async(struct source *src)
{
	src->src_async = 1;
}

int
source_verify_commit(
    struct source *src, const char *hex, struct verify_result *res)
{
	git_reference *branch = NULL;
	const char *ref;
	char *name = NULL;
	int rc, is_branch;

	memset(res, 0, sizeof(*res));
	if (!source_is_git(src) || src->src_verify == NULL)
		return 0;
	if ((rc = source_cache_open(src)) != 0)
		return rc;
	/*
	 * REF as source_resolve_ref reads it: a branch first, else maybe a
	 * tag.
	 */
	ref = src->src_ref;
	if (ref != NULL && !strncmp(ref, "refs/heads/", 11))
		ref += 11;
	if (ref != NULL)
		xdc_asprintf(&name, SOURCE_REMOTE_BRANCHES "%s", ref);
	is_branch = name != NULL &&
	            git_reference_lookup(&branch, src->src_repo, name) == 0;
	rc = verify_commit(src->src_verify, src->src_repo, hex,
	    is_branch || ref == NULL ? NULL : source_tag_name(src), res);
	git_reference_free(branch);
	free(name);
	return rc;
}

const char *
source_refusal_key(const struct source *src)
{
	return src->src_key;
}

const char *
source_refusal(const struct source *src)
{
	return src->src_reason != VERIFY_GOOD
	           ? verify_reason_name(src->src_reason)
	           : NULL;
}

const char *
source_signer(const struct source *src)
{
	return src->src_signer;
}
