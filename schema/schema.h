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

/* The list of files PATH names, sorted; free with schema_files_free. */
int schema_files(const char *path, char ***out, size_t *n);
void schema_files_free(char **, size_t);

#endif /* XDC_SCHEMA_H */
