/*
 * Configuration sources (reconciler/source.c): a path, and a git commit
 * read from a cache without a checkout. Each test makes its repository
 * with libgit2 in a directory of its own, commits to it, and points a
 * source at it as a local "remote".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <git2.h>

#include "reconciler/cli.h"
#include "reconciler/source.h"
#include "base/diag.h"
#include "base/error.h"
#include "schema/model.h"

#define VM_YAML(name)                                                          \
	"kind: VM\nname: " name "\nmemory: 512MiB\nvcpus: 1\n"                 \
	"kernel: /boot/vmlinuz\n"

struct fx {
	char dir[64];   /* everything of the test */
	char repo[96];  /* the "remote": a repository with a work tree */
	char state[96]; /* --state-dir */
	git_repository *r;
	struct cli cli;
	struct source *src;
};

static void
write_file(const char *dir, const char *rel, const char *text)
{
	char path[256], *slash;
	FILE *fp;

	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* Commit the work tree as it is (every file, added), on HEAD. */
static void
commit_all(struct fx *f, const char *msg, char hex[GIT_OID_HEXSZ + 1])
{
	git_index *idx = NULL;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_object *parent = NULL;
	git_oid tree_id, id;
	char *paths[] = { "*" };
	git_strarray ps = { paths, 1 };

	assert_int_equal(git_repository_index(&idx, f->r), 0);
	assert_int_equal(git_index_add_all(idx, &ps, 0, NULL, NULL), 0);
	assert_int_equal(git_index_update_all(idx, &ps, NULL, NULL), 0);
	assert_int_equal(git_index_write(idx), 0);
	assert_int_equal(git_index_write_tree(&tree_id, idx), 0);
	assert_int_equal(git_tree_lookup(&tree, f->r, &tree_id), 0);
	assert_int_equal(git_signature_new(&sig, "t", "t@t", 1700000000, 0), 0);
	if (git_revparse_single(&parent, f->r, "HEAD") != 0)
		parent = NULL;
	assert_int_equal(git_commit_create_v(&id, f->r, "HEAD", sig, sig, NULL,
	                     msg, tree, parent ? 1 : 0, parent),
	    0);
	git_oid_tostr(hex, GIT_OID_HEXSZ + 1, &id);
	git_object_free(parent);
	git_tree_free(tree);
	git_signature_free(sig);
	git_index_free(idx);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	git_libgit2_init();
	snprintf(f->dir, sizeof(f->dir), "/tmp/xdc-source-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->repo, sizeof(f->repo), "%s/repo", f->dir);
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	if (git_repository_init(&f->r, f->repo, 0) != 0 ||
	    git_repository_set_head(f->r, "refs/heads/main") != 0)
		return -1;
	f->cli.cl_prog = "xdc";
	f->cli.cl_driver = "sim";
	f->cli.cl_git = f->repo;
	f->cli.cl_ref = "main";
	f->cli.cl_state_dir = f->state;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	source_free(f->src);
	git_repository_free(f->r);
	git_libgit2_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Load through a fresh fetch; the caller frees *cfg. */
static int
load(struct fx *f, const char *path, struct xdc_config **cfg,
    struct xdc_diags *diags, char commit[SOURCE_COMMIT_HEXSZ])
{
	int rc;

	source_free(f->src);
	f->src = NULL;
	assert_int_equal(source_new(&f->cli, path, &f->src), 0);
	if ((rc = source_fetch(f->src)) != 0)
		return rc;
	return source_load(f->src, cfg, diags, commit);
}

static void
test_git_loads_the_commit_of_a_branch(void **state)
{
	struct fx *f = *state;
	struct xdc_diags *d = xdc_diags_new();
	struct xdc_config *cfg = NULL;
	char hex[GIT_OID_HEXSZ + 1], commit[SOURCE_COMMIT_HEXSZ];
	struct stat sb;

	write_file(f->repo, "vms/web-1.yaml", VM_YAML("web-1"));
	write_file(f->repo, "a.yml", VM_YAML("web-2"));
	write_file(f->repo, "README.md", "not configuration\n");
	write_file(f->repo, ".hidden/x.yaml", "not: read\n");
	write_file(f->repo, "vms/.swp.yaml", "not: read\n");
	commit_all(f, "one", hex);
	assert_int_equal(load(f, NULL, &cfg, d, commit), 0);
	assert_string_equal(commit, hex);
	assert_int_equal(cfg->cfg_nvms, 2);
	/* Files by their path in the repository, in sorted order. */
	assert_int_equal(cfg->cfg_nfiles, 2);
	assert_string_equal(cfg->cfg_files[1], "a.yml");
	assert_string_equal(cfg->cfg_files[2], "vms/web-1.yaml");
	assert_string_equal(source_name(f->src), cfg->cfg_path);
	assert_non_null(strstr(source_name(f->src), "@main"));
	/* The cache is bare and lives under the state directory. */
	assert_int_equal(stat(f->state, &sb), 0);
	assert_true(source_is_git(f->src));
	xdc_config_free(cfg);
	xdc_diags_free(d);
}

static void
test_git_ignores_the_work_tree(void **state)
{
	struct fx *f = *state;
	struct xdc_diags *d = xdc_diags_new();
	struct xdc_config *cfg = NULL;
	char hex[GIT_OID_HEXSZ + 1], commit[SOURCE_COMMIT_HEXSZ];

	write_file(f->repo, "web-1.yaml", VM_YAML("web-1"));
	commit_all(f, "one", hex);
	/* Uncommitted: a new file, and a change to a committed one. */
	write_file(f->repo, "web-2.yaml", VM_YAML("web-2"));
	write_file(f->repo, "web-1.yaml", "kind: VM\n");
	assert_int_equal(load(f, NULL, &cfg, d, commit), 0);
	assert_int_equal(cfg->cfg_nvms, 1);
	assert_string_equal(cfg->cfg_vms[0].vm_name, "web-1");
	xdc_config_free(cfg);
	xdc_diags_free(d);
}

static void
test_git_follows_new_commits(void **state)
{
	struct fx *f = *state;
	struct xdc_diags *d = xdc_diags_new();
	struct xdc_config *cfg = NULL;
	char one[GIT_OID_HEXSZ + 1], two[GIT_OID_HEXSZ + 1];
	char commit[SOURCE_COMMIT_HEXSZ];

	write_file(f->repo, "web-1.yaml", VM_YAML("web-1"));
	commit_all(f, "one", one);
	assert_int_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_int_equal(source_fetch(f->src), 0);
	assert_int_equal(source_resolve(f->src, commit), 0);
	assert_string_equal(commit, one);
	write_file(f->repo, "web-2.yaml", VM_YAML("web-2"));
	commit_all(f, "two", two);
	/* Not before a fetch ... */
	assert_int_equal(source_resolve(f->src, commit), 0);
	assert_string_equal(commit, one);
	/* ... and then. */
	assert_int_equal(source_fetch(f->src), 0);
	assert_int_equal(source_load(f->src, &cfg, d, commit), 0);
	assert_string_equal(commit, two);
	assert_int_equal(cfg->cfg_nvms, 2);
	xdc_config_free(cfg);
	xdc_diags_free(d);
}

static void
test_git_refs_tags_and_commit_ids(void **state)
{
	struct fx *f = *state;
	char one[GIT_OID_HEXSZ + 1], two[GIT_OID_HEXSZ + 1];
	char commit[SOURCE_COMMIT_HEXSZ], prefix[13];
	git_object *obj = NULL;
	git_oid tag;

	write_file(f->repo, "web-1.yaml", VM_YAML("web-1"));
	commit_all(f, "one", one);
	assert_int_equal(git_revparse_single(&obj, f->r, "HEAD"), 0);
	assert_int_equal(
	    git_tag_create_lightweight(&tag, f->r, "v1", obj, 0), 0);
	git_object_free(obj);
	write_file(f->repo, "web-2.yaml", VM_YAML("web-2"));
	commit_all(f, "two", two);

	f->cli.cl_ref = "v1";
	assert_int_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_int_equal(source_fetch(f->src), 0);
	assert_int_equal(source_resolve(f->src, commit), 0);
	assert_string_equal(commit, one);
	source_free(f->src);

	snprintf(prefix, sizeof(prefix), "%.12s", one);
	f->cli.cl_ref = prefix;
	assert_int_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_int_equal(source_fetch(f->src), 0);
	assert_int_equal(source_resolve(f->src, commit), 0);
	assert_string_equal(commit, one);
	source_free(f->src);

	f->cli.cl_ref = "no-such-branch";
	assert_int_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_int_equal(source_fetch(f->src), 0);
	assert_int_equal(source_resolve(f->src, commit), XDC_ENOTFOUND);
	assert_non_null(strstr(xdc_error_last(), "no-such-branch"));

	/* Without --ref: the remote's default branch. */
	source_free(f->src);
	f->cli.cl_ref = NULL;
	assert_int_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_int_equal(source_fetch(f->src), 0);
	assert_int_equal(source_resolve(f->src, commit), 0);
	assert_string_equal(commit, two);
	assert_non_null(strstr(source_name(f->src), "@main"));
}

static void
test_git_path_inside_the_tree(void **state)
{
	struct fx *f = *state;
	struct xdc_diags *d = xdc_diags_new();
	struct xdc_config *cfg = NULL;
	char hex[GIT_OID_HEXSZ + 1], commit[SOURCE_COMMIT_HEXSZ];

	write_file(f->repo, "prod/web-1.yaml", VM_YAML("web-1"));
	write_file(f->repo, "staging/web-9.yaml", VM_YAML("web-9"));
	commit_all(f, "one", hex);
	assert_int_equal(load(f, "./prod/", &cfg, d, commit), 0);
	assert_int_equal(cfg->cfg_nvms, 1);
	assert_string_equal(cfg->cfg_files[1], "prod/web-1.yaml");
	xdc_config_free(cfg);
	cfg = NULL;
	assert_int_equal(load(f, "staging/web-9.yaml", &cfg, d, commit), 0);
	assert_string_equal(cfg->cfg_vms[0].vm_name, "web-9");
	xdc_config_free(cfg);
	cfg = NULL;
	assert_int_equal(load(f, "nothing", &cfg, d, commit), XDC_ENOTFOUND);
	assert_null(cfg);
	source_free(f->src);
	assert_int_not_equal(source_new(&f->cli, "../escape", &f->src), 0);
	xdc_diags_free(d);
}

static void
test_git_errors_name_the_file_in_the_repository(void **state)
{
	struct fx *f = *state;
	struct xdc_diags *d = xdc_diags_new();
	struct xdc_config *cfg = NULL;
	char hex[GIT_OID_HEXSZ + 1], commit[SOURCE_COMMIT_HEXSZ];
	const struct xdc_diag *dg;

	write_file(f->repo, "vms/bad.yaml",
	    "kind: VM\nname: web-1\nmemory: lots\nvcpus: 1\n"
	    "kernel: /boot/vmlinuz\n");
	commit_all(f, "bad", hex);
	assert_int_equal(load(f, NULL, &cfg, d, commit), XDC_EINVALID);
	assert_null(cfg);
	assert_string_equal(commit, hex);
	assert_int_equal(xdc_diags_count(d), 1);
	dg = xdc_diags_get(d, 0);
	assert_string_equal(dg->dg_file, "vms/bad.yaml");
	assert_int_equal(dg->dg_line, 3);
	assert_int_equal(dg->dg_col, 9);
	xdc_diags_free(d);
}

static void
test_git_unreachable_keeps_the_cache(void **state)
{
	struct fx *f = *state;
	char hex[GIT_OID_HEXSZ + 1], commit[SOURCE_COMMIT_HEXSZ];
	char gone[128];

	write_file(f->repo, "web-1.yaml", VM_YAML("web-1"));
	commit_all(f, "one", hex);
	assert_int_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_int_equal(source_fetch(f->src), 0);
	snprintf(gone, sizeof(gone), "%s.gone", f->repo);
	assert_int_equal(rename(f->repo, gone), 0);
	assert_int_not_equal(source_fetch(f->src), 0);
	assert_non_null(strstr(xdc_error_last(), f->repo));
	/* What was fetched stays readable. */
	assert_int_equal(source_resolve(f->src, commit), 0);
	assert_string_equal(commit, hex);
	assert_int_equal(rename(gone, f->repo), 0);
}

static void
test_path_source(void **state)
{
	struct fx *f = *state;
	struct xdc_diags *d = xdc_diags_new();
	struct xdc_config *cfg = NULL;
	char dir[128], commit[SOURCE_COMMIT_HEXSZ];

	snprintf(dir, sizeof(dir), "%s/cfg", f->dir);
	write_file(dir, "web-1.yaml", VM_YAML("web-1"));
	f->cli.cl_git = NULL;
	f->cli.cl_ref = NULL;
	assert_int_equal(source_new(&f->cli, dir, &f->src), 0);
	assert_false(source_is_git(f->src));
	assert_string_equal(source_name(f->src), dir);
	assert_int_equal(source_fetch(f->src), 0);
	assert_int_equal(source_load(f->src, &cfg, d, commit), 0);
	assert_string_equal(commit, "");
	assert_int_equal(cfg->cfg_nvms, 1);
	xdc_config_free(cfg);
	xdc_diags_free(d);
	source_free(f->src);
	f->src = NULL;
	/* --ref without --git is a mistake. */
	f->cli.cl_ref = "main";
	assert_int_not_equal(source_new(&f->cli, dir, &f->src), 0);
}

static void
test_url_secrets_are_not_shown(void **state)
{
	struct fx *f = *state;

	f->cli.cl_verbose = -1; /* the warning about ps */
	f->cli.cl_git = "https://oauth2:s3cret@git.example.com/dc.git";
	assert_int_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_string_equal(
	    source_name(f->src), "https://git.example.com/dc.git@main");
	source_free(f->src);
	f->cli.cl_git = "ssh://git@git.example.com/dc.git";
	assert_int_equal(source_new(&f->cli, "prod", &f->src), 0);
	assert_string_equal(
	    source_name(f->src), "ssh://git@git.example.com/dc.git@main:prod");
	source_free(f->src);
	f->cli.cl_git = "ssh://deploy:hunter2@git.example.com:2222/dc.git";
	assert_int_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_string_equal(source_name(f->src),
	    "ssh://deploy@git.example.com:2222/dc.git@main");
	source_free(f->src);
	f->cli.cl_git = "https://git.example.com/dc.git?private_token=s3cret";
	assert_int_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_string_equal(source_name(f->src),
	    "https://git.example.com/dc.git?private_token=REDACTED@main");
}

static void
test_scrub_url(void **state)
{
	static const char *cases[][2] = {
		{ "https://u:p@h/x.git", "https://h/x.git" },
		{ "https://ghp_tok@github.com/o/r", "https://github.com/o/r" },
		{ "http://h:8080/x", "http://h:8080/x" },
		{ "ssh://git@h/x", "ssh://git@h/x" },
		{ "ssh://u:p@h/x", "ssh://u@h/x" },
		{ "git+ssh://u:p:q@h/x", "git+ssh://u@h/x" },
		{ "git://u@h/x", "git://h/x" },
		{ "https://h/x?token=abc", "https://h/x?token=REDACTED" },
		{ "https://h/x?a=1&token=abc;b", "https://h/x?a=REDACTED&"
		                                 "token=REDACTED;REDACTED" },
		{ "https://u:p@h?t=1#frag", "https://h?t=REDACTED#REDACTED" },
		{ "https://h/x#a@b", "https://h/x#REDACTED" },
		{ "git@h:o/r.git", "git@h:o/r.git" },
		{ "/srv/git/dc.git", "/srv/git/dc.git" },
		{ "./a://b", "./a://b" },
	};
	size_t i;
	char *got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = source_scrub_url(cases[i][0]);
		if (strcmp(got, cases[i][1]) != 0)
			fail_msg("scrub(%s) = %s, want %s", cases[i][0], got,
			    cases[i][1]);
		free(got);
	}
}

/* libgit2's error quotes the URL it was given: not its secrets. */
static void
test_fetch_errors_hide_secrets(void **state)
{
	struct fx *f = *state;

	f->cli.cl_verbose = -1;
	f->cli.cl_git = "http://u:pw-s3cret@127.0.0.1:1/dc.git?token=tk-s3cret";
	assert_int_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_int_not_equal(source_fetch(f->src), 0);
	if (strstr(xdc_error_last(), "s3cret") != NULL)
		fail_msg("the error shows a secret: %s", xdc_error_last());
	assert_non_null(strstr(
	    xdc_error_last(), "http://127.0.0.1:1/dc.git?token=REDACTED"));
}

/* XDC_GIT_TOKEN_FILE: only a file no other user can read or change. */
static void
test_token_file_must_be_private(void **state)
{
	struct fx *f = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/token", f->dir);
	write_file(f->dir, "token", "glpat-s3cret\n");
	setenv("XDC_GIT_TOKEN_FILE", path, 1);
	f->cli.cl_git = "https://git.example.com/dc.git";
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_not_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_non_null(strstr(xdc_error_last(), "mode 0644 lets other users"));
	assert_null(strstr(xdc_error_last(), "s3cret"));
	assert_int_equal(chmod(path, 0660), 0);
	assert_int_not_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(source_new(&f->cli, NULL, &f->src), 0);
	source_free(f->src);
	f->src = NULL;
	unlink(path);
	assert_int_not_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_non_null(strstr(xdc_error_last(), "XDC_GIT_TOKEN_FILE"));
	write_file(f->dir, "token", "\n");
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_not_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_non_null(strstr(xdc_error_last(), "empty"));
	unsetenv("XDC_GIT_TOKEN_FILE");
}

static void
test_state_dir_rules(void **state)
{
	struct fx *f = *state;
	struct cli cli;
	char *dir = NULL;

	(void)f;
	memset(&cli, 0, sizeof(cli));
	cli.cl_state_dir = "/srv/xdc";
	assert_int_equal(source_state_dir(&cli, &dir), 0);
	assert_string_equal(dir, "/srv/xdc");
	free(dir);
	cli.cl_state_dir = NULL;
	cli.cl_driver = "sim";
	assert_int_equal(source_state_dir(&cli, &dir), 0);
	assert_string_equal(dir, ".xdc");
	free(dir);
	cli.cl_state = "/tmp/pools/a.json";
	assert_int_equal(source_state_dir(&cli, &dir), 0);
	assert_string_equal(dir, "/tmp/pools");
	free(dir);
	cli.cl_state = "pool.json";
	assert_int_equal(source_state_dir(&cli, &dir), 0);
	assert_string_equal(dir, ".");
	free(dir);
	cli.cl_driver = "xen";
	assert_int_equal(source_state_dir(&cli, &dir), 0);
	assert_string_equal(dir, "/var/lib/xdc");
	free(dir);
}

/* ---- The fetch in a thread of its own -------------------------------- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait at most ms for fd to be readable; 1 when it is. */
static int
readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) == 1;
}

