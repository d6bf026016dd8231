/*
 * An SSH signature checked with ssh-keygen -Y as git runs it
 * (gpg-interface.c): find-principals in the --trust-ssh allowed_signers
 * file, then verify as each principal with namespace git, or
 * check-novalidate to name a key that is in none; the tool's words become
 * the reason (unknown, expired, revoked key; bad signature). A key's
 * valid-before is judged at the time of the check.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reconciler/verify.h"
#include "reconciler/verify_priv.h"
#include "base/error.h"

/* ---- SSH -------------------------------------------------------------- */

/* The key ssh-keygen names at the end of a "Good ..." line. */
static char *
ssh_good_key(const char *out)
{
	const char *k = NULL, *s;
	size_t n;

	for (s = out; (s = strstr(s, " key ")) != NULL; s++)
		k = s + 5;
	if (k == NULL)
		return NULL;
	n = strcspn(k, "\r\n");
	return n > 0 ? strndup(k, n) : NULL;
}

/* The fingerprint of the key inside sig, as ssh-keygen -l prints it. */
static char *
ssh_sig_fingerprint(
    struct verify *v, const char *dir, const char *sig, size_t siglen)
{
	char *argv[] = { "ssh-keygen", "-l", "-f", NULL, NULL };
	char *line = NULL, *path = NULL, *fp = NULL, *sp;
	struct tool t;

	memset(&t, 0, sizeof(t));
	if (verify_ssh_sig_key(sig, siglen, &line) != 0)
		goto out;
	if (verify_put_file(dir, "signer.pub", line, strlen(line), &path) != 0)
		goto out;
	argv[3] = path;
	if (verify_tool_run(argv, NULL, &v->vf_cancel, &t) != 0 ||
	    t.tl_status != 0)
		goto out;
	/* "256 SHA256:... comment (ED25519)" */
	if ((sp = strchr(t.tl_out, ' ')) != NULL)
		fp = strndup(sp + 1, strcspn(sp + 1, " \n"));
out:
	verify_tool_free(&t);
	free(line);
	free(path);
	return fp;
}

/* What find-principals' stderr says of a key it found, if anything. */
static enum verify_reason
ssh_find_reason(const char *err)
{
	if (strstr(err, "key has expired") != NULL ||
	    strstr(err, "key is not yet valid") != NULL)
		return VERIFY_EXPIRED_KEY;
	if (strstr(err, "Couldn't parse signature") != NULL ||
	    strstr(err, "invalid format") != NULL)
		return VERIFY_BAD_SIGNATURE;
	return VERIFY_UNKNOWN_KEY;
}

/* ssh-keygen's stderr without its "No principal matched." */
static char *
ssh_complaints(const char *err)
{
	char *s = xdc_strdup(err), *p;
	size_t n;

	if ((p = strstr(s, "No principal matched.")) != NULL)
		memmove(p, p + 21, strlen(p + 21) + 1);
	n = strlen(s);
	while (
	    n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
	for (p = s; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ';';
	if (n == 0) {
		free(s);
		return NULL;
	}
	return s;
}

int
verify_ssh_check(struct verify *v, const char *dir, const struct signed_obj *so,
    struct finding *f, char **signer)
{
	char *sigpath = NULL, *payload = NULL, *line, *next;
	char *find[] = { "ssh-keygen", "-Y", "find-principals", "-f", v->vf_ssh,
		"-s", NULL, NULL };
	char *check[] = { "ssh-keygen", "-Y", "check-novalidate", "-n", "git",
		"-s", NULL, NULL };
	char *ver[] = { "ssh-keygen", "-Y", "verify", "-n", "git", "-f",
		v->vf_ssh, "-I", NULL, "-s", NULL, NULL };
	struct tool fp, t;
	int rc;

	memset(&fp, 0, sizeof(fp));
	memset(&t, 0, sizeof(t));
	f->fd_kind = "SSH";
	f->fd_file = v->vf_ssh;
	f->fd_flag = "--trust-ssh";
	if ((rc = verify_put_file(
	         dir, "signature", so->so_sig, so->so_siglen, &sigpath)) ||
	    (rc = verify_put_file(
	         dir, "payload", so->so_data, so->so_datalen, &payload)))
		goto out;
	find[6] = check[6] = ver[10] = sigpath;

	if (v->vf_ssh != NULL) {
		if (access(v->vf_ssh, R_OK) != 0) {
			rc = xdc_error_sys(XDC_ERR, "%s", v->vf_ssh);
			goto out;
		}
		if ((rc = verify_tool_run(find, NULL, &v->vf_cancel, &fp)))
			goto out;
		f->fd_reason = ssh_find_reason(fp.tl_err);
	} else {
		f->fd_reason = VERIFY_UNKNOWN_KEY;
	}

	/* Each principal the key is listed for, until one verifies. */
	for (line = fp.tl_out; v->vf_ssh != NULL && fp.tl_status == 0 &&
	                       line != NULL && *line != '\0';
	     line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (*line != '\0' && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		if (*line == '\0')
			continue;
		ver[8] = line;
		verify_tool_free(&t);
		if ((rc = verify_tool_run(ver, payload, &v->vf_cancel, &t)))
			goto out;
		if (t.tl_status == 0 && strncmp(t.tl_out, "Good", 4) == 0) {
			if (signer != NULL) {
				char *key = ssh_good_key(t.tl_out);

				xdc_asprintf(signer, "SSH key %s (%s)",
				    key != NULL ? key : "?", line);
				free(key);
			}
			rc = 0;
			goto out;
		}
		f->fd_reason = VERIFY_BAD_SIGNATURE;
		free(f->fd_detail);
		f->fd_detail = xdc_strdup(verify_first_line(t.tl_err));
	}

	if (f->fd_reason == VERIFY_UNKNOWN_KEY) {
		/* As git: check it anyway, to name the key, or call it bad. */
		verify_tool_free(&t);
		if ((rc = verify_tool_run(check, payload, &v->vf_cancel, &t)))
			goto out;
		if (t.tl_status == 0 && strncmp(t.tl_out, "Good", 4) == 0) {
			f->fd_key = ssh_good_key(t.tl_out);
			if (fp.tl_err != NULL)
				f->fd_detail = ssh_complaints(fp.tl_err);
		} else {
			f->fd_reason = VERIFY_BAD_SIGNATURE;
			f->fd_detail = xdc_strdup(verify_first_line(t.tl_err));
		}
	} else if (f->fd_detail == NULL) {
		/* Expired, or a signature ssh-keygen cannot parse. */
		f->fd_detail = ssh_complaints(fp.tl_err);
	}
	if (f->fd_key == NULL)
		f->fd_key =
		    ssh_sig_fingerprint(v, dir, so->so_sig, so->so_siglen);
	rc = XDC_EUNVERIFIED;
out:
	verify_tool_free(&fp);
	verify_tool_free(&t);
	free(sigpath);
	free(payload);
	return rc;
}
