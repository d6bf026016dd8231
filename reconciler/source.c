/*
 * Configuration sources (see source.h): a source and its state directory.
 * A git source keeps a bare repository per remote under
 * STATE_DIR/git/<hash of the URL>.git (source_fetch.c fetches into it),
 * and its configuration is read from a commit's tree, blob by blob
 * (source_read.c), so no work tree exists and nothing uncommitted can
 * leak in. Here: the state directory, a source's making and freeing, and
 * what its URL may carry -- credentials to keep out of messages, a token
 * to read from the environment or a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "reconciler/cli.h"
#include "reconciler/source.h"
#include "reconciler/source_priv.h"
#include "reconciler/verify.h"
#include "base/error.h"
#include "base/file.h"
#include "schema/schema.h"

#define SOURCE_SIM_POOL      ".xdc/sim.json" /* cli_driver.c's default */
#define SOURCE_XEN_STATE_DIR "/var/lib/xdc"

static void source_destroy(struct source *);

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

void
source_set_name(struct source *src)
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

void
source_secret_free(char *s)
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
		source_secret_free(s);
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
int
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
		source_set_name(src);
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
	source_set_name(src);
	*out = src;
	src = NULL;
	rc = 0;
out:
	source_secret_free(pass);
	source_free(src);
	return rc;
}

void
source_verdict_free(struct verdict *vd)
{
	if (vd == NULL)
		return;
	free(vd->vd_msg);
	verify_result_free(&vd->vd_res);
	free(vd);
}

/* One of those holding src lets it go: the last frees it. */
void
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
		source_job_abandon(src->src_fetch, src);
	if (src->src_check != NULL)
		source_job_abandon(src->src_check, src);
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
	source_secret_free(src->src_pass);
	source_secret_free(src->src_given);
	free(src->src_ref);
	free(src->src_state_dir);
	free(src->src_cache);
	free(src->src_name);
	verify_free(src->src_verify);
	free(src->src_signer);
	free(src->src_key);
	source_verdict_free(src->src_vd);
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
int
source_git_fail(const struct source *src, const char *what)
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
