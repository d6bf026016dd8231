/*
 * The loader's files: which files a configuration is, reading each whole
 * into load_buffer (load.c), the loader's life (new, add, finish, free)
 * and the model that check.c's rules run on once everything is read.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "base/error.h"
#include "base/file.h"
#include "base/strtab.h"
#include "schema/loader.h"
#include "schema/schema.h"
#include "schema/values.h"

/* ---- Files ------------------------------------------------------------ */

uint32_t
loader_file_add(struct loader *l, const char *file)
{
	if (l->l_nfiles + 1 >= l->l_cap_files) {
		l->l_cap_files = l->l_cap_files ? l->l_cap_files * 2 : 16;
		l->l_files = xdc_reallocarray(
		    l->l_files, l->l_cap_files, sizeof(*l->l_files));
	}
	l->l_files[++l->l_nfiles] = xdc_arena_strdup(l->l_arena, file);
	return (uint32_t)l->l_nfiles;
}

struct schema_loader *
schema_loader_new(const char *root, struct xdc_diags *diags)
{
	struct loader *l = xdc_calloc(1, sizeof(*l));

	l->l_diags = diags;
	l->l_arena = xdc_arena_new();
	l->l_nodes = xdc_arena_new();
	l->l_shared = xdc_strtab_new(l->l_arena);
	l->l_shared_labels = xdc_calloc(1, sizeof(*l->l_shared_labels));
	l->l_root = xdc_arena_strdup(l->l_arena, root);
	/* Locations index files from 1, so that 0 can mean "nowhere". */
	l->l_cap_files = 16;
	l->l_files = xdc_calloc(l->l_cap_files, sizeof(*l->l_files));
	l->l_files[0] = "";
	return (struct schema_loader *)l;
}

void
schema_loader_free(struct schema_loader *sl)
{
	struct loader *l = (struct loader *)sl;
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < KIND__COUNT; i++)
		free(l->l_kinds[i].ka_v);
	free(l->l_files);
	free(l->l_wide);
	xdc_strtab_free(l->l_shared);
	labtab_free(l->l_shared_labels);
	xdc_arena_free(l->l_nodes);
	xdc_arena_free(l->l_arena);
	free(l);
}

void
schema_loader_add(
    struct schema_loader *sl, const char *file, const char *buf, size_t len)
{
	struct loader *l = (struct loader *)sl;
	struct node at = { 0 };

	l->l_file = loader_file_add(l, file);
	if (len > XDC_FILE_MAX) {
		at.nd_line = at.nd_col = 1;
		loader_diag(
		    l, &at, "the file is larger than 16 MiB (%zu bytes)", len);
		return;
	}
	load_buffer(l, buf, len);
}

struct sort_arg {
	const struct loader *sa_l;
	const struct object_type *sa_t;
};

/* Order by name, then by where declared, so duplicates sit together. */
static int
object_cmp(const void *a, const void *b, void *arg)
{
	const struct sort_arg *sa = arg;
	const struct loader *l = sa->sa_l;
	const struct object_type *t = sa->sa_t;
	struct xdc_loc la, lb;
	int c;

	c = strcmp(*(const char *const *)a, *(const char *const *)b);
	if (c != 0)
		return c;
	/* Their first fields: where each was declared. */
	la = loader_loc(l,
	    (const struct xdc_at *)(const void *)((const char *)a +
	                                          t->o_at_off),
	    *(const uint32_t *)(const void *)((const char *)a + t->o_pos_off));
	lb = loader_loc(l,
	    (const struct xdc_at *)(const void *)((const char *)b +
	                                          t->o_at_off),
	    *(const uint32_t *)(const void *)((const char *)b + t->o_pos_off));
	return loc_before(la, lb) ? -1 : loc_before(lb, la);
}

