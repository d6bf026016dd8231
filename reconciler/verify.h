/*
 * Trust (SPEC §10): whether a commit, or the annotated tag naming it, is
 * signed by a key the admin trusts. OpenPGP signatures are checked with
 * gpgme in a GnuPG home of their own, made for each check and removed
 * after it (never the user's keyring, no agent ever started); SSH
 * signatures with ssh-keygen -Y against an allowed_signers file, as git
 * checks them. The signature and the signed payload come from the object
 * itself: a commit's gpgsig header, or the signature block that ends a
 * tag's message. The key files are read again at each check, so a key
 * rotated in them counts from the next commit.
 */
#ifndef XDC_VERIFY_H
#define XDC_VERIFY_H

#include <stddef.h>

struct git_object;
struct git_repository;
struct verify;

/* Why a commit was refused; the metric's label is verify_reason_name's. */
enum verify_reason {
	VERIFY_GOOD,
	VERIFY_UNSIGNED,      /* no signature */
	VERIFY_UNKNOWN_KEY,   /* a key in none of the files */
	VERIFY_BAD_SIGNATURE, /* the content does not match it */
	VERIFY_EXPIRED_KEY,
	VERIFY_REVOKED_KEY,
	VERIFY__COUNT
};

/* "good", "unsigned", "unknown_key", "bad_signature", ... */
const char *verify_reason_name(enum verify_reason);

/*
 * The keys of --trust-gpg gpg_file (armored OpenPGP public keys) and
 * --trust-ssh ssh_file (an allowed_signers file), either NULL but not
 * both. The files must be readable and gpg or ssh-keygen installed now,
 * not only at the first commit. The caller frees *out with verify_free.
 */
int verify_new(const char *gpg_file, const char *ssh_file, struct verify **out);
void verify_free(struct verify *);

/*
 * Check obj, what a ref resolved to before peeling: a commit, or an
 * annotated tag named name (for messages; NULL for a commit). A tag with
 * a signature is judged by it; one without, by its commit's. Returns 0
 * when the signature is good by a trusted key (*signer, when not NULL,
 * then says whose: the caller frees it); XDC_EUNVERIFIED with the reason
 * in *reason and, exactly, in xdc_error_last() (naming the key seen);
 * another code when the check itself failed (a key file gone, ssh-keygen
 * killed by the time bound).
 */
int verify_object(struct verify *, struct git_repository *,
    const struct git_object *obj, const char *name, enum verify_reason *reason,
    char **signer);

/* ---- The parsing, exposed for tests ---------------------------------- */

enum verify_kind {
	VERIFY_KIND_NONE,
	VERIFY_KIND_OPENPGP,
	VERIFY_KIND_SSH,
	VERIFY_KIND_X509,
};

/* The kind of signature that starts at s, by its armor's first line. */
enum verify_kind verify_kind_of(const char *s, size_t len);

/*
 * Where the signature of a tag object's text starts: the last line that
 * opens an armored signature (as git's parse_signed_buffer); len when the
 * tag is not signed. The payload is buf[0, offset), the signature the rest.
 */
size_t verify_tag_split(const char *buf, size_t len);

/*
 * The public key inside an SSH signature's armor, as an authorized_keys
 * line ("ssh-ed25519 AAAA..."), for ssh-keygen -l to name it. The caller
 * frees *line. XDC_ERR when it is not an SSH signature.
 */
int verify_ssh_sig_key(const char *sig, size_t len, char **line);

#endif /* XDC_VERIFY_H */
