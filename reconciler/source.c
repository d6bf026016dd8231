/*
 * Configuration sources (see source.h). A git source keeps a bare
 * repository per remote under STATE_DIR/git/<hash of the URL>.git and
 * fetches into it with an anonymous remote, every branch to
 * refs/remotes/origin/ and every tag to refs/tags/ (see specs below); the
 * configuration is then read from the commit's tree, blob by blob, so
 * no work tree exists and nothing uncommitted can leak in.
 */
#include <errno.h>
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
#include "base/arena.h"
#include "base/error.h"
#include "schema/schema.h"

#define SOURCE_SIM_POOL        ".xdc/sim.json" /* cli_driver.c's default */
#define SOURCE_XEN_STATE_DIR   "/var/lib/xdc"
#define SOURCE_REMOTE_BRANCHES "refs/remotes/origin/"

struct source {
	char *src_path; /* path mode: PATH; git: the path in the tree or NULL */
	char *src_url;  /* --git as shown: without an https password */
	char *src_remote; /* what libgit2 is given: a directory made absolute */
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
	int src_cred_tries;      /* per fetch: give up rather than loop */
	struct fetch *src_fetch; /* a fetch in its own thread, or NULL */
};

static void fetch_abandon(struct fetch *, struct source *);

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

/*
 * An http(s) URL's user and password (a token, often) are kept out of
 * names, logs, status and metrics, and out of the cache's name: the shown
 * URL has no userinfo. Other URLs are shown as given.
 */
static void
split_url(struct source *src, const char *url)
{
	const char *host, *end, *at, *colon;

	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
		goto as_is;
	host = strstr(url, "://") + 3;
	end = host + strcspn(host, "/");
	for (at = NULL, colon = host; colon < end; colon++)
		if (*colon == '@')
			at = colon;
	if (at == NULL)
		goto as_is;
	colon = memchr(host, ':', (size_t)(at - host));
	if (colon != NULL) {
		src->src_user = xdc_malloc((size_t)(colon - host) + 1);
		memcpy(src->src_user, host, (size_t)(colon - host));
		src->src_user[colon - host] = '\0';
		src->src_pass = xdc_malloc((size_t)(at - colon));
		memcpy(src->src_pass, colon + 1, (size_t)(at - colon - 1));
		src->src_pass[at - colon - 1] = '\0';
	} else {
		src->src_user = xdc_malloc((size_t)(at - host) + 1);
		memcpy(src->src_user, host, (size_t)(at - host));
		src->src_user[at - host] = '\0';
	}
	xdc_asprintf(&src->src_url, "%.*s%s", (int)(host - url), url, at + 1);
	return;
as_is:
	src->src_url = xdc_strdup(url);
}

