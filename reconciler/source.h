/*
 * Where a configuration comes from: a path (a directory or one file, read
 * by schema_load) or a git commit (`--git URL|DIR --ref REF`), fetched into
 * a bare cache repository under the state directory and read from the
 * commit's tree without a checkout (SPEC §5, §6).
 *
 * Loading is parse -> validate only: the caller decides whether to swap
 * the new configuration in (bgpd's reconfigure).
 */
#ifndef XDC_SOURCE_H
#define XDC_SOURCE_H

#include "base/diag.h"
#include "schema/model.h"

struct cli;
struct source;

#define SOURCE_COMMIT_HEXSZ 41 /* a commit id in hex, and its NUL */

/*
 * The state directory the options name (SPEC §5): --state-dir, else the
 * directory of the sim pool with the sim driver, else /var/lib/xdc. The
 * caller frees *out. Nothing is created.
 */
int source_state_dir(const struct cli *, char **out);

/*
 * A source for the options in cli: --git/--ref when given, with path (if
 * not NULL or ".") a directory or file inside the repository's tree;
 * otherwise path itself (NULL: "."). Nothing is read or fetched yet. The
 * caller frees *out with source_free.
 */
int source_new(const struct cli *, const char *path, struct source **out);
void source_free(struct source *);

int source_is_git(const struct source *);
/*
 * What to call it in messages and status: PATH, or URL@REF with the URL
 * scrubbed (source_scrub_url). Borrowed.
 */
const char *source_name(const struct source *);

/*
 * A cancel check for long network operations: when fn returns non-zero, a
 * fetch in progress stops with an error (a SIGTERM during a slow fetch).
 */
void source_set_cancel(struct source *, int (*fn)(void *), void *arg);

/*
 * git: fetch every branch and tag of the remote into the cache (a local
 * directory works as a URL). A path: nothing to do. On failure the cache
 * keeps what it had, so the last fetched commits stay readable.
 */
int source_fetch(struct source *);

/*
 * git: the same fetch in a thread of its own, for the loop, which must
 * never wait on a remote (libgit2 1.5 has no timeout: a server that
 * accepts and never answers holds a fetch for ever). Returns at once
 * with *fd, an eventfd that becomes readable when the fetch ends; then
 * source_fetch_end gives its result, as source_fetch would have. One at
 * a time: XDC_ERETRY while one is under way. Meanwhile the source may be
 * resolved and loaded (the last commits fetched). source_fetch_cancel
 * stops a fetch at its next sign of progress; one that hangs is never
 * waited for: source_free leaves the source to the thread, which frees
 * it if it ever ends.
 */
int source_fetch_start(struct source *, int *fd);
int source_fetch_end(struct source *);
int source_fetching(const struct source *);
void source_fetch_cancel(struct source *);

/*
 * git: the commit REF names in the cache (a branch, else a tag, else a
 * commit id), in hex. XDC_ENOTFOUND when REF names nothing fetched.
 */
int source_resolve(struct source *, char commit[SOURCE_COMMIT_HEXSZ]);

/*
 * Load the configuration: schema_load of the path, or every .yaml and
 * .yml blob of the commit REF resolves to (sorted by path, hidden entries
 * skipped), each named by its path inside the repository. commit gets the
 * commit id, or "" for a path. Returns as schema_load does: 0 and *out,
 * XDC_EINVALID with diagnostics, or another code with xdc_error_last();
 * XDC_EUNVERIFIED for a commit not signed as --trust-gpg/--trust-ssh ask.
 */
int source_load(struct source *, struct xdc_config **out,
    struct xdc_diags *diags, char commit[SOURCE_COMMIT_HEXSZ]);

/*
 * A URL as it may be shown (messages, logs, status, metrics): without the
 * userinfo of http(s) and other URLs (a user alone may be a token), without
 * the password of ssh:// ones (the user stays), with every query value and
 * the fragment replaced by REDACTED (?private_token=REDACTED). Paths and
 * scp-like user@host:path are returned as they are. The caller frees it.
 */
char *source_scrub_url(const char *url);

/*
 * With --trust-gpg/--trust-ssh, a commit is loaded only if it (or the
 * annotated tag REF names) is signed by a trusted key (SPEC §10); if not,
 * source_load returns XDC_EUNVERIFIED, the reason in xdc_error_last() and
 * commit set. What the last source_load found: why it refused the commit,
 * as a metric's label ("unsigned", "unknown_key", ...; NULL when it did
 * not), and who signed the commit it took (NULL without trust). Borrowed.
 */
const char *source_refusal(const struct source *);
const char *source_signer(const struct source *);

/* mkdir -p: the cache's parents, the loop's state directory. */
int source_mkdirs(const char *path);

#endif /* XDC_SOURCE_H */