int
schema_loader_finish(struct schema_loader *sl, struct xdc_config **out)
{
	struct loader *l = (struct loader *)sl;
	struct xdc_config *cfg;
	struct kind_array *a;
	struct sort_arg sa;
	size_t i, n, size;
	void *v;
	int rc;

	cfg = xdc_calloc(1, sizeof(*cfg));
	cfg->cfg_path = l->l_root;
	cfg->cfg_nfiles = l->l_nfiles;
	cfg->cfg_files = xdc_arena_alloc(
	    l->l_arena, (l->l_nfiles + 1) * sizeof(*cfg->cfg_files));
	memcpy(cfg->cfg_files, l->l_files,
	    (l->l_nfiles + 1) * sizeof(*cfg->cfg_files));

	/*
	 * Hand each kind's array to the arena, sorted by name. It is not
	 * copied: for 100,000 VMs a copy would be 36 MB more at the peak.
	 */
	for (i = 0; i < KIND__COUNT; i++) {
		a = &l->l_kinds[i];
		size = schema_kinds[i]->o_size;
		sa.sa_l = l;
		sa.sa_t = schema_kinds[i];
		if (a->ka_n > 1)
			qsort_r(a->ka_v, a->ka_n, size, object_cmp, &sa);
		n = a->ka_n;
		if (n == 0) {
			v = xdc_arena_alloc(l->l_arena, 1);
		} else {
			v = xdc_arena_adopt(
			    l->l_arena, xdc_reallocarray(a->ka_v, n, size));
			a->ka_v = NULL;
			a->ka_n = a->ka_cap = 0;
		}
		switch (i) {
		case KIND_HOST:
			cfg->cfg_hosts = v;
			cfg->cfg_nhosts = n;
			break;
		case KIND_NETWORK:
			cfg->cfg_networks = v;
			cfg->cfg_nnetworks = n;
			break;
		case KIND_VM:
			cfg->cfg_vms = v;
			cfg->cfg_nvms = n;
			break;
		case KIND_SLA:
			cfg->cfg_slas = v;
			cfg->cfg_nslas = n;
			break;
		case KIND_SCOPE:
			cfg->cfg_scopes = v;
			cfg->cfg_nscopes = n;
			break;
		}
	}
	/* Complete now: the checks read locations through cfg_wide. */
	cfg->cfg_wide = xdc_arena_adopt(l->l_arena, l->l_wide);
	l->l_wide = NULL;
	l->l_nwide = l->l_cap_wide = 0;
	check_config(l, cfg);

	/* Everything the configuration refers to is in this arena. */
	cfg->cfg_arena = l->l_arena;
	l->l_arena = NULL;

	if (xdc_diags_count(l->l_diags) > 0) {
		xdc_diags_sort(l->l_diags);
		xdc_config_free(cfg);
		rc = XDC_EINVALID;
	} else {
		*out = cfg;
		rc = 0;
	}
	schema_loader_free(sl);
	return rc;
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

struct file_list {
	char **fl_v;
	size_t fl_n;
	size_t fl_cap;
};

static void
file_list_add(struct file_list *fl, char *path)
{
	if (fl->fl_n == fl->fl_cap) {
		fl->fl_cap = fl->fl_cap ? fl->fl_cap * 2 : 16;
		fl->fl_v =
		    xdc_reallocarray(fl->fl_v, fl->fl_cap, sizeof(*fl->fl_v));
	}
	fl->fl_v[fl->fl_n++] = path;
}

static int
walk_dir(const char *dir, struct file_list *fl)
{
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	char *path = NULL;
	int rc = XDC_ERR;

	if ((d = opendir(dir)) == NULL) {
		rc = xdc_error_sys(XDC_ERR, "%s", dir);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		/* Hidden entries (., .., .git, editor files) are not config. */
		if (de->d_name[0] == '.')
			continue;
		xdc_asprintf(&path, "%s%s%s", dir,
		    has_suffix(dir, "/") ? "" : "/", de->d_name);
		if (lstat(path, &st) != 0) {
			rc = xdc_error_sys(XDC_ERR, "%s", path);
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			if ((rc = walk_dir(path, fl)) != 0)
				goto out;
		} else if (has_suffix(de->d_name, ".yaml") ||
		           has_suffix(de->d_name, ".yml")) {
			/*
			 * A link to a file is followed; a link to a directory
			 * is not, so a loop of links cannot hang the walk. A
			 * FIFO or a device, linked or not, is listed, to be
			 * refused by name (schema_load).
			 */
			if (S_ISLNK(st.st_mode) &&
			    (stat(path, &st) != 0 || S_ISDIR(st.st_mode))) {
				free(path);
				path = NULL;
				continue;
			}
			file_list_add(fl, path);
			path = NULL;
		}
		free(path);
		path = NULL;
	}
	rc = 0;
out:
	free(path);
	if (d != NULL)
		closedir(d);
	return rc;
}

static int
path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
schema_files(const char *path, char ***out, size_t *n)
{
	struct file_list fl = { NULL, 0, 0 };
	struct stat st;
	int rc;

	if (stat(path, &st) != 0)
		return xdc_error_sys(XDC_ENOTFOUND, "%s", path);
	if (!S_ISDIR(st.st_mode)) {
		file_list_add(&fl, xdc_strdup(path));
	} else {
		if ((rc = walk_dir(path, &fl)) != 0) {
			schema_files_free(fl.fl_v, fl.fl_n);
			return rc;
		}
		if (fl.fl_n == 0) {
			free(fl.fl_v);
			return xdc_error(XDC_ENOTFOUND,
			    "%s: no *.yaml or *.yml files", path);
		}
		qsort(fl.fl_v, fl.fl_n, sizeof(*fl.fl_v), path_cmp);
	}
	*out = fl.fl_v;
	*n = fl.fl_n;
	return 0;
}

void
schema_files_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Whether file, found below the directory whose real path is root, is a
 * symbolic link that leads out of it; *target is then where it leads, for
 * the caller to free. A configuration directory is what its owner reviews
 * (often a git checkout): a link out of it would apply what nobody there
 * reviewed, or read a file of the host's into the error messages.
 */
static int
link_escapes(const char *root, const char *file, char **target)
{
	struct stat st;
	size_t n = strlen(root);
	char *real;

	*target = NULL;
	if (lstat(file, &st) != 0 || !S_ISLNK(st.st_mode) ||
	    (real = realpath(file, NULL)) == NULL)
		return 0;
	/* root "/" holds everything; otherwise root/ must begin the path. */
	if (!strncmp(real, root, n) &&
	    (real[n] == '/' || (n == 1 && root[0] == '/'))) {
		free(real);
		return 0;
	}
	*target = real;
	return 1;
}

int
loader_file_refused(const char *root, const char *file, const char *path,
    struct xdc_diags *diags)
{
	struct stat st;
	char *target = NULL;

	if (root != NULL && link_escapes(root, file, &target)) {
		xdc_diag(diags, file, 1, 1,
		    "a symbolic link to %s, outside the configuration "
		    "directory %s: refused",
		    target, path);
		free(target);
		return 1;
	}
	/*
	 * Only regular files: a FIFO named *.yaml would block the reader
	 * (xdc_file_read refuses it too, should one appear after this look).
	 */
	if (strcmp(path, XDC_STDIN_PATH) != 0 && stat(file, &st) == 0 &&
	    !S_ISREG(st.st_mode)) {
		xdc_diag(diags, file, 1, 1, "%s, not a regular file: refused",
		    xdc_file_kind(&st));
		return 1;
	}
	return 0;
}

int
loader_root(const char *path, char **root)
{
	struct stat st;

	*root = NULL;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (*root = realpath(path, NULL)) == NULL)
		return xdc_error_sys(XDC_ERR, "%s", path);
	return 0;
}

