/*
 * The event loop (see ev.h). Watchers and timers are few (a dozen fds, a
 * handful of timers), so they live in plain arrays of pointers scanned
 * each round; the pollfd array is rebuilt only when a watcher changed.
 * Deleting marks an entry dead; dead entries are swept after the round,
 * so a callback can delete anything without invalidating the iteration.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "base/ev.h"

struct xdc_ev_io {
	struct xdc_ev *io_ev;
	int io_fd;
	short io_events;
	int io_dead;
	xdc_ev_io_fn *io_fn;
	void *io_arg;
};

struct xdc_ev_timer {
	struct xdc_ev *t_ev;
	int64_t t_deadline; /* INT64_MAX: disarmed */
	int t_dead;
	xdc_ev_timer_fn *t_fn;
	void *t_arg;
};

struct xdc_ev {
	struct xdc_ev_io **ev_io;
	size_t ev_nio;
	struct xdc_ev_timer **ev_timers;
	size_t ev_ntimers;
	struct pollfd *ev_pfd; /* parallel to ev_io, when not stale */
	int ev_stale;
	int ev_dirty; /* something died: sweep after the round */
	int ev_depth; /* inside xdc_ev_run_once */
};

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
xdc_ev_now(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t
xdc_ev_realtime(void)
{
	return clock_ms(CLOCK_REALTIME);
}

struct xdc_ev *
xdc_ev_new(void)
{
	return xdc_calloc(1, sizeof(struct xdc_ev));
}

static void
sweep(struct xdc_ev *ev)
{
	size_t i, j;

	for (i = j = 0; i < ev->ev_nio; i++) {
		if (ev->ev_io[i]->io_dead)
			free(ev->ev_io[i]);
		else
			ev->ev_io[j++] = ev->ev_io[i];
	}
	if (j != ev->ev_nio)
		ev->ev_stale = 1;
	ev->ev_nio = j;
	for (i = j = 0; i < ev->ev_ntimers; i++) {
		if (ev->ev_timers[i]->t_dead)
			free(ev->ev_timers[i]);
		else
			ev->ev_timers[j++] = ev->ev_timers[i];
	}
	ev->ev_ntimers = j;
	ev->ev_dirty = 0;
}

void
xdc_ev_free(struct xdc_ev *ev)
{
	size_t i;

	if (ev == NULL)
		return;
	for (i = 0; i < ev->ev_nio; i++)
		free(ev->ev_io[i]);
	for (i = 0; i < ev->ev_ntimers; i++)
		free(ev->ev_timers[i]);
	free(ev->ev_io);
	free(ev->ev_timers);
	free(ev->ev_pfd);
	free(ev);
}

struct xdc_ev_io *
xdc_ev_io_add(
    struct xdc_ev *ev, int fd, short events, xdc_ev_io_fn *fn, void *arg)
{
	struct xdc_ev_io *io = xdc_calloc(1, sizeof(*io));

	io->io_ev = ev;
	io->io_fd = fd;
	io->io_events = events;
	io->io_fn = fn;
	io->io_arg = arg;
	ev->ev_io =
	    xdc_reallocarray(ev->ev_io, ev->ev_nio + 1, sizeof(*ev->ev_io));
	ev->ev_io[ev->ev_nio++] = io;
	ev->ev_stale = 1;
	return io;
}

void
xdc_ev_io_set(struct xdc_ev_io *io, short events)
{
	if (io->io_events != events) {
		io->io_events = events;
		io->io_ev->ev_stale = 1;
	}
}

void
xdc_ev_io_del(struct xdc_ev_io *io)
{
	if (io == NULL)
		return;
	io->io_dead = 1;
	io->io_ev->ev_dirty = 1;
	io->io_ev->ev_stale = 1;
	if (io->io_ev->ev_depth == 0)
		sweep(io->io_ev);
}

struct xdc_ev_timer *
xdc_ev_timer_new(struct xdc_ev *ev, xdc_ev_timer_fn *fn, void *arg)
{
	struct xdc_ev_timer *t = xdc_calloc(1, sizeof(*t));

	t->t_ev = ev;
	t->t_deadline = INT64_MAX;
	t->t_fn = fn;
	t->t_arg = arg;
	ev->ev_timers = xdc_reallocarray(
	    ev->ev_timers, ev->ev_ntimers + 1, sizeof(*ev->ev_timers));
	ev->ev_timers[ev->ev_ntimers++] = t;
	return t;
}

void
xdc_ev_timer_at(struct xdc_ev_timer *t, int64_t deadline_ms)
{
	t->t_deadline = deadline_ms == INT64_MAX ? INT64_MAX - 1 : deadline_ms;
}

void
xdc_ev_timer_in(struct xdc_ev_timer *t, int64_t ms)
{
	xdc_ev_timer_at(t, xdc_ev_now() + (ms > 0 ? ms : 0));
}

void
xdc_ev_timer_stop(struct xdc_ev_timer *t)
{
	if (t != NULL)
		t->t_deadline = INT64_MAX;
}

int
xdc_ev_timer_armed(const struct xdc_ev_timer *t)
{
	return t->t_deadline != INT64_MAX;
}

int64_t
xdc_ev_timer_deadline(const struct xdc_ev_timer *t)
{
	return t->t_deadline;
}

void
xdc_ev_timer_free(struct xdc_ev_timer *t)
{
	if (t == NULL)
		return;
	t->t_dead = 1;
	t->t_deadline = INT64_MAX;
	t->t_ev->ev_dirty = 1;
	if (t->t_ev->ev_depth == 0)
		sweep(t->t_ev);
}

unsigned
xdc_ev_count(const struct xdc_ev *ev, unsigned *armed)
{
	size_t i;
	unsigned n = 0;

	if (armed != NULL) {
		*armed = 0;
		for (i = 0; i < ev->ev_ntimers; i++)
			if (!ev->ev_timers[i]->t_dead &&
			    ev->ev_timers[i]->t_deadline != INT64_MAX)
				(*armed)++;
	}
	for (i = 0; i < ev->ev_nio; i++)
		if (!ev->ev_io[i]->io_dead)
			n++;
	return n;
}

static int64_t
next_deadline(const struct xdc_ev *ev)
{
	int64_t d = INT64_MAX;
	size_t i;

	for (i = 0; i < ev->ev_ntimers; i++)
		if (ev->ev_timers[i]->t_deadline < d)
			d = ev->ev_timers[i]->t_deadline;
	return d;
}

static void
rebuild(struct xdc_ev *ev)
{
	size_t i;

	ev->ev_pfd = xdc_reallocarray(
	    ev->ev_pfd, ev->ev_nio > 0 ? ev->ev_nio : 1, sizeof(*ev->ev_pfd));
	for (i = 0; i < ev->ev_nio; i++) {
		ev->ev_pfd[i].fd =
		    ev->ev_io[i]->io_events != 0 && !ev->ev_io[i]->io_dead
		        ? ev->ev_io[i]->io_fd
		        : -1;
		ev->ev_pfd[i].events = ev->ev_io[i]->io_events;
		ev->ev_pfd[i].revents = 0;
	}
	ev->ev_stale = 0;
}

/* Call every timer whose deadline has passed, in deadline order. */
static int
fire_timers(struct xdc_ev *ev)
{
	struct xdc_ev_timer *t;
	int64_t now = xdc_ev_now();
	size_t i, n;
	int called = 0;

	for (;;) {
		/* Only timers that existed when the round began. */
		n = ev->ev_ntimers;
		t = NULL;
		for (i = 0; i < n; i++)
			if (ev->ev_timers[i]->t_deadline <= now &&
			    (t == NULL ||
			        ev->ev_timers[i]->t_deadline < t->t_deadline))
				t = ev->ev_timers[i];
		if (t == NULL || called > 1000)
			return called;
		t->t_deadline = INT64_MAX;
		t->t_fn(t, t->t_arg);
		called++;
	}
}

int
xdc_ev_run_once(struct xdc_ev *ev, int timeout_ms)
{
	int64_t d, now;
	size_t i, n;
	int rc, called = 0, timeout = timeout_ms;

	if (ev->ev_stale)
		rebuild(ev);
	d = next_deadline(ev);
	if (d != INT64_MAX) {
		now = xdc_ev_now();
		d = d > now ? d - now : 0;
		if (timeout < 0 || d < timeout)
			timeout = d > INT_MAX ? INT_MAX : (int)d;
	}
	n = ev->ev_nio;
	rc = poll(ev->ev_pfd, (nfds_t)n, timeout);
	if (rc < 0 && errno != EINTR)
		return xdc_error_sys(XDC_ERR, "poll");
	ev->ev_depth++;
	for (i = 0; rc > 0 && i < n; i++) {
		struct xdc_ev_io *io = ev->ev_io[i];
		short re = ev->ev_pfd[i].revents;

		if (re == 0 || io->io_dead || ev->ev_pfd[i].fd < 0)
			continue;
		/* A watch paused or changed meanwhile gets what it asks. */
		re &= (short)(io->io_events | POLLERR | POLLHUP | POLLNVAL);
		if (re == 0 || io->io_events == 0)
			continue;
		io->io_fn(io, io->io_fd, re, io->io_arg);
		called++;
	}
	called += fire_timers(ev);
	ev->ev_depth--;
	if (ev->ev_dirty && ev->ev_depth == 0)
		sweep(ev);
	/* revents of this round must not leak into the next. */
	ev->ev_stale = 1;
	return called;
}
