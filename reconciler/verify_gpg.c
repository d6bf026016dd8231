/*
 * An OpenPGP signature checked with gpgme (see verify.h), in a GnuPG home
 * made in the check's private directory that says no-autostart, so gpg
 * never starts a gpg-agent or dirmngr that could outlive the check, into
 * which the keys of the --trust-gpg file are imported. An expired or
 * revoked key is judged at the time of the check, not at the commit's
 * date, which is whatever the signer wrote.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gpgme.h>

#include "reconciler/verify.h"
#include "reconciler/verify_priv.h"
#include "base/error.h"
#include "base/file.h"

/* ---- OpenPGP ---------------------------------------------------------- */

int verify_gpgme_ready;

int
verify_gpg_init(void)
{
	gpgme_error_t e;

	if (!verify_gpgme_ready) {
		gpgme_check_version(NULL);
		verify_gpgme_ready = 1;
	}
	if ((e = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP)) != 0)
		return xdc_error(XDC_ERR,
		    "--trust-gpg needs gpg (GnuPG), which gpgme cannot run: "
		    "%s",
		    gpgme_strerror(e));
	return 0;
}

/*
 * A GnuPG home that starts nothing: no-autostart keeps gpg from starting
 * an agent or dirmngr, which verifying does not need; no key is fetched;
 * every imported key is trusted, as the admin listed it.
 */
static int
gpg_home(const char *dir, char **home)
{
	static const char conf[] = "no-autostart\n"
	                           "no-auto-key-retrieve\n"
	                           "trust-model always\n";

	xdc_asprintf(home, "%s/gnupg", dir);
	if (mkdir(*home, 0700) < 0)
		return xdc_error_sys(XDC_ERR, "cannot create %s", *home);
	return verify_put_file(*home, "gpg.conf", conf, sizeof(conf) - 1, NULL);
}

/*
 * Kill whatever agent the home has a socket of (none, unless gpg was
 * told otherwise): gpgconf's --kill takes a tenth of a second, so only
 * when there is something to kill.
 */
static void
gpg_kill_agents(char *home)
{
	char *argv[] = { "gpgconf", "--homedir", home, "--kill", "all", NULL };
	char *sock = NULL;
	struct tool t;

	xdc_asprintf(&sock, "%s/S.gpg-agent", home);
	if (access(sock, F_OK) == 0 &&
	    verify_tool_run(argv, NULL, NULL, &t) == 0)
		verify_tool_free(&t);
	free(sock);
}

static char *
gpg_key_name(const char *fpr)
{
	size_t n = strlen(fpr);
	char *s = NULL;

	if (n == 40 || n == 64)
		xdc_asprintf(&s, "fingerprint %s", fpr);
	else
		xdc_asprintf(&s, "id %s", fpr);
	return s;
}

int
verify_gpg_check(struct verify *v, const char *dir, const struct signed_obj *so,
    struct finding *f, char **signer)
{
	gpgme_data_t keys = NULL, sigd = NULL, datad = NULL;
	gpgme_import_result_t imp;
	gpgme_verify_result_t res;
	gpgme_signature_t s;
	gpgme_key_t key = NULL;
	gpgme_ctx_t ctx = NULL;
	gpgme_error_t e;
	char *home = NULL, *text = NULL;
	size_t len;
	int rc, n;

