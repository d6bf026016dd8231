/*
 * The state directory (SPEC §5): status.json, metrics.prom, the git cache
 * and the lock that keeps one xdc at a time acting on it. Whoever can
 * write the directory controls the git cache, and so the configuration
 * xdc applies: it must belong to the user xdc runs as and be writable by
 * no one else, and nothing in it is followed through a symbolic link.
 */
#ifndef XDC_STATEDIR_H
#define XDC_STATEDIR_H

#define STATEDIR_LOCK_FILE "lock"

/*
 * Check dir: a directory, owned by the effective user, not writable by
 * its group or others. Returns 0, or XDC_ERR naming the directory, what
 * is wrong and what to do. Whether a missing one is made is the caller's
 * call (source_mkdirs).
 */
int statedir_check(const char *dir);

/*
 * Check dir, then take its lock for as long as *fd stays open: an flock
 * on dir/lock, opened without following a link and refused unless it is
 * a regular file of the user's own, then rewritten with "PID COMMAND"
 * (command: who holds it, "run" or "apply"). When another xdc holds it,
 * XDC_ERR says which (pid and command). The caller closes *fd.
 */
int statedir_lock(const char *dir, const char *command, int *fd);

#endif /* XDC_STATEDIR_H */
