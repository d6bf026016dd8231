/*
 * What the source's files share, and nobody else: source.c (a source, its
 * URL and credentials, the state directory), source_fetch.c (fetching,
 * and the loop's fetch and check threads), source_read.c (resolving REF
 * and reading the configuration from the commit's tree) and
 * source_verify.c (the verdict on a signature). The structures of a
 * source and of a verdict, and the functions one file calls in another.
 * Not part of source.h's interface.
 */
#ifndef XDC_RECONCILER_SOURCE_PRIV_H
#define XDC_RECONCILER_SOURCE_PRIV_H

#include <stdatomic.h>

#include <git2.h>

#include "reconciler/source.h"
#include "reconciler/verify.h"
#include "schema/schema.h"

#define SOURCE_REMOTE_BRANCHES "refs/remotes/origin/"

struct job;

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

/* source.c: a source's name, its secrets, its release, libgit2's errors. */
void source_set_name(struct source *);
void source_secret_free(char *);
int source_password(const struct source *, char **out);
void source_verdict_free(struct verdict *);
void source_release(struct source *);
int source_git_fail(const struct source *, const char *what);

/* source_fetch.c: the cache repository, opened or made; a job let go. */
int source_cache_open(struct source *);
void source_job_abandon(struct job *, struct source *);

/* source_read.c: the commit REF names, and the object itself. */
int source_resolve_ref(struct source *, git_commit **out, git_object **named);

/* source_verify.c: REF as a tag's name; the verdict on what it names. */
const char *source_tag_name(const struct source *);
int source_verdict_of(struct source *, const git_object *named);

#endif
