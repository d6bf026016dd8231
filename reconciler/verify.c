/*
 * Signed commits and tags (see verify.h): the module, what is parsed
 * out of a signature, and the check of one object, which copies out the
 * signature and its payload and hands them to the check of their kind
 * (verify_gpg.c, verify_ssh.c); the tools they run and the message a
 * refusal becomes are verify_tool.c's. Each check works in a private
 * directory of its own, $TMPDIR/xdc-verify-XXXXXX, removed when it ends:
 * the signature and the payload as files for ssh-keygen, and the GnuPG
 * home gpgme imports the trusted keys into. That home says no-autostart,
 * so gpg never starts a gpg-agent or dirmngr that could outlive the
 * check (verifying needs neither). ssh-keygen runs as git runs it
 * (gpg-interface.c): find-principals, then verify as each principal with
 * namespace git, or check-novalidate to name an unknown key; spawned
 * without a shell, its stdin the payload file, its time bounded.
 *
 * Unlike git, validity (an SSH key's valid-before, an OpenPGP key's
 * expiry) is judged at the time of the check, not at the commit's date:
 * that date is whatever the signer wrote, so it cannot prove an old key
 * signed before it expired.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>
#include <gpgme.h>

#include "reconciler/verify.h"
#include "reconciler/verify_priv.h"
#include "base/error.h"

static void
signed_set(struct signed_obj *so, const char *sig, size_t siglen,
    const char *data, size_t datalen)
{
	so->so_sig = xdc_malloc(siglen + 1);
	memcpy(so->so_sig, sig, siglen);
	so->so_sig[siglen] = '\0';
	so->so_siglen = siglen;
	so->so_data = xdc_malloc(datalen + 1);
	memcpy(so->so_data, data, datalen);
	so->so_data[datalen] = '\0';
	so->so_datalen = datalen;
}

static const char *const reason_names[VERIFY__COUNT] = {
	[VERIFY_GOOD] = "good",
	[VERIFY_UNSIGNED] = "unsigned",
	[VERIFY_UNKNOWN_KEY] = "unknown_key",
	[VERIFY_BAD_SIGNATURE] = "bad_signature",
	[VERIFY_EXPIRED_KEY] = "expired_key",
	[VERIFY_REVOKED_KEY] = "revoked_key",
};

const char *
verify_reason_name(enum verify_reason r)
{
	return r < VERIFY__COUNT ? reason_names[r] : "?";
}

/* ---- Parsing ---------------------------------------------------------- */

static const struct {
	const char *armor;
	enum verify_kind kind;
} armors[] = {
	{ "-----BEGIN PGP SIGNATURE-----", VERIFY_KIND_OPENPGP },
	{ "-----BEGIN PGP MESSAGE-----", VERIFY_KIND_OPENPGP },
	{ "-----BEGIN SSH SIGNATURE-----", VERIFY_KIND_SSH },
	{ "-----BEGIN SIGNED MESSAGE-----", VERIFY_KIND_X509 },
};

enum verify_kind
verify_kind_of(const char *s, size_t len)
{
	size_t i, n;

	for (i = 0; i < sizeof(armors) / sizeof(armors[0]); i++) {
		n = strlen(armors[i].armor);
		if (len >= n && memcmp(s, armors[i].armor, n) == 0)
			return armors[i].kind;
	}
	return VERIFY_KIND_NONE;
}

