/*
 * A cycle's configuration (see cycle.h): loaded when it changed (a path
 * read again, or the commit the last fetch brought), and refused, with
 * its diagnostics, when it does not parse, validate or verify. A refusal
 * is said once, not at each resync; the configuration in force stays.
 */
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "base/error.h"
#include "reconciler/cycle.h"
#include "reconciler/cycle_priv.h"
#include "reconciler/log.h"
#include "reconciler/status.h"

#define CYCLE_LOG_DIAGS 20 /* diagnostics logged of a refused config */

/* ---- The source ------------------------------------------------------- */

/* The newest configuration is refused; diags (owned now) or msg say why. */
void
cycle_refuse(struct cycle *c, const char *commit, struct xdc_diags *diags,
    const char *msg)
{
	struct agent *ag = c->c_ag;
	const struct xdc_diag *d;
	struct logline ll;
	size_t i, n = diags != NULL ? xdc_diags_count(diags) : 0;
	int quiet;

	/* The same refusal at each resync is logged once. */
	quiet = ag->ag_invalid && !strcmp(c->c_trigger, "timer") &&
	        !strcmp(commit, ag->ag_bad_commit);
	cycle_clear_invalid(ag);
	ag->ag_invalid = 1;
	snprintf(ag->ag_bad_commit, sizeof(ag->ag_bad_commit), "%s", commit);
	ag->ag_bad_diags = diags;
	ag->ag_bad_msg = msg != NULL ? xdc_strdup(msg) : NULL;
	if (quiet)
		return;
	log_begin(&ll, LOG_ERROR, "configuration refused");
	log_str(&ll, "source", source_name(ag->ag_src));
	if (*commit)
		log_str(&ll, "commit", commit);
	if (msg != NULL)
		log_str(&ll, "error", msg);
	else
		log_int(&ll, "errors", (long long)n);
	log_str(&ll, "keeping",
	    ag->ag_cfg == NULL ? "nothing"
	    : *ag->ag_commit   ? ag->ag_commit
	                       : "the last good configuration");
	log_end(&ll);
	for (i = 0; i < n && i < CYCLE_LOG_DIAGS; i++) {
		d = xdc_diags_get(diags, i);
		log_begin(&ll, LOG_ERROR, "configuration error");
		log_str(&ll, "file", d->dg_file);
		log_int(&ll, "line", d->dg_line);
		log_int(&ll, "col", d->dg_col);
		log_str(&ll, "error", d->dg_msg);
		log_end(&ll);
	}
}

/*
 * The newest commit is not signed by a trusted key (SPEC §10): refused
 * as a bad commit is, with the reason and the key seen. Logged and
 * counted once per commit: the loop checks a commit once, and a SIGHUP
 * that checks it again finds what it found.
 */
static void
refuse_unverified(struct cycle *c, const char *commit, const char *msg)
{
	struct agent *ag = c->c_ag;
	const char *reason = source_refusal(ag->ag_src);
	const char *key = source_refusal_key(ag->ag_src);
	struct logline ll;

	cycle_clear_invalid(ag);
	ag->ag_invalid = 1;
	snprintf(ag->ag_bad_commit, sizeof(ag->ag_bad_commit), "%s", commit);
	ag->ag_bad_msg = xdc_strdup(msg);
	ag->ag_unverified = reason != NULL ? reason : "unchecked";
	ag->ag_bad_key = key != NULL ? xdc_strdup(key) : NULL;
	if (!strcmp(commit, ag->ag_last_unverified))
		return;
	snprintf(ag->ag_last_unverified, sizeof(ag->ag_last_unverified), "%s",
	    commit);
	if (reason != NULL)
		status_count_unverified(ag->ag_st, reason);
	log_begin(&ll, LOG_ERROR, "commit not verified");
	log_str(&ll, "source", source_name(ag->ag_src));
	log_str(&ll, "commit", commit);
	log_str(&ll, "reason", ag->ag_unverified);
	log_str(&ll, "key", key);
	log_str(&ll, "error", msg);
	log_str(&ll, "keeping",
	    ag->ag_cfg == NULL ? "nothing"
	    : *ag->ag_commit   ? ag->ag_commit
	                       : "the last good configuration");
	log_end(&ll);
}

/*
 * Load the configuration when it changed: *cand gets one that parsed and
 * validated, not yet planned. With git, what the last fetch brought is
 * in the cache: the loop fetches, in its thread, never the cycle.
 */
void
cycle_load(
    struct cycle *c, struct xdc_config **cand, char commit[SOURCE_COMMIT_HEXSZ])
{
	struct agent *ag = c->c_ag;
	struct xdc_diags *diags = NULL;
	struct logline ll;
	char hex[SOURCE_COMMIT_HEXSZ];
	size_t parsed, reused;
	int rc;

	*cand = NULL;
	commit[0] = '\0';
	if (source_is_git(ag->ag_src)) {
		if ((rc = source_resolve(ag->ag_src, hex)) != 0) {
			/* Nothing to load: unreachable says it already. */
			if (ag->ag_unreachable == NULL)
				cycle_refuse(c, "", NULL, xdc_error_last());
			return;
		}
		if (ag->ag_cfg != NULL && !strcmp(hex, ag->ag_commit) &&
		    !ag->ag_force) {
			/* Back to the commit in force: nothing is refused --
			 * unless a SIGHUP's check refused that very commit
			 * (a key removed), which stays said. */
			if (ag->ag_unverified == NULL ||
			    strcmp(hex, ag->ag_bad_commit))
				cycle_clear_invalid(ag);
			return;
		}
		if (ag->ag_invalid && !strcmp(hex, ag->ag_bad_commit) &&
		    !ag->ag_force)
			return;
		/* A SIGHUP's check again has not ended: its verdict will. */
		if (ag->ag_force &&
		    (ag->ag_check_force || source_checking(ag->ag_src)))
			return;
	} else {
		if (!ag->ag_reload && ag->ag_cfg != NULL)
			return;
		ag->ag_reload = 0;
	}
	diags = xdc_diags_new();
	rc = source_load(ag->ag_src, cand, diags, commit);
	if (rc == XDC_ERETRY) {
		/* Its check runs in a thread: the loop starts the next
		 * cycle when it ends (a SIGHUP's force waits for it). */
		ag->ag_unchecked = 1;
		log_err(LOG_DEBUG, "commit not checked yet", xdc_error_last());
		xdc_diags_free(diags);
		return;
	}
	ag->ag_force = 0;
	if (rc == XDC_EINVALID) {
		cycle_refuse(c, commit, diags, NULL);
		diags = NULL;
	} else if (rc == XDC_EUNVERIFIED) {
		refuse_unverified(c, commit, xdc_error_last());
	} else if (rc != 0) {
		cycle_refuse(c, commit, NULL, xdc_error_last());
	} else if (strcmp(c->c_trigger, "timer") != 0 || *commit) {
		log_begin(&ll, LOG_INFO, "configuration loaded");
		log_str(&ll, "source", source_name(ag->ag_src));
		if (*commit)
			log_str(&ll, "commit", commit);
		/* With --trust-*: whose key the commit was taken on. */
		log_str(&ll, "signed_by", source_signer(ag->ag_src));
		if (source_parse_counts(ag->ag_src, &parsed, &reused)) {
			log_int(&ll, "files_parsed", (long long)parsed);
			log_int(&ll, "files_reused", (long long)reused);
		}
		log_end(&ll);
	}
	xdc_diags_free(diags);
}