static void
test_git_fetch_in_a_thread(void **state)
{
	struct fx *f = *state;
	struct xdc_diags *d = xdc_diags_new();
	struct xdc_config *cfg = NULL;
	char one[GIT_OID_HEXSZ + 1], commit[SOURCE_COMMIT_HEXSZ];
	int fd, fd2;

	write_file(f->repo, "web-1.yaml", VM_YAML("web-1"));
	commit_all(f, "one", one);
	/* No --ref: the remote's default branch, learnt by the thread. */
	f->cli.cl_ref = NULL;
	assert_int_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_int_equal(source_fetch_start(f->src, &fd), 0);
	assert_true(source_fetching(f->src));
	/* One at a time. */
	assert_int_equal(source_fetch_start(f->src, &fd2), XDC_ERETRY);
	assert_true(readable(fd, 10000));
	assert_int_equal(source_fetch_end(f->src), 0);
	assert_false(source_fetching(f->src));
	assert_non_null(strstr(source_name(f->src), "@main"));
	assert_int_equal(source_load(f->src, &cfg, d, commit), 0);
	assert_string_equal(commit, one);
	xdc_config_free(cfg);
	xdc_diags_free(d);
}

static void
test_git_fetch_thread_failure_is_its_result(void **state)
{
	struct fx *f = *state;
	int fd;

	f->cli.cl_git = "/nonexistent/repository";
	assert_int_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_int_equal(source_fetch_start(f->src, &fd), 0);
	assert_true(readable(fd, 10000));
	assert_int_not_equal(source_fetch_end(f->src), 0);
	assert_non_null(strstr(xdc_error_last(), "/nonexistent/repository"));
	assert_false(source_fetching(f->src));
}

