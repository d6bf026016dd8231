/*
 * Signed commits and tags (see verify.h). Each check works in a private
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
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <gpgme.h>

#include "reconciler/verify.h"
#include "base/error.h"
#include "base/file.h"

#define VERIFY_TOOL_MS  10000     /* one ssh-keygen or gpgconf run */
#define VERIFY_OUT_MAX  65536     /* what is kept of its stdout, stderr */
#define VERIFY_KEYS_MAX (1 << 20) /* a trust file */

extern char **environ;

struct verify {
	char *vf_gpg; /* --trust-gpg FILE, or NULL */
	char *vf_ssh; /* --trust-ssh FILE, or NULL */
};

/* A signature and what it signs, copied out of the object. */
struct signed_obj {
	char *so_sig;
	size_t so_siglen;
	char *so_data;
	size_t so_datalen;
};

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

/* ---- A private directory, and the files in it ----------------------- */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
dir_remove(const char *dir)
{
	if (dir != NULL)
		nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int
dir_make(char **out)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	xdc_asprintf(out, "%s/xdc-verify-XXXXXX", tmp);
	if (mkdtemp(*out) == NULL) {
		free(*out);
		*out = NULL;
		return xdc_error_sys(XDC_ERR,
		    "cannot make a directory in %s to check a signature", tmp);
	}
	return 0;
}

/* A new file of the private directory: no sync, it lives for a check. */
static int
put_file(
    const char *dir, const char *name, const void *buf, size_t len, char **path)
{
	const char *p;
	char *file = NULL;
	ssize_t n;
	int fd, rc = 0;

	xdc_asprintf(&file, "%s/%s", dir, name);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = xdc_error_sys(XDC_ERR, "cannot create %s", file);
		goto out;
	}
	for (p = buf; len > 0; p += n, len -= (size_t)n)
		if ((n = write(fd, p, len)) < 0 && errno != EINTR) {
			rc = xdc_error_sys(XDC_ERR, "cannot write %s", file);
			break;
		} else if (n < 0) {
			n = 0;
		}
	if (close(fd) < 0 && rc == 0)
		rc = xdc_error_sys(XDC_ERR, "cannot write %s", file);
	if (rc == 0 && path != NULL) {
		*path = file;
		file = NULL;
	}
out:
	free(file);
	return rc;
}

/* ---- Running a tool --------------------------------------------------- */

struct tool {
	char *tl_out; /* stdout, NUL-terminated, at most VERIFY_OUT_MAX */
	size_t tl_outlen;
	char *tl_err; /* stderr, likewise */
	size_t tl_errlen;
	int tl_status; /* the exit status; -1 when killed */
};

static void
tool_free(struct tool *t)
{
	free(t->tl_out);
	free(t->tl_err);
	memset(t, 0, sizeof(*t));
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keep what fits of what fd has; 0 at EOF. */
static int
drain(int fd, char **buf, size_t *len)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	size_t keep;

	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN) ? 1 : 0;
	keep = *len + (size_t)n > VERIFY_OUT_MAX ? VERIFY_OUT_MAX - *len
	                                         : (size_t)n;
	if (keep > 0) {
		*buf = realloc(*buf, *len + keep + 1);
		if (*buf == NULL)
			abort();
		memcpy(*buf + *len, chunk, keep);
		*len += keep;
		(*buf)[*len] = '\0';
	}
	return 1;
}

/*
 * Run argv (argv[0] found on PATH) with stdin from the file in (NULL:
 * /dev/null), without a shell, for at most VERIFY_TOOL_MS; it inherits
 * no signal mask (the loop blocks some for its signalfd) and no open
 * descriptor but 0, 1 and 2.
 */