int
source_new(const struct cli *cli, const char *path, struct source **out)
{
	struct source *src = xdc_calloc(1, sizeof(*src));
	char real[PATH_MAX];
	struct stat st;
	int rc;

	*out = NULL;
	if (cli->cl_git == NULL) {
		if (cli->cl_ref != NULL) {
			rc = xdc_error(XDC_ERR, "--ref goes with --git");
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
	split_url(src, cli->cl_git);
	/* A local directory names the same remote from any directory. */
	if (stat(cli->cl_git, &st) == 0 && S_ISDIR(st.st_mode) &&
	    realpath(cli->cl_git, real) != NULL) {
		src->src_remote = xdc_strdup(real);
		free(src->src_url);
		src->src_url = xdc_strdup(cli->cl_git);
	} else {
		/* The secret reaches libgit2 through the callback only. */
		src->src_remote = xdc_strdup(
		    src->src_user != NULL ? src->src_url : cli->cl_git);
	}
	if (cli->cl_ref != NULL)
		src->src_ref = xdc_strdup(cli->cl_ref);
	if ((rc = source_state_dir(cli, &src->src_state_dir)))
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
	source_free(src);
	return rc;
}

void
source_free(struct source *src)
{
	if (src == NULL)
		return;
	/* A fetch thread still reads src: it frees src when it ends. */
	if (src->src_fetch != NULL) {
		fetch_abandon(src->src_fetch, src);
		return;
	}
	git_repository_free(src->src_repo);
	if (src->src_git)
		git_libgit2_shutdown();
	free(src->src_path);
	free(src->src_url);
	free(src->src_remote);
	free(src->src_user);
	if (src->src_pass != NULL)
		explicit_bzero(src->src_pass, strlen(src->src_pass));
	free(src->src_pass);
	free(src->src_ref);
	free(src->src_state_dir);
	free(src->src_cache);
	free(src->src_name);
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

/* libgit2's last error as ours, with a prefix. */
static int
git_fail(const struct source *src, const char *what)
{
	const git_error *e = git_error_last();

	return xdc_error(XDC_ERR, "%s: %s: %s", src->src_url, what,
	    e != NULL && e->message != NULL ? e->message : "unknown error");
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
 * Credentials, tried once per fetch: https takes the user and password (a
 * token) of the URL; ssh takes the key file XDC_GIT_SSH_KEY names (with
 * XDC_GIT_SSH_PASSPHRASE), else the ssh agent's keys.
 */
static int
cb_credentials(git_credential **out, const char *url, const char *user,
    unsigned int allowed, void *arg)
{
	struct source *src = arg;
	const char *key = getenv("XDC_GIT_SSH_KEY");

	(void)url;
	if (src->src_cred_tries++ > 0)
		return GIT_PASSTHROUGH;
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) &&
	    src->src_user != NULL)
		return git_credential_userpass_plaintext_new(out, src->src_user,
		    src->src_pass != NULL ? src->src_pass : "");
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

/* ---- Fetching in a thread of its own ---------------------------------- */

/*
 * libgit2 1.5 has no timeout for a server that accepts a connection and
 * never answers: a fetch may block for ever in recv(). So the loop's
 * fetch runs in a thread, on a copy of the source of its own (its own
 * repository handle, name and ref; the other strings borrowed, as they
 * never change), and says it ended through an eventfd the loop polls.
 * A thread that hangs is never joined: source_free hands it the source,
 * and whichever of the two comes last frees it all.
 */
enum { FETCH_RUNNING, FETCH_DONE, FETCH_ABANDONED };

struct fetch {
	struct source *f_copy;  /* what the thread works on */
	struct source *f_owner; /* the loop's source, once abandoned */
	pthread_t f_thread;
	atomic_int f_state;
	atomic_int f_cancel;
	int f_fd; /* eventfd, written when the fetch ends */
	int f_rc;
	char *f_msg;
};

static int
fetch_cancelled(void *arg)
{
	struct fetch *f = arg;

	return atomic_load(&f->f_cancel);
}

static void
fetch_free(struct fetch *f)
{
	git_repository_free(f->f_copy->src_repo);
	free(f->f_copy->src_ref);
	free(f->f_copy->src_name);
	free(f->f_copy);
	if (f->f_fd >= 0)
		close(f->f_fd);
	free(f->f_msg);
	free(f);
}

static void *
fetch_main(void *arg)
{
	struct fetch *f = arg;
	struct source *owner;
	uint64_t one = 1;

	/* Its own hold on libgit2: the loop's may end before this does. */
	if (git_libgit2_init() < 0) {
		f->f_rc = XDC_ERR;
		f->f_msg = xdc_strdup("cannot initialise libgit2");
	} else {
		f->f_rc = source_fetch(f->f_copy);
		if (f->f_rc != 0)
			f->f_msg = xdc_strdup(xdc_error_last());
		git_repository_free(f->f_copy->src_repo);
		f->f_copy->src_repo = NULL;
		git_libgit2_shutdown();
	}
	(void)!write(f->f_fd, &one, sizeof(one));
	if (atomic_exchange(&f->f_state, FETCH_DONE) == FETCH_ABANDONED) {
		owner = f->f_owner;
		fetch_free(f);
		owner->src_fetch = NULL;
		source_free(owner);
	}
	return NULL;
}

int
source_fetch_start(struct source *src, int *fd)
{
	struct fetch *f;
	sigset_t all, old;
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
	f = xdc_calloc(1, sizeof(*f));
	f->f_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (f->f_fd < 0) {
		free(f);
		return xdc_error_sys(XDC_ERR, "cannot make an eventfd");
	}
	f->f_copy = xdc_malloc(sizeof(*f->f_copy));
	*f->f_copy = *src;
	f->f_copy->src_repo = NULL;
	f->f_copy->src_git = 0;
	f->f_copy->src_fetch = NULL;
	f->f_copy->src_ref = src->src_ref ? xdc_strdup(src->src_ref) : NULL;
	f->f_copy->src_name = xdc_strdup(src->src_name);
	f->f_copy->src_cancel = fetch_cancelled;
	f->f_copy->src_cancel_arg = f;
	atomic_init(&f->f_state, FETCH_RUNNING);
	atomic_init(&f->f_cancel, 0);
	/* Signals are the loop's (its signalfd), never the thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&f->f_thread, NULL, fetch_main, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		fetch_free(f);
		errno = rc;
		return xdc_error_sys(XDC_ERR, "cannot start a fetch thread");
	}
	src->src_fetch = f;
	*fd = f->f_fd;
	return 0;
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
		atomic_store(&src->src_fetch->f_cancel, 1);
}

int
source_fetch_end(struct source *src)
{
	struct fetch *f = src->src_fetch;
	uint64_t n;
	int rc;

	if (f == NULL)
		return xdc_error(XDC_ERR, "no fetch is under way");
	if (read(f->f_fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return xdc_error(
		    XDC_ERETRY, "%s: the fetch is under way", src->src_url);
	/* It said it ended: it only has to return. */
	pthread_join(f->f_thread, NULL);
	/* The remote's default branch, when no --ref named one. */
	if (src->src_ref == NULL && f->f_copy->src_ref != NULL) {
		src->src_ref = xdc_strdup(f->f_copy->src_ref);
		set_name(src);
	}
	rc = f->f_rc;
	if (rc != 0)
		xdc_error(rc, "%s", f->f_msg);
	src->src_fetch = NULL;
	fetch_free(f);
	return rc;
}

static void
fetch_abandon(struct fetch *f, struct source *src)
{
	atomic_store(&f->f_cancel, 1);
	f->f_owner = src;
	if (atomic_exchange(&f->f_state, FETCH_ABANDONED) == FETCH_DONE) {
		/* It ended meanwhile: join it and free it all now. */
		pthread_join(f->f_thread, NULL);
		fetch_free(f);
		src->src_fetch = NULL;
		source_free(src);
		return;
	}
	/* It may never return: it is not waited for, and frees src. */
	pthread_detach(f->f_thread);
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

/* The commit REF names: a branch, else a tag, else a commit id. */
static int
resolve(struct source *src, git_commit **out)
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
	if ((rc = cache_open(src)) || (rc = resolve(src, &c)))
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

static int
load_git(struct source *src, struct xdc_config **out, struct xdc_diags *diags,
    char commit[SOURCE_COMMIT_HEXSZ])
{
	struct tree_files tf = { NULL, 0, NULL };
	struct schema_loader *sl = NULL;
	git_commit *c = NULL;
	git_blob *blob = NULL;
	size_t i;
	int rc;

	if ((rc = cache_open(src)) || (rc = resolve(src, &c)))
		goto out;
	git_oid_tostr(commit, SOURCE_COMMIT_HEXSZ, git_commit_id(c));
	if ((rc = tree_files(src, c, commit, &tf)))
		goto out;
	sl = schema_loader_new(src->src_name, diags);
	for (i = 0; i < tf.tf_n; i++) {
		if (git_blob_lookup(&blob, src->src_repo, &tf.tf_v[i].tf_oid) <
		    0) {
			rc = git_fail(src, "cannot read a blob");
			goto out;
		}
		schema_loader_add(sl, tf.tf_v[i].tf_path,
		    git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
		git_blob_free(blob);
		blob = NULL;
	}
	rc = schema_loader_finish(sl, out);
	sl = NULL;
out:
	git_blob_free(blob);
	schema_loader_free(sl);
	files_free(&tf);
	git_commit_free(c);
	return rc;
}

int
source_load(struct source *src, struct xdc_config **out,
    struct xdc_diags *diags, char commit[SOURCE_COMMIT_HEXSZ])
{
	commit[0] = '\0';
	*out = NULL;
	if (!source_is_git(src))
		return schema_load(src->src_path, out, diags);
	return load_git(src, out, diags, commit);
}
