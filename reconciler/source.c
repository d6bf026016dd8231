/*
 * Configuration sources (see source.h). A git source keeps a bare
 * repository per remote under STATE_DIR/git/<hash of the URL>.git and
 * fetches into it with an anonymous remote, every branch to
 * refs/remotes/origin/ and every tag to refs/tags/ (see specs below); the
 * configuration is then read from the commit's tree, blob by blob, so
 * no work tree exists and nothing uncommitted can leak in.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "reconciler/cli.h"
#include "reconciler/source.h"
#include "reconciler/verify.h"
#include "base/arena.h"
#include "base/error.h"
#include "base/file.h"
#include "schema/schema.h"

#define SOURCE_SIM_POOL        ".xdc/sim.json" /* cli_driver.c's default */
#define SOURCE_XEN_STATE_DIR   "/var/lib/xdc"
#define SOURCE_REMOTE_BRANCHES "refs/remotes/origin/"
#define SOURCE_GIT_USER        "xdc" /* with a token, and no user given */

struct source {
	char *src_path; /* path mode: PATH; git: the path in the tree or NULL */
	char *src_url;  /* --git as shown: source_scrub_url */
	char *src_remote; /* what libgit2 is given: a directory made absolute */
	char *src_given;  /* --git as given, secrets and all: to scrub */
	char *src_user;   /* https://USER:PASS@host/...: for the callback */
	char *src_pass;
	char *src_ref; /* --ref, or the remote's default branch */
	char *src_state_dir;
	char *src_cache; /* STATE_DIR/git/<hash>.git */
	char *src_name;  /* PATH or URL@REF */
	git_repository *src_repo;
	int src_git; /* git_libgit2_init was called */
	int (*src_cancel)(void *);
	void *src_cancel_arg;
	int src_cred_tries;            /* per fetch: give up rather than loop */
	struct verify *src_verify;     /* --trust-gpg/--trust-ssh, or NULL */
	enum verify_reason src_reason; /* of the last commit loaded */
	char *src_signer;              /* who signed it, or NULL */
	char *src_key;                 /* the key seen when refused, or NULL */
	struct verdict *src_vd;        /* the last check's, or NULL */
	int src_async;                 /* the loop's: load never checks */
	struct job *src_fetch;         /* a fetch in its own thread, or NULL */
	struct job *src_check;         /* a check in its own thread, or NULL */
	atomic_int src_holds;    /* freed: the jobs that still run, and us */
	schema_keep_fn src_keep; /* source_keep's */
	void *src_keep_arg;
	struct schema_cache *src_parses; /* each file's parse, or NULL */
};

/* What checking an object found (verify_object), kept for the loop. */
struct verdict {
	git_oid vd_oid; /* the object checked: a commit or a tag */
	int vd_rc;      /* 0, XDC_EUNVERIFIED, or the check failed */
	char *vd_msg;   /* xdc_error_last() of a refusal or a failure */
	struct verify_result vd_res;
};

static void source_destroy(struct source *);
static void job_abandon(struct job *, struct source *);

/* ---- The state directory ---------------------------------------------- */

static int
uses_sim(const struct cli *cli)
{
	if (cli->cl_driver != NULL)
		return strcmp(cli->cl_driver, "sim") == 0;
	return access("/proc/xen", F_OK) != 0 && access("/dev/xen", F_OK) != 0;
}

int
source_state_dir(const struct cli *cli, char **out)
{
	const char *pool, *slash;

	if (cli->cl_state_dir != NULL) {
		*out = xdc_strdup(cli->cl_state_dir);
		return 0;
	}
	if (!uses_sim(cli)) {
		*out = xdc_strdup(SOURCE_XEN_STATE_DIR);
		return 0;
	}
	pool = cli->cl_state != NULL ? cli->cl_state : SOURCE_SIM_POOL;
	slash = strrchr(pool, '/');
	if (slash == NULL)
		*out = xdc_strdup(".");
	else if (slash == pool)
		*out = xdc_strdup("/");
	else
		xdc_asprintf(out, "%.*s", (int)(slash - pool), pool);
	return 0;
}