static int
tool_run(char *const argv[], const char *in, struct tool *t)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct pollfd pfd[2];
	sigset_t none, dfl;
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, st, rc, open_fds;
	int64_t deadline;
	pid_t pid = -1;

	memset(t, 0, sizeof(*t));
	t->tl_out = xdc_strdup("");
	t->tl_err = xdc_strdup("");
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		rc = xdc_error_sys(XDC_ERR, "cannot run %s", argv[0]);
		goto out;
	}
	posix_spawn_file_actions_addopen(
	    &fa, 0, in != NULL ? in : "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(
	    &attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if ((rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ)) !=
	    0) {
		pid = -1;
		errno = rc;
		rc = xdc_error_sys(XDC_ERR, "cannot run %s", argv[0]);
		goto out;
	}
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;

	deadline = now_ms() + VERIFY_TOOL_MS;
	open_fds = 2;
	pfd[0].fd = out[0];
	pfd[1].fd = err[0];
	while (open_fds > 0) {
		int64_t left = deadline - now_ms();
		int i;

		if (left <= 0) {
			kill(pid, SIGKILL);
			rc = xdc_error(XDC_ERR,
			    "%s did not finish within %d s; killed", argv[0],
			    VERIFY_TOOL_MS / 1000);
			goto out;
		}
		pfd[0].events = pfd[1].events = POLLIN;
		if (poll(pfd, 2, (int)left) < 0 && errno != EINTR) {
			kill(pid, SIGKILL);
			rc = xdc_error_sys(XDC_ERR, "poll");
			goto out;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			if (!drain(pfd[i].fd, i == 0 ? &t->tl_out : &t->tl_err,
			        i == 0 ? &t->tl_outlen : &t->tl_errlen)) {
				pfd[i].fd = -1;
				open_fds--;
			}
		}
	}
	rc = 0;
out:
	if (pid > 0) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		t->tl_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	}
	if (out[0] >= 0)
		close(out[0]);
	if (out[1] >= 0)
		close(out[1]);
	if (err[0] >= 0)
		close(err[0]);
	if (err[1] >= 0)
		close(err[1]);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* Whether name is a program on PATH, as posix_spawnp would find it. */
static int
on_path(const char *name)
{
	const char *path = getenv("PATH"), *s, *e;
	char *p = NULL;
	int found = 0;

	if (path == NULL)
		path = "/usr/bin:/bin";
	for (s = path; !found; s = e + 1) {
		e = strchrnul(s, ':');
		xdc_asprintf(
		    &p, "%.*s/%s", (int)(e - s), e == s ? "." : s, name);
		found = access(p, X_OK) == 0;
		free(p);
		if (*e == '\0')
			break;
	}
	return found;
}

/* The first line of s (a tool's stderr), for a message; borrowed. */
static const char *
first_line(char *s)
{
	s[strcspn(s, "\r\n")] = '\0';
	return s;
}

/* ---- Messages --------------------------------------------------------- */

/* What a check found, before it becomes the message. */
struct finding {
	enum verify_reason fd_reason;
	const char *fd_what; /* "the commit", "tag v1" */
	const char *fd_kind; /* "OpenPGP", "SSH" */
	const char *fd_file; /* the trust file of that kind, or NULL */
	const char *fd_flag; /* its option */
	char *fd_key;        /* the key as seen: fingerprint or id */
	char *fd_detail;     /* the tool's words, or NULL */
};

