/*
 * The loader: YAML files -> a validated desired model (model.h).
 *
 * A configuration is a directory (every *.yaml and *.yml below it, in sorted
 * path order, hidden entries skipped) or a single file. Loading checks every
 * rule of the format and reports each mistake as a diagnostic; a
 * configuration with any diagnostic is not returned at all, so nothing can
 * apply half of it.
 */
#ifndef XDC_SCHEMA_H
#define XDC_SCHEMA_H

#include <stddef.h>

#include "base/diag.h"
#include "schema/model.h"

#define XDC_FILE_MAX  (16u * 1024 * 1024) /* bytes in one file */
#define XDC_DEPTH_MAX 64                  /* nesting of a document */

/*
 * The one PATH that may be a pipe or a terminal, read once to its end
 * (`cat vms.yaml | xdc plan /dev/stdin`). Any other PATH, and every file
 * of a directory, must be a regular file: a FIFO would block the reader.
 */
#define XDC_STDIN_PATH "/dev/stdin"

/*
 * Load PATH. On success returns 0 and hands *out to the caller (free it with
 * xdc_config_free). When the configuration has mistakes, returns
 * XDC_EINVALID with each of them in diags, sorted. When PATH cannot be read
 * at all, returns XDC_ERR with the reason in xdc_error_last().
 */
int schema_load(
    const char *path, struct xdc_config **out, struct xdc_diags *diags);

/*
 * The same, handing keep each file read, with its bytes (lent for the
 * call): what a saved plan keeps of its configuration.
 */
typedef void (*schema_keep_fn)(
    void *arg, const char *file, const char *buf, size_t len);
int schema_load_keep(const char *path, struct xdc_config **out,
    struct xdc_diags *diags, schema_keep_fn keep, void *arg);

/*
 * The same, for files that come from elsewhere than the file system (a git
 * tree, a fuzzer): add each file's bytes in order, then finish. The loader
 * copies what it keeps; buf need not outlive the call. finish frees the
 * loader whatever it returns.
 */
struct schema_loader;
struct schema_loader *schema_loader_new(
    const char *root, struct xdc_diags *diags);
void schema_loader_add(
    struct schema_loader *, const char *file, const char *buf, size_t len);
int schema_loader_finish(struct schema_loader *, struct xdc_config **out);
void schema_loader_free(struct schema_loader *);

/*
 * A cache of parsed files, for reloading a configuration that changed in
 * one file (xdc run): each file's documents are parsed once per content,
 * the model is rebuilt from the parts and validated whole, with the same
 * result and diagnostics as schema_load. Not thread-safe.
 */
struct schema_cache;
struct schema_cache *schema_cache_new(void);
/* Configurations built from it stay valid after it is freed. */
void schema_cache_free(struct schema_cache *);
/*
 * file (as schema_files names it) may have changed: the next load reads
 * it again, and parses it when its content did change. NULL: every file.
 */
void schema_cache_stale(struct schema_cache *, const char *file);
/* schema_load, reading only new, stale and changed files (above). */
int schema_cache_load(struct schema_cache *, const char *path,
    struct xdc_config **out, struct xdc_diags *);
/*
 * For files from elsewhere (a git tree), each named by a key that changes
 * with its content (a blob id): begin, then for each file in order either
 * reuse (1: the file with that key was cached, and is taken as it was) or
 * add its bytes, then finish as schema_loader_finish does. finish frees
 * the build whatever it returns; free is for a build abandoned.
 */
struct schema_build;
struct schema_build *schema_build_begin(
    struct schema_cache *, const char *root, struct xdc_diags *);
int schema_build_reuse(
    struct schema_build *, const char *file, const void *key, size_t keylen);
void schema_build_add(struct schema_build *, const char *file, const void *key,
    size_t keylen, const char *buf, size_t len);
int schema_build_finish(struct schema_build *, struct xdc_config **out);
void schema_build_free(struct schema_build *);
/* Files parsed and files reused by the last load or build. */
void schema_cache_counts(
    const struct schema_cache *, size_t *parsed, size_t *reused);

/* The list of files PATH names, sorted; free with schema_files_free. */
int schema_files(const char *path, char ***out, size_t *n);
void schema_files_free(char **, size_t);

#endif /* XDC_SCHEMA_H */