	f->fd_kind = "OpenPGP";
	f->fd_file = v->vf_gpg;
	f->fd_flag = "--trust-gpg";
	if ((rc = verify_gpg_init()) || (rc = gpg_home(dir, &home)))
		goto out;
	if ((e = gpgme_new(&ctx)) != 0 ||
	    (e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) != 0 ||
	    (e = gpgme_ctx_set_engine_info(
	         ctx, GPGME_PROTOCOL_OpenPGP, NULL, home)) != 0) {
		rc = xdc_error(XDC_ERR, "gpgme: %s", gpgme_strerror(e));
		goto out;
	}
	if (v->vf_gpg != NULL) {
		if ((rc = xdc_file_read(
		         v->vf_gpg, VERIFY_KEYS_MAX, 0, &text, &len)) != 0)
			goto out;
		if (text == NULL) {
			rc = xdc_error(XDC_ERR, "%s: over %d bytes", v->vf_gpg,
			    VERIFY_KEYS_MAX);
			goto out;
		}
		if ((e = gpgme_data_new_from_mem(&keys, text, len, 0)) != 0 ||
		    (e = gpgme_op_import(ctx, keys)) != 0) {
			rc = xdc_error(XDC_ERR, "%s: cannot import: %s",
			    v->vf_gpg, gpgme_strerror(e));
			goto out;
		}
		imp = gpgme_op_import_result(ctx);
		if (imp == NULL || imp->imported + imp->unchanged == 0) {
			rc = xdc_error(XDC_ERR,
			    "%s: no OpenPGP public key in it", v->vf_gpg);
			goto out;
		}
	}
	if ((e = gpgme_data_new_from_mem(
	         &sigd, so->so_sig, so->so_siglen, 0)) != 0 ||
	    (e = gpgme_data_new_from_mem(
	         &datad, so->so_data, so->so_datalen, 0)) != 0) {
		rc = xdc_error(XDC_ERR, "gpgme: %s", gpgme_strerror(e));
		goto out;
	}
	e = gpgme_op_verify(ctx, sigd, datad, NULL);
	res = gpgme_op_verify_result(ctx);
	for (n = 0, s = res != NULL ? res->signatures : NULL; s != NULL;
	     s = s->next)
		n++;
	if (n != 1) {
		if (e != 0 && gpg_err_code(e) != GPG_ERR_NO_DATA &&
		    gpg_err_code(e) != GPG_ERR_BAD_DATA) {
			rc = xdc_error(XDC_ERR, "gpg cannot verify: %s",
			    gpgme_strerror(e));
			goto out;
		}
		/* As git: more than one is fishy, none is garbage. */
		f->fd_reason = VERIFY_BAD_SIGNATURE;
		f->fd_detail =
		    xdc_strdup(n == 0 ? "it holds no detached signature"
		                      : "more than one signature");
		rc = XDC_EUNVERIFIED;
		goto out;
	}
	s = res->signatures;
	/* A bad signature names a key id: the key's fingerprint, if known. */
	if (s->fpr != NULL && strlen(s->fpr) == 16 &&
	    gpgme_get_key(ctx, s->fpr, &key, 0) == 0 && key->fpr != NULL)
		f->fd_key = gpg_key_name(key->fpr);
	else if (s->fpr != NULL)
		f->fd_key = gpg_key_name(s->fpr);
	switch (gpg_err_code(s->status)) {
	case GPG_ERR_NO_ERROR:
		if (s->wrong_key_usage) {
			f->fd_reason = VERIFY_BAD_SIGNATURE;
			f->fd_detail = xdc_strdup("the key is not for signing");
			break;
		}
		if (signer != NULL)
			xdc_asprintf(signer, "OpenPGP key %s", f->fd_key);
		rc = 0;
		goto out;
	case GPG_ERR_NO_PUBKEY:
		f->fd_reason = VERIFY_UNKNOWN_KEY;
		break;
	case GPG_ERR_KEY_EXPIRED:
		f->fd_reason = VERIFY_EXPIRED_KEY;
		break;
	case GPG_ERR_SIG_EXPIRED:
		f->fd_reason = VERIFY_EXPIRED_KEY;
		f->fd_detail = xdc_strdup("the signature itself has expired");
		break;
	case GPG_ERR_CERT_REVOKED:
		f->fd_reason = VERIFY_REVOKED_KEY;
		break;
	case GPG_ERR_BAD_SIGNATURE:
		f->fd_reason = VERIFY_BAD_SIGNATURE;
		break;
	default:
		f->fd_reason = VERIFY_BAD_SIGNATURE;
		f->fd_detail = xdc_strdup(gpgme_strerror(s->status));
		break;
	}
	rc = XDC_EUNVERIFIED;
out:
	gpgme_data_release(keys);
	gpgme_data_release(sigd);
	gpgme_data_release(datad);
	gpgme_key_unref(key);
	if (ctx != NULL)
		gpgme_release(ctx);
	if (home != NULL)
		gpg_kill_agents(home);
	free(text);
	free(home);
	return rc;
}