static int
refuse(struct finding *f, enum verify_reason *reason)
{
	const char *d = f->fd_detail, *sep = d != NULL ? " (" : "";
	const char *close = d != NULL ? ")" : "";
	char *key = NULL;
	int rc;

	/* " key X" when the key could be named, else " key". */
	xdc_asprintf(&key, " key%s%s", f->fd_key != NULL ? " " : "",
	    f->fd_key != NULL ? f->fd_key : "");
	*reason = f->fd_reason;
	if (d == NULL)
		d = "";
	switch (f->fd_reason) {
	case VERIFY_UNKNOWN_KEY:
		if (f->fd_file == NULL)
			rc = xdc_error(XDC_EUNVERIFIED,
			    "unable to verify %s with any of the given keys: "
			    "it is signed by %s%s, and no %s file is given",
			    f->fd_what, f->fd_kind, key, f->fd_flag);
		else
			rc = xdc_error(XDC_EUNVERIFIED,
			    "unable to verify %s with any of the given keys: "
			    "it is signed by %s%s, which is not in %s%s%s%s",
			    f->fd_what, f->fd_kind, key, f->fd_file, sep, d,
			    close);
		break;
	case VERIFY_EXPIRED_KEY:
		rc = xdc_error(XDC_EUNVERIFIED,
		    "%s is signed by %s%s, which has expired%s%s%s", f->fd_what,
		    f->fd_kind, key, sep, d, close);
		break;
	case VERIFY_REVOKED_KEY:
		rc = xdc_error(XDC_EUNVERIFIED,
		    "%s is signed by %s%s, which is revoked%s%s%s", f->fd_what,
		    f->fd_kind, key, sep, d, close);
		break;
	default:
		*reason = VERIFY_BAD_SIGNATURE;
		rc = xdc_error(XDC_EUNVERIFIED,
		    "bad signature: %s does not match its %s "
		    "signature%s%s%s%s%s",
		    f->fd_what, f->fd_kind, f->fd_key != NULL ? " by" : "",
		    f->fd_key != NULL ? key : "", sep, d, close);
		break;
	}
	free(key);
	return rc;
}

/* ---- OpenPGP ---------------------------------------------------------- */

static int gpgme_ready;