size_t
verify_tag_split(const char *buf, size_t len)
{
	size_t at = 0, match = len;
	const char *eol;

	while (at < len) {
		if (verify_kind_of(buf + at, len - at) != VERIFY_KIND_NONE)
			match = at;
		eol = memchr(buf + at, '\n', len - at);
		at = eol != NULL ? (size_t)(eol - buf) + 1 : len;
	}
	return match;
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 between the armor lines into out (at least len * 3 / 4 bytes). */
static int
b64_decode(const char *s, size_t len, unsigned char *out, size_t *outlen)
{
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0;
	const char *p;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n' || s[i] == '\r' || s[i] == ' ' || s[i] == '\t')
			continue;
		if (s[i] == '=')
			break;
		if ((p = memchr(b64, s[i], 64)) == NULL)
			return -1;
		acc = (acc << 6) | (uint32_t)(p - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	*outlen = n;
	return 0;
}

static char *
b64_encode(const unsigned char *in, size_t len)
{
	char *out = xdc_malloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i;
	uint32_t v;

	for (i = 0; i < len; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* An SSH wire string at *at of buf: its bytes and length. */
static int
ssh_string(const unsigned char *buf, size_t len, size_t *at,
    const unsigned char **s, size_t *n)
{
	uint32_t l;

	if (len - *at < 4)
		return -1;
	l = (uint32_t)buf[*at] << 24 | (uint32_t)buf[*at + 1] << 16 |
	    (uint32_t)buf[*at + 2] << 8 | buf[*at + 3];
	*at += 4;
	if (len - *at < l)
		return -1;
	*s = buf + *at;
	*n = l;
	*at += l;
	return 0;
}

/*
 * The blob (ssh-keygen's PROTOCOL.sshsig): "SSHSIG", a uint32 version,
 * then the public key as a string whose first string is its type.
 */
int
verify_ssh_sig_key(const char *sig, size_t len, char **line)
{
	static const char begin[] = "-----BEGIN SSH SIGNATURE-----";
	const unsigned char *key, *type;
	unsigned char *blob = NULL;
	size_t n, at, keylen, typelen, i, klen;
	const char *end;
	char *enc = NULL;
	int rc = XDC_ERR;

	*line = NULL;
	if (verify_kind_of(sig, len) != VERIFY_KIND_SSH)
		goto bad;
	sig += sizeof(begin) - 1;
	len -= sizeof(begin) - 1;
	end = memmem(sig, len, "-----END SSH SIGNATURE-----", 27);
	if (end == NULL)
		goto bad;
	blob = xdc_malloc((size_t)(end - sig) * 3 / 4 + 3);
	if (b64_decode(sig, (size_t)(end - sig), blob, &n) < 0 || n < 10 ||
	    memcmp(blob, "SSHSIG", 6) != 0)
		goto bad;
	at = 10; /* the magic and the version */
	if (ssh_string(blob, n, &at, &key, &keylen) < 0)
		goto bad;
	at = 0;
	if (ssh_string(key, keylen, &at, &type, &typelen) < 0 || typelen == 0 ||
	    typelen > 64)
		goto bad;
	for (i = 0; i < typelen; i++)
		if (type[i] <= ' ' || type[i] > '~')
			goto bad;
	enc = b64_encode(key, keylen);
	klen = typelen;
	xdc_asprintf(line, "%.*s %s", (int)klen, (const char *)type, enc);
	rc = 0;
	goto out;
bad:
	rc = xdc_error(XDC_ERR, "not an SSH signature");
out:
	free(enc);
	free(blob);
	return rc;
}

/* ---- The module ------------------------------------------------------- */

int
verify_new(const char *gpg_file, const char *ssh_file, struct verify **out)
{
	struct verify *v = NULL;
	int rc;

	*out = NULL;
	/*
	 * gpgme's own set-up, once and before any thread: the loop checks
	 * in a thread of its own, which an OpenPGP signature may reach
	 * even without --trust-gpg (to name its key).
	 */
	if (!verify_gpgme_ready) {
		gpgme_check_version(NULL);
		verify_gpgme_ready = 1;
	}
	if (gpg_file != NULL && access(gpg_file, R_OK) != 0)
		return xdc_error_sys(XDC_ERR, "--trust-gpg %s", gpg_file);
	if (ssh_file != NULL && access(ssh_file, R_OK) != 0)
		return xdc_error_sys(XDC_ERR, "--trust-ssh %s", ssh_file);
	if (gpg_file != NULL && (rc = verify_gpg_init()) != 0)
		return rc;
	if (ssh_file != NULL && !verify_on_path("ssh-keygen"))
		return xdc_error(XDC_ERR,
		    "--trust-ssh needs ssh-keygen (OpenSSH 8.2 or later), "
		    "which is not on PATH");
	v = xdc_calloc(1, sizeof(*v));
	atomic_init(&v->vf_cancel, 0);
	v->vf_gpg = gpg_file != NULL ? xdc_strdup(gpg_file) : NULL;
	v->vf_ssh = ssh_file != NULL ? xdc_strdup(ssh_file) : NULL;
	*out = v;
	return 0;
}

void
verify_cancel(struct verify *v)
{
	if (v != NULL)
		atomic_store(&v->vf_cancel, 1);
}

void
verify_free(struct verify *v)
{
	if (v == NULL)
		return;
	free(v->vf_gpg);
	free(v->vf_ssh);
	free(v);
}

static const char *
git_msg(void)
{
	const git_error *e = git_error_last();

	return e != NULL && e->message != NULL ? e->message : "unknown error";
}

/*
 * The signature of obj and its payload; a tag's without one, its
 * commit's (*tag_unsigned set). XDC_ENOTFOUND when there is none.
 */
static int
extract(git_repository *repo, const git_object *obj, struct signed_obj *so,
    int *tag_unsigned)
{
	const git_oid *id = git_object_id(obj);
	git_buf sig = { 0 }, data = { 0 };
	git_odb_object *raw = NULL;
	git_object *peeled = NULL;
	git_odb *odb = NULL;
	git_oid cid;
	const char *buf;
	size_t len, at;
	int rc, e;

	*tag_unsigned = 0;
	if (git_object_type(obj) == GIT_OBJECT_TAG) {
		if (git_repository_odb(&odb, repo) < 0 ||
		    git_odb_read(&raw, odb, id) < 0) {
			rc = xdc_error(XDC_ERR, "cannot read tag %s: %s",
			    git_oid_tostr_s(id), git_msg());
			goto out;
		}
		buf = git_odb_object_data(raw);
		len = git_odb_object_size(raw);
		if ((at = verify_tag_split(buf, len)) < len) {
			signed_set(so, buf + at, len - at, buf, at);
			rc = 0;
			goto out;
		}
		*tag_unsigned = 1;
		if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
			rc = xdc_error(XDC_ERR, "tag %s names no commit",
			    git_oid_tostr_s(id));
			goto out;
		}
		id = git_object_id(peeled);
	}
	git_oid_cpy(&cid, id);
	e = git_commit_extract_signature(&sig, &data, repo, &cid, NULL);
	if (e == GIT_ENOTFOUND) {
		rc = XDC_ENOTFOUND;
	} else if (e < 0) {
		rc = xdc_error(XDC_ERR, "cannot read commit %s: %s",
		    git_oid_tostr_s(&cid), git_msg());
	} else {
		signed_set(so, sig.ptr, sig.size, data.ptr, data.size);
		rc = 0;
	}
out:
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	git_object_free(peeled);
	git_odb_object_free(raw);
	git_odb_free(odb);
	return rc;
}

void
verify_result_free(struct verify_result *res)
{
	free(res->vr_key);
	free(res->vr_signer);
	memset(res, 0, sizeof(*res));
}

int
verify_object(struct verify *v, struct git_repository *repo,
    const struct git_object *obj, const char *name, struct verify_result *res)
{
	struct signed_obj so = { NULL, 0, NULL, 0 };
	struct finding f;
	char *what = NULL, *dir = NULL;
	int rc, tag_unsigned;

	memset(&f, 0, sizeof(f));
	memset(res, 0, sizeof(*res));
	res->vr_reason = VERIFY_GOOD;
	rc = extract(repo, obj, &so, &tag_unsigned);
	if (git_object_type(obj) == GIT_OBJECT_TAG && !tag_unsigned)
		xdc_asprintf(&what, "tag %s", name != NULL ? name : "?");
	else
		what = xdc_strdup("the commit");
	f.fd_what = what;
	if (rc == XDC_ENOTFOUND) {
		res->vr_reason = VERIFY_UNSIGNED;
		if (tag_unsigned)
			rc = xdc_error(XDC_EUNVERIFIED,
			    "neither tag %s nor its commit is signed: only "
			    "what a trusted key signed is applied",
			    name != NULL ? name : "?");
		else
			rc = xdc_error(XDC_EUNVERIFIED,
			    "the commit is not signed: only what a trusted "
			    "key signed is applied");
		goto out;
	}
	if (rc != 0)
		goto out;
	if ((rc = verify_dir_make(&dir)))
		goto out;
	switch (verify_kind_of(so.so_sig, so.so_siglen)) {
	case VERIFY_KIND_OPENPGP:
		rc = verify_gpg_check(v, dir, &so, &f, &res->vr_signer);
		break;
	case VERIFY_KIND_SSH:
		rc = verify_ssh_check(v, dir, &so, &f, &res->vr_signer);
		break;
	case VERIFY_KIND_X509:
		res->vr_reason = VERIFY_UNKNOWN_KEY;
		rc = xdc_error(XDC_EUNVERIFIED,
		    "unable to verify %s with any of the given keys: it "
		    "carries an X.509 (gpgsm) signature, and only OpenPGP and "
		    "SSH keys can be trusted",
		    what);
		goto out;
	default:
		res->vr_reason = VERIFY_BAD_SIGNATURE;
		rc = xdc_error(XDC_EUNVERIFIED,
		    "bad signature: %s carries a signature of no known kind",
		    what);
		goto out;
	}
	if (rc == XDC_EUNVERIFIED) {
		rc = verify_refuse(&f, &res->vr_reason);
		if (f.fd_key != NULL)
			xdc_asprintf(
			    &res->vr_key, "%s key %s", f.fd_kind, f.fd_key);
	}
out:
	verify_dir_remove(dir);
	free(dir);
	free(what);
	free(f.fd_key);
	free(f.fd_detail);
	free(so.so_sig);
	free(so.so_data);
	return rc;
}

int
verify_commit(struct verify *v, struct git_repository *repo, const char *hex,
    const char *tag, struct verify_result *res)
{
	git_object *obj = NULL, *named = NULL, *peeled = NULL;
	git_reference *ref = NULL;
	git_oid oid;
	char *name = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	if (strlen(hex) != GIT_OID_HEXSZ || git_oid_fromstr(&oid, hex) < 0)
		return xdc_error(XDC_ERR, "%s: not a commit id", hex);
	if (git_object_lookup(&obj, repo, &oid, GIT_OBJECT_COMMIT) < 0) {
		rc = xdc_error(XDC_ENOTFOUND, "commit %s: %s", hex, git_msg());
		goto out;
	}
	/*
	 * An annotated tag that still names the commit is what a tag ref's
	 * source was checked by; a lightweight one, or a tag moved since,
	 * leaves the commit.
	 */
	if (tag != NULL) {
		xdc_asprintf(&name, "refs/tags/%s",
		    strncmp(tag, "refs/tags/", 10) == 0 ? tag + 10 : tag);
		if (git_reference_lookup(&ref, repo, name) == 0 &&
		    git_reference_target(ref) != NULL &&
		    git_object_lookup(&named, repo, git_reference_target(ref),
		        GIT_OBJECT_TAG) == 0 &&
		    git_object_peel(&peeled, named, GIT_OBJECT_COMMIT) == 0 &&
		    git_oid_equal(git_object_id(peeled), &oid)) {
			rc = verify_object(v, repo, named, name + 10, res);
			goto out;
		}
	}
	rc = verify_object(v, repo, obj, NULL, res);
out:
	git_reference_free(ref);
	git_object_free(peeled);
	git_object_free(named);
	git_object_free(obj);
	free(name);
	return rc;
}