int
schema_load(const char *path, struct xdc_config **out, struct xdc_diags *diags)
{
	return schema_load_keep(path, out, diags, NULL, NULL);
}

int
schema_load_keep(const char *path, struct xdc_config **out,
    struct xdc_diags *diags, schema_keep_fn keep, void *arg)
{
	struct schema_loader *sl = NULL;
	char **files = NULL, *buf = NULL, *root = NULL;
	size_t nfiles = 0, i, len = 0;
	int rc, stream = !strcmp(path, XDC_STDIN_PATH);

	if ((rc = schema_files(path, &files, &nfiles)) != 0 ||
	    (rc = loader_root(path, &root)) != 0)
		goto out;
	sl = schema_loader_new(path, diags);
	for (i = 0; i < nfiles; i++) {
		if (loader_file_refused(root, files[i], path, diags))
			continue;
		/*
		 * Read to EOF: st_size is 0 for a pipe, and trusting it made
		 * `cat vms.yaml | xdc apply /dev/stdin` an empty
		 * configuration that destroyed every VM.
		 */
		if ((rc = xdc_file_read(files[i], XDC_FILE_MAX,
		         stream ? XDC_FILE_STREAM : 0, &buf, &len)) != 0)
			goto out;
		schema_loader_add(sl, files[i], buf, len);
		if (keep != NULL)
			keep(arg, files[i], buf, len);
		free(buf);
		buf = NULL;
	}
	rc = schema_loader_finish(sl, out);
	sl = NULL;
out:
	free(buf);
	free(root);
	schema_loader_free(sl);
	schema_files_free(files, nfiles);
	return rc;
}