int
source_mkdirs(const char *path)
{
	char *p = xdc_strdup(path), *s, c;
	int rc = 0;

	for (s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		/*
		 * 0755 whatever the umask: node_exporter, another user, must
		 * reach the metrics file below.
		 */
		if (mkdir(p, 0755) == 0) {
			if (chmod(p, 0755) < 0) {
				rc = xdc_error_sys(
				    XDC_ERR, "cannot chmod %s", p);
				break;
			}
		} else if (errno != EEXIST) {
			rc = xdc_error_sys(XDC_ERR, "cannot create %s", p);
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

/* ---- A source --------------------------------------------------------- */

static uint64_t
url_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* A path inside the tree: "a/b" from "./a/b/", NULL for the root. */
static int
tree_path(const char *path, char **out)
{
	const char *s = path;
	size_t n;

	*out = NULL;
	if (s == NULL)
		return 0;
	while (s[0] == '.' && s[1] == '/')
		s += 2;
	if (*s == '/' || strstr(s, "..") != NULL)
		return xdc_error(XDC_ERR,
		    "%s: with --git, PATH is a path inside "
		    "the repository",
		    path);
	n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		n--;
	if (n == 0 || (n == 1 && s[0] == '.'))
		return 0;
	*out = xdc_malloc(n + 1);
	memcpy(*out, s, n);
	(*out)[n] = '\0';
	return 0;
}

static void
set_name(struct source *src)
{
	free(src->src_name);
	if (!src->src_url)
		src->src_name = xdc_strdup(src->src_path);
	else if (src->src_path != NULL)
		xdc_asprintf(&src->src_name, "%s@%s:%s", src->src_url,
		    src->src_ref ? src->src_ref : "HEAD", src->src_path);
	else
		xdc_asprintf(&src->src_name, "%s@%s", src->src_url,
		    src->src_ref ? src->src_ref : "HEAD");
}

/* "ssh://", "git+ssh://", "ssh+git://": a user there is a login, no secret. */
static int
is_ssh(const char *url, size_t schemelen)
{
	return (schemelen == 3 && !strncmp(url, "ssh", 3)) ||
	       (schemelen == 7 && (!strncmp(url, "git+ssh", 7) ||
	                              !strncmp(url, "ssh+git", 7)));
}

char *
source_scrub_url(const char *url)
{
	const char *sep = strstr(url, "://"), *auth, *end, *at, *p, *q;
	char *out = NULL, *next;
	size_t n;

	/* A path, or scp-like user@host:path: no room for a secret. */
	if (sep == NULL || sep == url ||
	    strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                "0123456789+.-") != (size_t)(sep - url))
		return xdc_strdup(url);
	auth = sep + 3;
	end = auth + strcspn(auth, "/?#");
	for (at = NULL, p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		xdc_asprintf(&out, "%.*s", (int)(end - url), url);
	else if (is_ssh(url, (size_t)(sep - url))) {
		/* ssh://user:pass@host: the user stays, the password goes. */
		n = strcspn(auth, ":@");
		xdc_asprintf(&out, "%.*s%.*s%.*s", (int)(auth - url), url,
		    (int)n, auth, (int)(end - at), at);
	} else
		/* http(s) and the rest: a user alone may be a token too. */
		xdc_asprintf(&out, "%.*s%.*s", (int)(auth - url), url,
		    (int)(end - at - 1), at + 1);
	/* The path as it is; every query value and the fragment redacted. */
	p = end + strcspn(end, "?#");
	xdc_asprintf(&next, "%s%.*s", out, (int)(p - end), end);
	free(out);
	out = next;
	if (*p == '?') {
		for (p++, n = 0; *p != '\0' && *p != '#'; n++) {
			q = p + strcspn(p, "&;#");
			at = memchr(p, '=', (size_t)(q - p));
			xdc_asprintf(&next, "%s%c%.*s%s", out, n ? p[-1] : '?',
			    at != NULL ? (int)(at - p + 1) : 0, p, "REDACTED");
			free(out);
			out = next;
			p = *q == '&' || *q == ';' ? q + 1 : q;
		}
	}
	if (*p == '#') {
		xdc_asprintf(&next, "%s#REDACTED", out);
		free(out);
		out = next;
	}
	return out;
}

/*
 * An http(s) URL's user and password: the user (if any) for the
 * credentials callback, and the URL libgit2 is given, without them. The
 * password given this way is on the command line, where every local user
 * reads it (ps): XDC_GIT_TOKEN or XDC_GIT_TOKEN_FILE supersede it.
 */
static void
split_url(struct source *src, const char *url)
{
	const char *host, *end, *at, *colon;

	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
		return;
	host = strstr(url, "://") + 3;
	end = host + strcspn(host, "/?#");
	for (at = NULL, colon = host; colon < end; colon++)
		if (*colon == '@')
			at = colon;
	if (at == NULL)
		return;
	colon = memchr(host, ':', (size_t)(at - host));
	if (colon != NULL) {
		xdc_asprintf(&src->src_user, "%.*s", (int)(colon - host), host);
		xdc_asprintf(
		    &src->src_pass, "%.*s", (int)(at - colon - 1), colon + 1);
	} else
		xdc_asprintf(&src->src_user, "%.*s", (int)(at - host), host);
	xdc_asprintf(
	    &src->src_remote, "%.*s%s", (int)(host - url), url, at + 1);
}

static void
secret_free(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

/* s (which it frees) with every occurrence of what replaced by with. */
static char *
replace_all(char *s, const char *what, const char *with)
{
	size_t n = strlen(what), off = 0, m = strlen(with);
	char *at, *out;

	while (n > 0 && (at = strstr(s + off, what)) != NULL) {
		xdc_asprintf(&out, "%.*s%s%s", (int)(at - s), s, with, at + n);
		off = (size_t)(at - s) + m;
		secret_free(s);
		s = out;
	}
	return s;
}

/*
 * XDC_GIT_TOKEN_FILE's secret: its first line. The file must be a regular
 * file of xdc's user or root that no other user may read or change, as
 * ssh demands of a private key: a token any local user can read is
 * everyone's.
 */
static int
token_file_read(const char *path, char **out)
{
	struct stat st;
	char buf[4097];
	size_t off = 0;
	ssize_t r;
	int fd = -1, rc;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) <
	    0) {
		rc = xdc_error_sys(XDC_ERR, "XDC_GIT_TOKEN_FILE %s", path);
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = xdc_error_sys(XDC_ERR, "XDC_GIT_TOKEN_FILE %s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = xdc_error(XDC_ERR,
		    "XDC_GIT_TOKEN_FILE %s: is %s, not a regular file", path,
		    xdc_file_kind(&st));
		goto out;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		rc = xdc_error(XDC_ERR,
		    "XDC_GIT_TOKEN_FILE %s: owned by uid %u, neither xdc's "
		    "user (%u) nor root: refused",
		    path, (unsigned)st.st_uid, (unsigned)geteuid());
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = xdc_error(XDC_ERR,
		    "XDC_GIT_TOKEN_FILE %s: mode %04o lets other users read "
		    "or change it: refused (chmod 600 it)",
		    path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	while (off < sizeof(buf) - 1) {
		r = read(fd, buf + off, sizeof(buf) - 1 - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = xdc_error_sys(
			    XDC_ERR, "XDC_GIT_TOKEN_FILE %s", path);
			goto out;
		}
		if (r == 0)
			break;
		off += (size_t)r;
	}
	buf[off] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		rc = xdc_error(XDC_ERR,
		    "XDC_GIT_TOKEN_FILE %s: empty: no token on its first line",
		    path);
		goto out;
	}
	*out = xdc_strdup(buf);
	rc = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * The https password, when a fetch asks for one: XDC_GIT_TOKEN_FILE's
 * first line (read at each fetch, so a rotated token is taken up without a
 * restart), else XDC_GIT_TOKEN, else the URL's. NULL when there is none.
 */
static int
source_password(const struct source *src, char **out)
{
	const char *file = getenv("XDC_GIT_TOKEN_FILE");
	const char *token = getenv("XDC_GIT_TOKEN");

	*out = NULL;
	if (file != NULL && *file != '\0')
		return token_file_read(file, out);
	if (token != NULL && *token != '\0')
		*out = xdc_strdup(token);
	else if (src->src_pass != NULL)
		*out = xdc_strdup(src->src_pass);
	return 0;
}

int
source_new(const struct cli *cli, const char *path, struct source **out)
{
	struct source *src = xdc_calloc(1, sizeof(*src));
	char real[PATH_MAX], *pass = NULL;
	struct stat st;
	int rc;

	*out = NULL;
	if (cli->cl_git == NULL) {
		if (cli->cl_ref != NULL) {
			rc = xdc_error(XDC_ERR, "--ref goes with --git");
			goto out;
		}
		if (cli->cl_trust_gpg != NULL || cli->cl_trust_ssh != NULL) {
			rc = xdc_error(XDC_ERR,
			    "--%s goes with --git: only "
			    "commits are signed",
			    cli->cl_trust_gpg != NULL ? "trust-gpg"
			                              : "trust-ssh");
			goto out;
		}
		src->src_path = xdc_strdup(path != NULL ? path : ".");
		set_name(src);
		*out = src;
		src = NULL;
		rc = 0;
		goto out;
	}
	if (*cli->cl_git == '\0') {
		rc = xdc_error(XDC_ERR, "--git: an empty URL");
		goto out;
	}
	if ((rc = tree_path(path, &src->src_path)))
		goto out;
	/* A local directory names the same remote from any directory. */
	if (stat(cli->cl_git, &st) == 0 && S_ISDIR(st.st_mode) &&
	    realpath(cli->cl_git, real) != NULL) {
		src->src_remote = xdc_strdup(real);
		src->src_url = xdc_strdup(cli->cl_git);
	} else {
		/*
		 * Shown scrubbed; an https secret reaches libgit2 through
		 * the callback only.
		 */
		src->src_url = source_scrub_url(cli->cl_git);
		src->src_given = xdc_strdup(cli->cl_git);
		split_url(src, cli->cl_git);
		if (src->src_remote == NULL)
			src->src_remote = xdc_strdup(cli->cl_git);
		if (strcmp(src->src_url, cli->cl_git) != 0)
			cli_log(cli,
			    "warning: the --git URL has credentials or a "
			    "query, which every local user can read on the "
			    "command line (ps); give a token in XDC_GIT_TOKEN "
			    "or XDC_GIT_TOKEN_FILE instead (docs/gitops.md)");
	}
	/* A token file that would be refused at the first fetch: now. */
	if ((rc = source_password(src, &pass)))
		goto out;
	if (cli->cl_ref != NULL)
		src->src_ref = xdc_strdup(cli->cl_ref);
	if ((rc = source_state_dir(cli, &src->src_state_dir)))
		goto out;
	if ((cli->cl_trust_gpg != NULL || cli->cl_trust_ssh != NULL) &&
	    (rc = verify_new(
	         cli->cl_trust_gpg, cli->cl_trust_ssh, &src->src_verify)))
		goto out;
	/* Named by the URL without secrets: a new token, the same cache. */
	xdc_asprintf(&src->src_cache, "%s/git/%016llx.git", src->src_state_dir,
	    (unsigned long long)url_hash(src->src_remote));
	if (git_libgit2_init() < 0) {
		rc = xdc_error(XDC_ERR, "cannot initialise libgit2");
		goto out;
	}
	src->src_git = 1;
	set_name(src);
	*out = src;
	src = NULL;
	rc = 0;
out:
	secret_free(pass);
	source_free(src);
	return rc;
}

static void
verdict_free(struct verdict *vd)
{
	if (vd == NULL)
		return;
	free(vd->vd_msg);
	verify_result_free(&vd->vd_res);
	free(vd);
}

/* One of those holding src lets it go: the last frees it. */
static void
source_release(struct source *src)
{
	if (atomic_fetch_sub(&src->src_holds, 1) == 1)
		source_destroy(src);
}

void
source_free(struct source *src)
{
	if (src == NULL)
		return;
	/* Here, not in a thread: configurations in force share its parts. */
	schema_cache_free(src->src_parses);
	src->src_parses = NULL;
	/*
	 * A fetch or check thread still reads src: held by each of them
	 * and by this function, src is freed by whichever lets go last.
	 */
	atomic_store(&src->src_holds,
	    1 + (src->src_fetch != NULL) + (src->src_check != NULL));
	if (src->src_fetch != NULL)
		job_abandon(src->src_fetch, src);
	if (src->src_check != NULL)
		job_abandon(src->src_check, src);
	source_release(src);
}

static void
source_destroy(struct source *src)
{
	git_repository_free(src->src_repo);
	if (src->src_git)
		git_libgit2_shutdown();
	free(src->src_path);
	free(src->src_url);
	free(src->src_remote);
	free(src->src_user);
	secret_free(src->src_pass);
	secret_free(src->src_given);
	free(src->src_ref);
	free(src->src_state_dir);
	free(src->src_cache);
	free(src->src_name);
	verify_free(src->src_verify);
	free(src->src_signer);
	free(src->src_key);
	verdict_free(src->src_vd);
	free(src);
}

int
source_is_git(const struct source *src)
{
	return src->src_url != NULL;
}

const char *
source_name(const struct source *src)
{
	return src->src_name;
}

void
source_set_cancel(struct source *src, int (*fn)(void *), void *arg)
{
	src->src_cancel = fn;
	src->src_cancel_arg = arg;
}

/*
 * libgit2's last error as ours, with a prefix. Its message may quote the
 * URL as libgit2 was given it: that is replaced by the scrubbed one, and
 * the URL's password by REDACTED.
 */
static int
git_fail(const struct source *src, const char *what)
{
	const git_error *e = git_error_last();
	char *msg, *shown;
	int rc;

	msg = xdc_strdup(
	    e != NULL && e->message != NULL ? e->message : "unknown error");
	if (src->src_given != NULL && strcmp(src->src_given, src->src_url))
		msg = replace_all(msg, src->src_given, src->src_url);
	if (src->src_given != NULL && strcmp(src->src_remote, src->src_given)) {
		shown = source_scrub_url(src->src_remote);
		msg = replace_all(msg, src->src_remote, shown);
		free(shown);
	}
	if (src->src_pass != NULL)
		msg = replace_all(msg, src->src_pass, "REDACTED");
	rc = xdc_error(XDC_ERR, "%s: %s: %s", src->src_url, what, msg);
	free(msg);
	return rc;
}

/* ---- Fetching --------------------------------------------------------- */

static int
cache_open(struct source *src)
{
	struct stat st;
	char *parent = NULL;
	int rc;

	if (src->src_repo != NULL)
		return 0;
	if (stat(src->src_cache, &st) == 0) {
		if (git_repository_open_bare(&src->src_repo, src->src_cache) <
		    0)
			return git_fail(src, "cannot open the cache");
		return 0;
	}
	xdc_asprintf(&parent, "%s/git", src->src_state_dir);
	rc = source_mkdirs(parent);
	free(parent);
	if (rc != 0)
		return rc;
	if (git_repository_init(&src->src_repo, src->src_cache, 1) < 0)
		return git_fail(src, "cannot create the cache");
	return 0;
}

static int
cb_cancel(struct source *src)
{
	if (src->src_cancel != NULL && src->src_cancel(src->src_cancel_arg))
		return -1;
	return 0;
}

static int
cb_transfer(const git_indexer_progress *stats, void *arg)
{
	(void)stats;
	return cb_cancel(arg);
}

static int
cb_sideband(const char *str, int len, void *arg)
{
	(void)str;
	(void)len;
	return cb_cancel(arg);
}

/*
 * Credentials, tried once per fetch: a user and password (a token) where
 * the server asks for one: the password from source_password, the user
 * from the URL, else XDC_GIT_USER, else "xdc" (GitHub and GitLab take any
 * user with a token). ssh takes the key file XDC_GIT_SSH_KEY names (with
 * XDC_GIT_SSH_PASSPHRASE), else the ssh agent's keys.
 */
static int
cb_credentials(git_credential **out, const char *url, const char *user,
    unsigned int allowed, void *arg)
{
	struct source *src = arg;
	const char *key = getenv("XDC_GIT_SSH_KEY"), *who;
	char *pass = NULL;
	int rc;

	(void)url;
	if (src->src_cred_tries++ > 0)
		return GIT_PASSTHROUGH;
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		if (source_password(src, &pass) != 0) {
			git_error_set_str(GIT_ERROR_CALLBACK, xdc_error_last());
			return -1;
		}
		if (pass != NULL || src->src_user != NULL) {
			if (src->src_user != NULL)
				who = src->src_user;
			else if ((who = getenv("XDC_GIT_USER")) == NULL ||
			         *who == '\0')
				who = SOURCE_GIT_USER;
			rc = git_credential_userpass_plaintext_new(
			    out, who, pass != NULL ? pass : "");
			secret_free(pass);
			return rc;
		}
	}
	if (!(allowed & GIT_CREDENTIAL_SSH_KEY))
		return GIT_PASSTHROUGH;
	if (key != NULL && *key != '\0')
		return git_credential_ssh_key_new(out, user ? user : "git",
		    NULL, key, getenv("XDC_GIT_SSH_PASSPHRASE"));
	return git_credential_ssh_key_from_agent(out, user ? user : "git");
}

int
source_fetch(struct source *src)
{
	static char *specs[] = {
		"+refs/heads/*:" SOURCE_REMOTE_BRANCHES "*",
		"+refs/tags/*:refs/tags/*",
	};
	git_strarray refspecs = { specs, 2 };
	git_remote_create_options ropts;
	git_remote_callbacks cbs;
	git_fetch_options opts;
	git_remote *remote = NULL;
	git_buf head = { 0 };
	int rc;

	if (!source_is_git(src))
		return 0;
	if ((rc = cache_open(src)))
		return rc;
	/* libgit2 calls a missing directory an "unsupported URL protocol". */
	if (src->src_remote[0] == '/' && access(src->src_remote, F_OK) != 0)
		return xdc_error_sys(XDC_ERR, "%s: cannot fetch", src->src_url);
	src->src_cred_tries = 0;
	git_remote_init_callbacks(&cbs, GIT_REMOTE_CALLBACKS_VERSION);
	cbs.transfer_progress = cb_transfer;
	cbs.sideband_progress = cb_sideband;
	cbs.credentials = cb_credentials;
	cbs.payload = src;
	git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
	opts.callbacks = cbs;
	opts.prune = GIT_FETCH_PRUNE;
	opts.update_fetchhead = 0;
	opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;

	/*
	 * Anonymous, and without url.*.insteadOf: libgit2 1.5 leaks a PCRE2
	 * match block for every configuration entry that rewriting looks at
	 * (libgit2 #6382), which a loop fetching every minute cannot afford.
	 */
	git_remote_create_options_init(
	    &ropts, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ropts.repository = src->src_repo;
	ropts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
	              GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&remote, src->src_remote, &ropts) < 0) {
		rc = git_fail(src, "cannot fetch");
		goto out;
	}
	if (git_remote_connect(remote, GIT_DIRECTION_FETCH, &cbs, NULL, NULL) <
	    0) {
		rc = git_fail(src, "cannot fetch");
		goto out;
	}
	/* Without --ref, follow what the remote's HEAD names. */
	if (src->src_ref == NULL) {
		if (git_remote_default_branch(&head, remote) < 0) {
			rc = git_fail(src, "no --ref given and the remote has "
			                   "no default branch");
			goto out;
		}
		src->src_ref = xdc_strdup(
		    strncmp(head.ptr, "refs/heads/", 11) == 0 ? head.ptr + 11
		                                              : head.ptr);
		set_name(src);
	}
	if (git_remote_download(remote, &refspecs, &opts) < 0 ||
	    git_remote_update_tips(remote, &cbs, 0,
	        GIT_REMOTE_DOWNLOAD_TAGS_NONE, "xdc fetch") < 0 ||
	    git_remote_prune(remote, &cbs) < 0) {
		rc = git_fail(src, "cannot fetch");
		goto out;
	}
	rc = 0;
out:
	if (remote != NULL)
		git_remote_disconnect(remote);
	git_remote_free(remote);
	git_buf_dispose(&head);
	return rc;
}

/* ---- Fetching and checking in threads of their own ------------------ */

/*
 * libgit2 1.5 has no timeout for a server that accepts a connection and
 * never answers: a fetch may block for ever in recv(). Checking a
 * signature runs ssh-keygen or gpg: a second, or ten when bounded. So the
 * loop's fetch and its check each run in a thread, on a copy of the
 * source of their own (their own repository handle, name and ref; the
 * other strings and the trust borrowed, as they never change while a job
 * runs), and say they ended through an eventfd the loop polls. A thread
 * that hangs is never joined: source_free leaves it the source, and
 * whichever of them comes last frees it all.
 */
enum { JOB_RUNNING, JOB_DONE, JOB_ABANDONED };
enum job_kind { JOB_FETCH, JOB_CHECK };

struct job {
	enum job_kind j_kind;
	struct source *j_copy;  /* what the thread works on */
	struct source *j_owner; /* the loop's source, once abandoned */
	struct job **j_slot;    /* where the loop's source keeps it */
	pthread_t j_thread;
	atomic_int j_state;
	atomic_int j_cancel;
	int j_fd; /* eventfd, written when the job ends */
	int j_rc;
	char *j_msg;
	/* A check's: what it checks, and its name; what it found. */
	git_oid j_oid;
	char *j_name;
	struct verdict *j_vd;
};

static int
job_cancelled(void *arg)
{
	struct job *j = arg;

	return atomic_load(&j->j_cancel);
}

static void
job_free(struct job *j)
{
	git_repository_free(j->j_copy->src_repo);
	free(j->j_copy->src_ref);
	free(j->j_copy->src_name);
	free(j->j_copy);
	if (j->j_fd >= 0)
		close(j->j_fd);
	free(j->j_msg);
	free(j->j_name);
	verdict_free(j->j_vd);
	free(j);
}

/* The check: the object j_oid, in the thread's own repository handle. */
static int
job_check(struct job *j)
{
	struct source *src = j->j_copy;
	git_object *obj = NULL;
	int rc;

	j->j_vd = xdc_calloc(1, sizeof(*j->j_vd));
	git_oid_cpy(&j->j_vd->vd_oid, &j->j_oid);
	if ((rc = cache_open(src)) == 0) {
		if (git_object_lookup(
		        &obj, src->src_repo, &j->j_oid, GIT_OBJECT_ANY) < 0)
			rc = git_fail(src, "cannot read the commit to check");
		else
			rc = verify_object(src->src_verify, src->src_repo, obj,
			    j->j_name, &j->j_vd->vd_res);
	}
	j->j_vd->vd_rc = rc;
	if (rc != 0)
		j->j_vd->vd_msg = xdc_strdup(xdc_error_last());
	git_object_free(obj);
	return rc;
}

static void *
job_main(void *arg)
{
	struct job *j = arg;
	struct source *owner;
	uint64_t one = 1;

	/* Its own hold on libgit2: the loop's may end before this does. */
	if (git_libgit2_init() < 0) {
		j->j_rc = XDC_ERR;
		j->j_msg = xdc_strdup("cannot initialise libgit2");
	} else {
		if (j->j_kind == JOB_FETCH)
			j->j_rc = source_fetch(j->j_copy);
		else
			j->j_rc = job_check(j);
		if (j->j_rc != 0)
			j->j_msg = xdc_strdup(xdc_error_last());
		git_repository_free(j->j_copy->src_repo);
		j->j_copy->src_repo = NULL;
		git_libgit2_shutdown();
	}
	(void)!write(j->j_fd, &one, sizeof(one));
	if (atomic_exchange(&j->j_state, JOB_DONE) == JOB_ABANDONED) {
		owner = j->j_owner;
		job_free(j);
		source_release(owner);
	}
	return NULL;
}

static int
job_start(struct source *src, enum job_kind kind, struct job **slot,
    struct job *j, int *fd)
{
	sigset_t all, old;
	int rc;

	j->j_kind = kind;
	j->j_slot = slot;
	j->j_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (j->j_fd < 0) {
		free(j->j_name);
		free(j);
		return xdc_error_sys(XDC_ERR, "cannot make an eventfd");
	}
	j->j_copy = xdc_malloc(sizeof(*j->j_copy));
	*j->j_copy = *src;
	j->j_copy->src_repo = NULL;
	j->j_copy->src_git = 0;
	j->j_copy->src_fetch = j->j_copy->src_check = NULL;
	j->j_copy->src_vd = NULL;
	j->j_copy->src_signer = j->j_copy->src_key = NULL;
	j->j_copy->src_ref = src->src_ref ? xdc_strdup(src->src_ref) : NULL;
	j->j_copy->src_name = xdc_strdup(src->src_name);
	j->j_copy->src_cancel = job_cancelled;
	j->j_copy->src_cancel_arg = j;
	atomic_init(&j->j_state, JOB_RUNNING);
	atomic_init(&j->j_cancel, 0);
	/* Signals are the loop's (its signalfd), never the thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&j->j_thread, NULL, job_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		job_free(j);
		errno = rc;
		return xdc_error_sys(XDC_ERR, "cannot start a thread");
	}
	*slot = j;
	*fd = j->j_fd;
	return 0;
}

/* The job in *slot said it ended: join it; *slot is empty again. */
static int
job_end(struct source *src, struct job **slot, struct job **out)
{
	struct job *j = *slot;
	uint64_t n;

	*out = NULL;
	if (j == NULL)
		return xdc_error(XDC_ERR, "no job is under way");
	if (read(j->j_fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return xdc_error(
		    XDC_ERETRY, "%s: still under way", src->src_url);
	/* It said it ended: it only has to return. */
	pthread_join(j->j_thread, NULL);
	*slot = NULL;
	*out = j;
	return 0;
}

static void
job_abandon(struct job *j, struct source *src)
{
	atomic_store(&j->j_cancel, 1);
	j->j_owner = src;
	*j->j_slot = NULL;
	if (atomic_exchange(&j->j_state, JOB_ABANDONED) == JOB_DONE) {
		/* It ended meanwhile: join it and free it now. */
		pthread_join(j->j_thread, NULL);
		job_free(j);
		source_release(src);
		return;
	}
	/* It may never return: it is not waited for, and lets src go. */
	pthread_detach(j->j_thread);
}

int
source_fetch_start(struct source *src, int *fd)
{
	int rc;

	*fd = -1;
	if (!source_is_git(src))
		return xdc_error(
		    XDC_ERR, "%s: not a git source", src->src_name);
	if (src->src_fetch != NULL)
		return xdc_error(
		    XDC_ERETRY, "%s: a fetch is under way", src->src_url);
	/* Made here, so that the thread only opens it. */
	if ((rc = cache_open(src)))
		return rc;
	return job_start(src, JOB_FETCH, &src->src_fetch,
	    xdc_calloc(1, sizeof(struct job)), fd);
}

int
source_fetching(const struct source *src)
{
	return src->src_fetch != NULL;
}

void
source_fetch_cancel(struct source *src)
{
	if (src->src_fetch != NULL)
		atomic_store(&src->src_fetch->j_cancel, 1);
}

int
source_fetch_end(struct source *src)
{
	struct job *j;
	int rc;

	if ((rc = job_end(src, &src->src_fetch, &j)) != 0)
		return rc;
	/* The remote's default branch, when no --ref named one. */
	if (src->src_ref == NULL && j->j_copy->src_ref != NULL) {
		src->src_ref = xdc_strdup(j->j_copy->src_ref);
		set_name(src);
	}
	rc = j->j_rc;
	if (rc != 0)
		xdc_error(rc, "%s", j->j_msg);
	job_free(j);
	return rc;
}

/* ---- Resolving and reading ------------------------------------------- */

static int
is_hex(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s), i;

	if (n < min || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f') ||
		        (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

/*
 * The commit REF names: a branch, else a tag, else a commit id; and,
 * when named is not NULL, the object itself (an annotated tag is signed).
 */
static int
resolve(struct source *src, git_commit **out, git_object **named)
{
	const char *ref = src->src_ref;
	git_object *obj = NULL;
	git_oid oid;
	char *name = NULL;
	int rc = XDC_ENOTFOUND;

	*out = NULL;
	if (ref == NULL)
		return xdc_error(XDC_ENOTFOUND,
		    "%s: nothing fetched yet (no "
		    "--ref and no default branch)",
		    src->src_url);
	if (!strncmp(ref, "refs/heads/", 11))
		ref += 11;
	xdc_asprintf(&name, SOURCE_REMOTE_BRANCHES "%s", ref);
	if (git_revparse_single(&obj, src->src_repo, name) == 0)
		goto peel;
	free(name);
	xdc_asprintf(&name, "refs/tags/%s",
	    strncmp(ref, "refs/tags/", 10) == 0 ? ref + 10 : ref);
	if (git_revparse_single(&obj, src->src_repo, name) == 0)
		goto peel;
	if (is_hex(ref, 4, GIT_OID_HEXSZ) &&
	    git_oid_fromstrn(&oid, ref, strlen(ref)) == 0 &&
	    git_object_lookup_prefix(
	        &obj, src->src_repo, &oid, strlen(ref), GIT_OBJECT_COMMIT) == 0)
		goto peel;
	rc = xdc_error(XDC_ENOTFOUND,
	    "%s: no branch, tag or commit named %s "
	    "was fetched",
	    src->src_url, src->src_ref);
	goto out;
peel:
	if (git_object_peel((git_object **)out, obj, GIT_OBJECT_COMMIT) < 0) {
		rc = xdc_error(XDC_ERR, "%s: %s does not name a commit",
		    src->src_url, src->src_ref);
		goto out;
	}
	if (named != NULL) {
		*named = obj;
		obj = NULL;
	}
	rc = 0;
out:
	git_object_free(obj);
	free(name);
	return rc;
}

int
source_resolve(struct source *src, char commit[SOURCE_COMMIT_HEXSZ])
{
	git_commit *c = NULL;
	int rc;

	commit[0] = '\0';
	if (!source_is_git(src))
		return 0;
	if ((rc = cache_open(src)) || (rc = resolve(src, &c, NULL)))
		return rc;
	git_oid_tostr(commit, SOURCE_COMMIT_HEXSZ, git_commit_id(c));
	git_commit_free(c);
	return 0;
}

/* A .yaml or .yml blob of the tree, by its path in the repository. */
struct tree_file {
	char *tf_path;
	git_oid tf_oid;
};

struct tree_files {
	struct tree_file *tf_v;
	size_t tf_n;
	const char *tf_prefix; /* where the walk started, or NULL */
};

static int
has_yaml_suffix(const char *s)
{
	size_t n = strlen(s);

	return (n > 5 && !strcmp(s + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(s + n - 4, ".yml"));
}

static void
files_add(struct tree_files *tf, const char *root, const char *name,
    const git_oid *oid)
{
	struct tree_file *f;

	tf->tf_v = xdc_reallocarray(tf->tf_v, tf->tf_n + 1, sizeof(*tf->tf_v));
	f = &tf->tf_v[tf->tf_n++];
	if (tf->tf_prefix != NULL)
		xdc_asprintf(&f->tf_path, "%s/%s%s", tf->tf_prefix, root, name);
	else
		xdc_asprintf(&f->tf_path, "%s%s", root, name);
	git_oid_cpy(&f->tf_oid, oid);
}

/* As the directory loader: hidden entries skipped, links not followed. */
static int
walk_cb(const char *root, const git_tree_entry *e, void *arg)
{
	const char *name = git_tree_entry_name(e);

	if (name[0] == '.')
		return 1; /* skip it, and below it */
	if (git_tree_entry_type(e) == GIT_OBJECT_BLOB &&
	    git_tree_entry_filemode(e) != GIT_FILEMODE_LINK &&
	    has_yaml_suffix(name))
		files_add(arg, root, name, git_tree_entry_id(e));
	return 0;
}

static int
file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tree_file *)a)->tf_path,
	    ((const struct tree_file *)b)->tf_path);
}

static void
files_free(struct tree_files *tf)
{
	size_t i;

	for (i = 0; i < tf->tf_n; i++)
		free(tf->tf_v[i].tf_path);
	free(tf->tf_v);
}

/* The files the configuration is made of, in sorted path order. */
static int
tree_files(
    struct source *src, git_commit *c, const char *hex, struct tree_files *tf)
{
	git_tree *root = NULL, *sub = NULL;
	git_tree_entry *e = NULL;
	int rc;

	if (git_commit_tree(&root, c) < 0) {
		rc = git_fail(src, "cannot read the commit's tree");
		goto out;
	}
	if (src->src_path != NULL) {
		if (git_tree_entry_bypath(&e, root, src->src_path) < 0) {
			rc = xdc_error(XDC_ENOTFOUND,
			    "%s: commit %.12s has no "
			    "%s",
			    src->src_name, hex, src->src_path);
			goto out;
		}
		if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
			/* One file, as schema_load reads one file. */
			files_add(tf, "", src->src_path, git_tree_entry_id(e));
			rc = 0;
			goto out;
		}
		if (git_tree_entry_type(e) != GIT_OBJECT_TREE ||
		    git_tree_lookup(&sub, src->src_repo, git_tree_entry_id(e)) <
		        0) {
			rc = xdc_error(XDC_ERR,
			    "%s: %s is not a directory or a "
			    "file in commit %.12s",
			    src->src_name, src->src_path, hex);
			goto out;
		}
		tf->tf_prefix = src->src_path;
	}
	if (git_tree_walk(
	        sub != NULL ? sub : root, GIT_TREEWALK_PRE, walk_cb, tf) < 0) {
		rc = git_fail(src, "cannot walk the commit's tree");
		goto out;
	}
	if (tf->tf_n == 0) {
		rc = xdc_error(XDC_ENOTFOUND,
		    "%s: commit %.12s has no *.yaml "
		    "or *.yml files",
		    src->src_name, hex);
		goto out;
	}
	qsort(tf->tf_v, tf->tf_n, sizeof(*tf->tf_v), file_cmp);
	rc = 0;
out:
	git_tree_entry_free(e);
	git_tree_free(sub);
	git_tree_free(root);
	return rc;
}

/* ---- Checking signatures -------------------------------------------- */

/* The name of the tag REF names, for messages: REF without refs/tags/. */
static const char *
tag_name(const struct source *src)
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
static int
verdict_of(struct source *src, const git_object *named)
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
		    tag_name(src), &vd->vd_res);
		if (vd->vd_rc != 0)
			vd->vd_msg = xdc_strdup(xdc_error_last());
		verdict_free(src->src_vd);
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
source_check_start(struct source *src, int force, int *fd)
{
	git_object *named = NULL;
	git_commit *c = NULL;
	struct job *j;
	int rc = 0;

	*fd = -1;
	if (!source_is_git(src) || src->src_verify == NULL)
		return 0;
	if (src->src_check != NULL)
		return xdc_error(
		    XDC_ERETRY, "%s: a check is under way", src->src_url);
	/* Nothing fetched, or REF names nothing: the cycle says so. */
	if (cache_open(src) != 0 || resolve(src, &c, &named) != 0)
		goto out;
	if (!force && src->src_vd != NULL &&
	    git_oid_equal(&src->src_vd->vd_oid, git_object_id(named)))
		goto out;
	j = xdc_calloc(1, sizeof(*j));
	git_oid_cpy(&j->j_oid, git_object_id(named));
	j->j_name = xdc_strdup(tag_name(src));
	rc = job_start(src, JOB_CHECK, &src->src_check, j, fd);
out:
	git_object_free(named);
	git_commit_free(c);
	return rc;
}

int
source_checking(const struct source *src)
{
	return src->src_check != NULL;
}

void
source_check_cancel(struct source *src)
{
	if (src->src_check != NULL)
		verify_cancel(src->src_verify);
}

int
source_check_end(struct source *src)
{
	struct job *j;
	int rc;

	if ((rc = job_end(src, &src->src_check, &j)) != 0)
		return rc;
	if (j->j_vd != NULL) {
		verdict_free(src->src_vd);
		src->src_vd = j->j_vd;
		j->j_vd = NULL;
	}
	rc = j->j_rc;
	if (rc != 0)
		xdc_error(rc, "%s", j->j_msg);
	job_free(j);
	return rc;
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
	if ((rc = cache_open(src)) != 0)
		return rc;
	/* REF as resolve reads it: a branch first, else maybe a tag. */
	ref = src->src_ref;
	if (ref != NULL && !strncmp(ref, "refs/heads/", 11))
		ref += 11;
	if (ref != NULL)
		xdc_asprintf(&name, SOURCE_REMOTE_BRANCHES "%s", ref);
	is_branch = name != NULL &&
	            git_reference_lookup(&branch, src->src_repo, name) == 0;
	rc = verify_commit(src->src_verify, src->src_repo, hex,
	    is_branch || ref == NULL ? NULL : tag_name(src), res);
	git_reference_free(branch);
	free(name);
	return rc;
}

const char *
source_refusal_key(const struct source *src)
{
	return src->src_key;
}

/*
 * load_git through the cache of parses: a blob whose id the cache has for
 * its path is not read at all. Comparing each path's blob id with the one
 * its cached parse came from is the tree diff between this commit and the
 * last one loaded, without git_diff_tree_to_tree: the ids come with the
 * walk that lists the files anyway, and the last commit loaded need not
 * be the one in force (a bad commit, then the good one back).
 */
static int
load_git_cached(struct source *src, git_odb *odb, const struct tree_files *tf,
    struct xdc_config **out, struct xdc_diags *diags)
{
	struct schema_build *b;
	const struct tree_file *f;
	git_blob *blob = NULL;
	git_object_t type;
	size_t i, size;
	int rc;

	b = schema_build_begin(src->src_parses, src->src_name, diags);
	for (i = 0; i < tf->tf_n; i++) {
		f = &tf->tf_v[i];
		if (schema_build_reuse(
		        b, f->tf_path, f->tf_oid.id, GIT_OID_RAWSZ))
			continue;
		/* As load_git: a blob too big is refused by its header. */
		if (git_odb_read_header(&size, &type, odb, &f->tf_oid) < 0) {
			rc = git_fail(src, "cannot read a blob");
			goto out;
		}
		if (size > XDC_FILE_MAX) {
			schema_build_add(b, f->tf_path, f->tf_oid.id,
			    GIT_OID_RAWSZ, NULL, size);
			continue;
		}
		if (git_blob_lookup(&blob, src->src_repo, &f->tf_oid) < 0) {
			rc = git_fail(src, "cannot read a blob");
			goto out;
		}
		schema_build_add(b, f->tf_path, f->tf_oid.id, GIT_OID_RAWSZ,
		    git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
		git_blob_free(blob);
		blob = NULL;
	}
	rc = schema_build_finish(b, out);
	b = NULL;
out:
	git_blob_free(blob);
	schema_build_free(b);
	return rc;
}

static int
load_git(struct source *src, struct xdc_config **out, struct xdc_diags *diags,
    char commit[SOURCE_COMMIT_HEXSZ])
{
	struct tree_files tf = { NULL, 0, NULL };
	struct schema_loader *sl = NULL;
	git_object *named = NULL;
	git_commit *c = NULL;
	git_blob *blob = NULL;
	git_odb *odb = NULL;
	git_object_t type;
	size_t i, size;
	int rc;

	src->src_reason = VERIFY_GOOD;
	free(src->src_signer);
	free(src->src_key);
	src->src_signer = src->src_key = NULL;
	if ((rc = cache_open(src)) || (rc = resolve(src, &c, &named)))
		goto out;
	git_oid_tostr(commit, SOURCE_COMMIT_HEXSZ, git_commit_id(c));
	/* Nothing of an unverified commit is read (SPEC §10). */
	if (src->src_verify != NULL && (rc = verdict_of(src, named)))
		goto out;
	if ((rc = tree_files(src, c, commit, &tf)))
		goto out;
	if (git_repository_odb(&odb, src->src_repo) < 0) {
		rc = git_fail(src, "cannot open the object database");
		goto out;
	}
	if (src->src_parses != NULL) {
		rc = load_git_cached(src, odb, &tf, out, diags);
		goto out;
	}
	sl = schema_loader_new(src->src_name, diags);
	for (i = 0; i < tf.tf_n; i++) {
		/*
		 * The size from the object's header first: a 1 GiB blob of
		 * zeros is 1 MiB packed, and unpacking it to learn that it is
		 * too big took 1 GiB. The loader refuses it by its size.
		 */
		if (git_odb_read_header(&size, &type, odb, &tf.tf_v[i].tf_oid) <
		    0) {
			rc = git_fail(src, "cannot read a blob");
			goto out;
		}
		if (size > XDC_FILE_MAX) {
			schema_loader_add(sl, tf.tf_v[i].tf_path, NULL, size);
			continue;
		}
		if (git_blob_lookup(&blob, src->src_repo, &tf.tf_v[i].tf_oid) <
		    0) {
			rc = git_fail(src, "cannot read a blob");
			goto out;
		}
		schema_loader_add(sl, tf.tf_v[i].tf_path,
		    git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
		if (src->src_keep != NULL)
			src->src_keep(src->src_keep_arg, tf.tf_v[i].tf_path,
			    git_blob_rawcontent(blob),
			    (size_t)git_blob_rawsize(blob));
		git_blob_free(blob);
		blob = NULL;
	}
	rc = schema_loader_finish(sl, out);
	sl = NULL;
out:
	git_blob_free(blob);
	git_odb_free(odb);
	schema_loader_free(sl);
	files_free(&tf);
	git_object_free(named);
	git_commit_free(c);
	return rc;
}

void
source_keep(struct source *src, schema_keep_fn fn, void *arg)
{
	src->src_keep = fn;
	src->src_keep_arg = arg;
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

int
source_load(struct source *src, struct xdc_config **out,
    struct xdc_diags *diags, char commit[SOURCE_COMMIT_HEXSZ])
{
	commit[0] = '\0';
	*out = NULL;
	if (!source_is_git(src))
		return src->src_parses != NULL
		           ? schema_cache_load(
		                 src->src_parses, src->src_path, out, diags)
		           : schema_load_keep(src->src_path, out, diags,
		                 src->src_keep, src->src_keep_arg);
	return load_git(src, out, diags, commit);
}

void
source_keep_parses(struct source *src)
{
	if (src->src_parses == NULL)
		src->src_parses = schema_cache_new();
}

void
source_changed(struct source *src, const char *file)
{
	if (src->src_parses != NULL)
		schema_cache_stale(src->src_parses, file);
}

int
source_parse_counts(const struct source *src, size_t *parsed, size_t *reused)
{
	*parsed = *reused = 0;
	if (src->src_parses == NULL)
		return 0;
	schema_cache_counts(src->src_parses, parsed, reused);
	return 1;
}
