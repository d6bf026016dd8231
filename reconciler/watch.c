/*
 * The configuration's inotify watcher (see watch.h). Watches are few (a
 * configuration's directories), kept in an array found by descriptor.
 * Past fs.inotify.max_user_watches every new watch fails: that is logged
 * once, and the changes it would have seen wait for the resync.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "reconciler/log.h"
#include "reconciler/watch.h"

#define WATCH_MASK                                                             \
	(IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_FROM |  \
	    IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

/* A watched directory; w_only: only events on that name count. */
struct wdir {
	int w_wd;
	char *w_path;
	char *w_only;
};

struct watch {
	char *wa_path;
	int wa_fd;
	dev_t wa_skip_dev; /* not watched, should it lie under path */
	ino_t wa_skip_ino;
	int wa_skip;
	struct wdir *wa_dirs;
	size_t wa_ndirs;
	int wa_warned;
};

int
watch_new(const char *path, const char *skip_dir, struct watch **out)
{
	struct watch *w = xdc_calloc(1, sizeof(*w));
	struct stat st;

	*out = NULL;
	w->wa_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->wa_fd < 0) {
		free(w);
		return xdc_error_sys(XDC_ERR, "cannot use inotify");
	}
	w->wa_path = xdc_strdup(path);
	if (skip_dir != NULL && stat(skip_dir, &st) == 0) {
		w->wa_skip = 1;
		w->wa_skip_dev = st.st_dev;
		w->wa_skip_ino = st.st_ino;
	}
	*out = w;
	return 0;
}

void
watch_free(struct watch *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->wa_ndirs; i++) {
		free(w->wa_dirs[i].w_path);
		free(w->wa_dirs[i].w_only);
	}
	free(w->wa_dirs);
	close(w->wa_fd);
	free(w->wa_path);
	free(w);
}

int
watch_fd(const struct watch *w)
{
	return w->wa_fd;
}

static struct wdir *
find(struct watch *w, int wd)
{
	size_t i;

	for (i = 0; i < w->wa_ndirs; i++)
		if (w->wa_dirs[i].w_wd == wd)
			return &w->wa_dirs[i];
	return NULL;
}

static void
add(struct watch *w, const char *dir, const char *only)
{
	struct wdir *d;
	int wd;

	wd = inotify_add_watch(w->wa_fd, dir, WATCH_MASK | IN_ONLYDIR);
	if (wd < 0) {
		/* Once: past fs.inotify.max_user_watches, every one fails. */
		if (errno != ENOENT && errno != ENOTDIR && !w->wa_warned) {
			log_err(LOG_WARN,
			    "cannot watch a directory; changes under it wait "
			    "for the resync",
			    strerror(errno));
			w->wa_warned = 1;
		}
		return;
	}
	if ((d = find(w, wd)) == NULL) {
		w->wa_dirs = xdc_reallocarray(
		    w->wa_dirs, w->wa_ndirs + 1, sizeof(*w->wa_dirs));
		d = &w->wa_dirs[w->wa_ndirs++];
		memset(d, 0, sizeof(*d));
		d->w_wd = wd;
	}
	free(d->w_path);
	free(d->w_only);
	d->w_path = xdc_strdup(dir);
	d->w_only = only != NULL ? xdc_strdup(only) : NULL;
}

static void
forget(struct watch *w, struct wdir *d)
{
	free(d->w_path);
	free(d->w_only);
	*d = w->wa_dirs[--w->wa_ndirs];
}

/* A directory and every directory below it, hidden ones skipped as the
 * loader skips them; links to directories are not followed. */
static void
add_tree(struct watch *w, const char *dir)
{
	struct dirent *de;
	struct stat st;
	char *sub = NULL;
	DIR *d;

	add(w, dir, NULL);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		xdc_asprintf(&sub, "%s/%s", dir, de->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode) &&
		    !(w->wa_skip && st.st_dev == w->wa_skip_dev &&
		        st.st_ino == w->wa_skip_ino))
			add_tree(w, sub);
		free(sub);
		sub = NULL;
	}
	closedir(d);
}

void
watch_setup(struct watch *w)
{
	const char *path = w->wa_path, *slash;
	char *dir = NULL;
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		add_tree(w, path);
		return;
	}
	/* A file (or nothing yet): editors replace files by renaming. */
	slash = strrchr(path, '/');
	if (slash == NULL)
		dir = xdc_strdup(".");
	else if (slash == path)
		dir = xdc_strdup("/");
	else
		xdc_asprintf(&dir, "%.*s", (int)(slash - path), path);
	add(w, dir, slash ? slash + 1 : path);
	free(dir);
}

static int
is_yaml(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && !strcmp(name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(name + n - 4, ".yml"));
}

int
watch_read(struct watch *w)
{
	char buf[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	struct wdir *d;
	char *sub = NULL;
	ssize_t n;
	size_t off;
	int relevant = 0;

	while ((n = read(w->wa_fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < (size_t)n; off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(const void *)(buf +
			                                                  off);
			if (ev->mask & IN_Q_OVERFLOW) {
				relevant = 1;
				continue;
			}
			d = find(w, ev->wd);
			if (ev->mask & IN_IGNORED) {
				if (d != NULL)
					forget(w, d);
				continue;
			}
			if (d == NULL)
				continue;
			if (ev->len > 0 && ev->name[0] == '.')
				continue;
			if (d->w_only != NULL &&
			    (ev->len == 0 || strcmp(ev->name, d->w_only)))
				continue;
			/*
			 * Only what the loader reads: YAML files and the
			 * directories that hold them. A status file or a
			 * pool written under PATH must not wake the loop.
			 */
			if (d->w_only == NULL && ev->len > 0 &&
			    !(ev->mask & IN_ISDIR) && !is_yaml(ev->name))
				continue;
			relevant = 1;
			/* A new directory: watch it, and what it holds. */
			if (d->w_only == NULL && ev->len > 0 &&
			    (ev->mask & IN_ISDIR) &&
			    (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
				xdc_asprintf(
				    &sub, "%s/%s", d->w_path, ev->name);
				add_tree(w, sub);
				free(sub);
				sub = NULL;
			}
		}
	}
	return relevant;
}
