/*
 * Fetching a git source (see source.h): every branch of the remote to
 * refs/remotes/origin/ and every tag to refs/tags/ of the cache repository
 * (source.c), through an anonymous remote, with the credentials the
 * environment gives. The loop's fetch, and its check of a commit's
 * signature (source_verify.c), run in threads of their own on a copy of
 * the source, and say they ended through an eventfd the loop polls.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "reconciler/source.h"
#include "reconciler/source_priv.h"
#include "reconciler/verify.h"
#include "base/error.h"

#define SOURCE_GIT_USER "xdc" /* with a token, and no user given */

/* ---- Fetching --------------------------------------------------------- */

int
source_cache_open(struct source *src)
{
	struct stat st;
	char *parent = NULL;
	int rc;

	if (src->src_repo != NULL)
		return 0;
	if (stat(src->src_cache, &st) == 0) {
		if (git_repository_open_bare(&src->src_repo, src->src_cache) <
		    0)
			return source_git_fail(src, "cannot open the cache");
		return 0;
	}
	xdc_asprintf(&parent, "%s/git", src->src_state_dir);
	rc = source_mkdirs(parent);
	free(parent);
	if (rc != 0)
		return rc;
	if (git_repository_init(&src->src_repo, src->src_cache, 1) < 0)
		return source_git_fail(src, "cannot create the cache");
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
			source_secret_free(pass);
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
	if ((rc = source_cache_open(src)))
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
		rc = source_git_fail(src, "cannot fetch");
		goto out;
	}
	if (git_remote_connect(remote, GIT_DIRECTION_FETCH, &cbs, NULL, NULL) <
	    0) {
		rc = source_git_fail(src, "cannot fetch");
		goto out;
	}
	/* Without --ref, follow what the remote's HEAD names. */
	if (src->src_ref == NULL) {
		if (git_remote_default_branch(&head, remote) < 0) {
			rc = source_git_fail(src,
			    "no --ref given and the remote has "
			    "no default branch");
			goto out;
		}
		src->src_ref = xdc_strdup(
		    strncmp(head.ptr, "refs/heads/", 11) == 0 ? head.ptr + 11
		                                              : head.ptr);
		source_set_name(src);
	}
	if (git_remote_download(remote, &refspecs, &opts) < 0 ||
	    git_remote_update_tips(remote, &cbs, 0,
	        GIT_REMOTE_DOWNLOAD_TAGS_NONE, "xdc fetch") < 0 ||
	    git_remote_prune(remote, &cbs) < 0) {
		rc = source_git_fail(src, "cannot fetch");
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
	source_verdict_free(j->j_vd);
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
	if ((rc = source_cache_open(src)) == 0) {
		if (git_object_lookup(
		        &obj, src->src_repo, &j->j_oid, GIT_OBJECT_ANY) < 0)
			rc = source_git_fail(
			    src, "cannot read the commit to check");
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

void
source_job_abandon(struct job *j, struct source *src)
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
	if ((rc = source_cache_open(src)))
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
		source_set_name(src);
	}
	rc = j->j_rc;
	if (rc != 0)
		xdc_error(rc, "%s", j->j_msg);
	job_free(j);
	return rc;
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
	if (source_cache_open(src) != 0 ||
	    source_resolve_ref(src, &c, &named) != 0)
		goto out;
	if (!force && src->src_vd != NULL &&
	    git_oid_equal(&src->src_vd->vd_oid, git_object_id(named)))
		goto out;
	j = xdc_calloc(1, sizeof(*j));
	git_oid_cpy(&j->j_oid, git_object_id(named));
	j->j_name = xdc_strdup(source_tag_name(src));
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
		source_verdict_free(src->src_vd);
		src->src_vd = j->j_vd;
		j->j_vd = NULL;
	}
	rc = j->j_rc;
	if (rc != 0)
		xdc_error(rc, "%s", j->j_msg);
	job_free(j);
	return rc;
}