/*
 * A remote that accepts the connection and never answers (the kernel
 * accepts it into the listen backlog): the fetch hangs, the caller does
 * not; source_free returns at once and leaves the thread behind.
 */
static void
test_git_hung_fetch_is_abandoned(void **state)
{
	struct fx *f = *state;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char url[64];
	int64_t t0;
	int lfd, fd;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	snprintf(url, sizeof(url), "git://127.0.0.1:%u/x",
	    (unsigned)ntohs(sa.sin_port));
	f->cli.cl_git = url;
	assert_int_equal(source_new(&f->cli, NULL, &f->src), 0);
	assert_int_equal(source_fetch_start(f->src, &fd), 0);
	/* Still under way a while later: no answer, no end. */
	assert_false(readable(fd, 300));
	assert_int_equal(source_fetch_end(f->src), XDC_ERETRY);
	assert_true(source_fetching(f->src));
	source_fetch_cancel(f->src);
	t0 = now_ms();
	source_free(f->src);
	f->src = NULL;
	assert_true(now_ms() - t0 < 100);
	close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_git_loads_the_commit_of_a_branch, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_git_ignores_the_work_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_git_follows_new_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_git_refs_tags_and_commit_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_git_path_inside_the_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_git_errors_name_the_file_in_the_repository, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_git_unreachable_keeps_the_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_path_source, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_url_secrets_are_not_shown, setup, teardown),
		cmocka_unit_test(test_scrub_url),
		cmocka_unit_test_setup_teardown(
		    test_fetch_errors_hide_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_token_file_must_be_private, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_state_dir_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_git_fetch_in_a_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_git_fetch_thread_failure_is_its_result, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_git_hung_fetch_is_abandoned, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
