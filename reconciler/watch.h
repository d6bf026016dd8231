/*
 * inotify over the configuration PATH, for the loop (SPEC §6): a
 * directory and every directory below it (hidden ones skipped, as the
 * loader skips them; links not followed; new directories watched as they
 * appear), or one file through its directory, since editors replace a
 * file by renaming another over it. Only what the loader reads counts:
 * YAML files and the directories that hold them, so that a status file
 * or a sim pool written under PATH never wakes the loop.
 */
#ifndef XDC_WATCH_H
#define XDC_WATCH_H

struct watch;

/*
 * A watcher for path; skip_dir (may be NULL) is a directory never
 * watched, should it lie under path: the state directory, which the
 * loop writes after every cycle. The caller frees it with watch_free.
 */
int watch_new(const char *path, const char *skip_dir, struct watch **out);
void watch_free(struct watch *);

/* The inotify fd, for the loop's poll(). */
int watch_fd(const struct watch *);

/* Watch what path is now (call before each load of it). */
void watch_setup(struct watch *);

/*
 * Read what inotify has; 1 when something the loader reads changed (or
 * events were lost), else 0.
 */
int watch_read(struct watch *);

#endif /* XDC_WATCH_H */