static int
gpg_init(void)
{
	gpgme_error_t e;

	if (!gpgme_ready) {
		gpgme_check_version(NULL);
		gpgme_ready = 1;
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
	return put_file(*home, "gpg.conf", conf, sizeof(conf) - 1, NULL);
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
	if (access(sock, F_OK) == 0 && tool_run(argv, NULL, &t) == 0)
		tool_free(&t);
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

static int
gpg_check(struct verify *v, const char *dir, const struct signed_obj *so,
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
	if ((rc = gpg_init()) || (rc = gpg_home(dir, &home)))
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
ssh_sig_fingerprint(const char *dir, const char *sig, size_t siglen)
{
	char *argv[] = { "ssh-keygen", "-l", "-f", NULL, NULL };
	char *line = NULL, *path = NULL, *fp = NULL, *sp;
	struct tool t;

	memset(&t, 0, sizeof(t));
	if (verify_ssh_sig_key(sig, siglen, &line) != 0)
		goto out;
	if (put_file(dir, "signer.pub", line, strlen(line), &path) != 0)
		goto out;
	argv[3] = path;
	if (tool_run(argv, NULL, &t) != 0 || t.tl_status != 0)
		goto out;
	/* "256 SHA256:... comment (ED25519)" */
	if ((sp = strchr(t.tl_out, ' ')) != NULL)
		fp = strndup(sp + 1, strcspn(sp + 1, " \n"));
out:
	tool_free(&t);
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

static int
ssh_check(struct verify *v, const char *dir, const struct signed_obj *so,
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
	if ((rc = put_file(
	         dir, "signature", so->so_sig, so->so_siglen, &sigpath)) ||
	    (rc = put_file(
	         dir, "payload", so->so_data, so->so_datalen, &payload)))
		goto out;
	find[6] = check[6] = ver[10] = sigpath;

	if (v->vf_ssh != NULL) {
		if (access(v->vf_ssh, R_OK) != 0) {
			rc = xdc_error_sys(XDC_ERR, "%s", v->vf_ssh);
			goto out;
		}
		if ((rc = tool_run(find, NULL, &fp)))
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
		tool_free(&t);
		if ((rc = tool_run(ver, payload, &t)))
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
		f->fd_detail = xdc_strdup(first_line(t.tl_err));
	}

	if (f->fd_reason == VERIFY_UNKNOWN_KEY) {
		/* As git: check it anyway, to name the key, or call it bad. */
		tool_free(&t);
		if ((rc = tool_run(check, payload, &t)))
			goto out;
		if (t.tl_status == 0 && strncmp(t.tl_out, "Good", 4) == 0) {
			f->fd_key = ssh_good_key(t.tl_out);
			if (fp.tl_err != NULL)
				f->fd_detail = ssh_complaints(fp.tl_err);
		} else {
			f->fd_reason = VERIFY_BAD_SIGNATURE;
			f->fd_detail = xdc_strdup(first_line(t.tl_err));
		}
	} else if (f->fd_detail == NULL) {
		/* Expired, or a signature ssh-keygen cannot parse. */
		f->fd_detail = ssh_complaints(fp.tl_err);
	}
	if (f->fd_key == NULL)
		f->fd_key = ssh_sig_fingerprint(dir, so->so_sig, so->so_siglen);
	rc = XDC_EUNVERIFIED;
out:
	tool_free(&fp);
	tool_free(&t);
	free(sigpath);
	free(payload);
	return rc;
}

/* ---- The module ------------------------------------------------------- */

int
verify_new(const char *gpg_file, const char *ssh_file, struct verify **out)
{
	struct verify *v = NULL;
	int rc;

	*out = NULL;
	if (gpg_file != NULL && access(gpg_file, R_OK) != 0)
		return xdc_error_sys(XDC_ERR, "--trust-gpg %s", gpg_file);
	if (ssh_file != NULL && access(ssh_file, R_OK) != 0)
		return xdc_error_sys(XDC_ERR, "--trust-ssh %s", ssh_file);
	if (gpg_file != NULL && (rc = gpg_init()) != 0)
		return rc;
	if (ssh_file != NULL && !on_path("ssh-keygen"))
		return xdc_error(XDC_ERR,
		    "--trust-ssh needs ssh-keygen (OpenSSH 8.2 or later), "
		    "which is not on PATH");
	v = xdc_calloc(1, sizeof(*v));
	v->vf_gpg = gpg_file != NULL ? xdc_strdup(gpg_file) : NULL;
	v->vf_ssh = ssh_file != NULL ? xdc_strdup(ssh_file) : NULL;
	*out = v;
	return 0;
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

int
verify_object(struct verify *v, struct git_repository *repo,
    const struct git_object *obj, const char *name, enum verify_reason *reason,
    char **signer)
{
	struct signed_obj so = { NULL, 0, NULL, 0 };
	struct finding f;
	char *what = NULL, *dir = NULL;
	int rc, tag_unsigned;

	memset(&f, 0, sizeof(f));
	*reason = VERIFY_GOOD;
	if (signer != NULL)
		*signer = NULL;
	rc = extract(repo, obj, &so, &tag_unsigned);
	if (git_object_type(obj) == GIT_OBJECT_TAG && !tag_unsigned)
		xdc_asprintf(&what, "tag %s", name != NULL ? name : "?");
	else
		what = xdc_strdup("the commit");
	f.fd_what = what;
	if (rc == XDC_ENOTFOUND) {
		*reason = VERIFY_UNSIGNED;
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
	if ((rc = dir_make(&dir)))
		goto out;
	switch (verify_kind_of(so.so_sig, so.so_siglen)) {
	case VERIFY_KIND_OPENPGP:
		rc = gpg_check(v, dir, &so, &f, signer);
		break;
	case VERIFY_KIND_SSH:
		rc = ssh_check(v, dir, &so, &f, signer);
		break;
	case VERIFY_KIND_X509:
		*reason = VERIFY_UNKNOWN_KEY;
		rc = xdc_error(XDC_EUNVERIFIED,
		    "unable to verify %s with any of the given keys: it "
		    "carries an X.509 (gpgsm) signature, and only OpenPGP and "
		    "SSH keys can be trusted",
		    what);
		goto out;
	default:
		*reason = VERIFY_BAD_SIGNATURE;
		rc = xdc_error(XDC_EUNVERIFIED,
		    "bad signature: %s carries a signature of no known kind",
		    what);
		goto out;
	}
	if (rc == XDC_EUNVERIFIED)
		rc = refuse(&f, reason);
out:
	dir_remove(dir);
	free(dir);
	free(what);
	free(f.fd_key);
	free(f.fd_detail);
	free(so.so_sig);
	free(so.so_data);
	return rc;
}
