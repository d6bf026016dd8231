/*
 * Saved plans (SPEC §9): `xdc plan -o FILE` writes the plan together with
 * what it was computed from, and `xdc apply --plan FILE` applies exactly
 * that plan or refuses it. The file (docs/saved-plans.md, format 1) holds
 * the configuration itself, each file's bytes with its git blob id and a
 * digest of them all, where it came from (a path, or a git URL, ref and
 * commit), the options that chose what was planned (--scope, --host), the
 * plan as `xdc plan --json` prints it and as text, and for each object an
 * action touches the observation it was planned against (null: absent).
 *
 * Applying re-reads nothing but the file: the configuration is loaded
 * from the bytes kept (and their digest checked), the pool observed, each
 * touched object compared with its saved observation, and the plan made
 * again from them, which must be the saved one action for action. What
 * differs is named, object by object and field by field, and nothing is
 * applied. The plan's random id is recorded in the state directory when
 * it is applied, and a second apply of the same file is refused.
 */
#ifndef XDC_SAVED_PLAN_H
#define XDC_SAVED_PLAN_H

#include <stdio.h>

#include "base/diag.h"

#define SAVED_PLAN_FORMAT 1

struct saved_plan;
struct session;
struct xdc_config;
struct xdc_observed;
struct xdc_plan;

/* The files of a configuration as they are loaded (a schema_keep_fn). */
struct saved_files;
struct saved_files *saved_files_new(void);
void saved_files_free(struct saved_files *);
void saved_files_keep(void *sf, const char *file, const char *buf, size_t len);
/* The configuration's digest: "sha1:" and the hex of a git tree-like
 * list of its files' blob ids and names. Borrowed. */
const char *saved_files_digest(struct saved_files *);

/*
 * Write the plan s made (session_plan, se_plan of se_cfg against se_obs)
 * of the files sf to path, made of src_name (source_name's) and, for
 * git, url, ref and the PATH inside its tree (NULL for a path). Returns
 * 0 or XDC_ERR.
 */
int saved_plan_write(const char *path, const struct session *s,
    struct saved_files *sf, const char *src_name, const char *url,
    const char *ref, const char *tree_path);

/* Read path; XDC_ERR naming what is wrong with it. */
int saved_plan_read(const char *path, struct saved_plan **out);
void saved_plan_free(struct saved_plan *);

/* `xdc plan --plan FILE`: what it was made of, then the plan. */
int saved_plan_show(const struct saved_plan *, int json, FILE *);

/* What it was made from: NULL when not recorded. Borrowed. */
const char *saved_plan_id(const struct saved_plan *);
const char *saved_plan_commit(const struct saved_plan *);
const char *saved_plan_url(const struct saved_plan *);
const char *saved_plan_tree_path(const struct saved_plan *);
const char *saved_plan_digest(const struct saved_plan *);
const char *saved_plan_scope_opt(const struct saved_plan *);
const char *saved_plan_host_opt(const struct saved_plan *);

/*
 * The configuration as saved, its digest checked; XDC_EINVALID with
 * diags, or XDC_ERR (a file whose bytes are not its digest's).
 */
int saved_plan_config(const struct saved_plan *, struct xdc_config **out,
    struct xdc_diags *diags);

/*
 * Whether the plan still holds: each touched object as observed then,
 * and the plan made again (plan, of the saved configuration against obs)
 * the same, action for action. Returns 0, or XDC_EINVALID with *why (the
 * caller frees it), a line for each object or action that changed.
 */
int saved_plan_check(const struct saved_plan *, const struct xdc_observed *,
    const struct xdc_plan *plan, char **why);

/*
 * The record of applied plans, in the state directory dir: whether this
 * one was applied (1, with *when, the caller's), or record it now.
 */
int saved_plan_applied(const struct saved_plan *, const char *dir, char **when);
int saved_plan_record(const struct saved_plan *, const char *dir);

#endif /* XDC_SAVED_PLAN_H */
