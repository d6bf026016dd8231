/*
 * Reading a source's configuration (see source.h): REF resolved in the
 * cache repository to a commit (a branch, else a tag, else a commit id),
 * the commit's *.yaml and *.yml files listed from its tree, and each blob
 * handed to the loader -- or, with a cache of parses, only the blobs whose
 * ids changed. Nothing of a commit whose signature is refused is read
 * (source_verify.c). A path source is read by schema_load itself.
 */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "reconciler/source.h"
#include "reconciler/source_priv.h"
#include "reconciler/verify.h"
#include "base/error.h"
#include "schema/schema.h"

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
int
source_resolve_ref(struct source *src, git_commit **out, git_object **named)
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
	if ((rc = source_cache_open(src)) ||
	    (rc = source_resolve_ref(src, &c, NULL)))
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
		rc = source_git_fail(src, "cannot read the commit's tree");
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
		rc = source_git_fail(src, "cannot walk the commit's tree");
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
			rc = source_git_fail(src, "cannot read a blob");
			goto out;
		}
		if (size > XDC_FILE_MAX) {
			schema_build_add(b, f->tf_path, f->tf_oid.id,
			    GIT_OID_RAWSZ, NULL, size);
			continue;
		}
		if (git_blob_lookup(&blob, src->src_repo, &f->tf_oid) < 0) {
			rc = source_git_fail(src, "cannot read a blob");
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
	if ((rc = source_cache_open(src)) ||
	    (rc = source_resolve_ref(src, &c, &named)))
		goto out;
	git_oid_tostr(commit, SOURCE_COMMIT_HEXSZ, git_commit_id(c));
	/* Nothing of an unverified commit is read (SPEC §10). */
	if (src->src_verify != NULL && (rc = source_verdict_of(src, named)))
		goto out;
	if ((rc = tree_files(src, c, commit, &tf)))
		goto out;
	if (git_repository_odb(&odb, src->src_repo) < 0) {
		rc = source_git_fail(src, "cannot open the object database");
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
			rc = source_git_fail(src, "cannot read a blob");
			goto out;
		}
		if (size > XDC_FILE_MAX) {
			schema_loader_add(sl, tf.tf_v[i].tf_path, NULL, size);
			continue;
		}
		if (git_blob_lookup(&blob, src->src_repo, &tf.tf_v[i].tf_oid) <
		    0) {
			rc = source_git_fail(src, "cannot read a blob");
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
