/*
 * libxl's events in the caller's loop (xen_priv.h): libxl tells which fds
 * and timeouts it waits on through its osevent hooks; each becomes a
 * watcher or a timer of the driver's loop, and when one fires libxl
 * hears of it (libxl_osevent_occurred_*), outside any libxl call as it
 * demands. The registrations are kept so that they can move from the
 * driver's own loop to the caller's, and back when the driver abandons.
 */
#include "drivers/xen_priv.h" /* first: xenctrl.h before libxl.h */

#include <poll.h>
#include <stdlib.h>
#include <sys/time.h>

#include "base/error.h"
#include "base/ev.h"

static void
on_libxl_fd(struct xdc_ev_io *io, int fd, short revents, void *arg)
{
	struct xen_fd *f = arg;

	(void)io;
	libxl_osevent_occurred_fd(
	    f->f_x->x_ctx, f->f_for_libxl, fd, f->f_events, revents);
}

static int
hook_fd_register(
    void *user, int fd, void **for_app, short events, void *for_libxl)
{
	struct xen *x = user;
	struct xen_fd *f = xdc_calloc(1, sizeof(*f));

	f->f_x = x;
	f->f_fd = fd;
	f->f_events = events;
	f->f_for_libxl = for_libxl;
	f->f_io = xdc_ev_io_add(x->x_ev, fd, events, on_libxl_fd, f);
	f->f_next = x->x_fds;
	x->x_fds = f;
	*for_app = f;
	return 0;
}

static int
hook_fd_modify(void *user, int fd, void **for_app, short events)
{
	struct xen_fd *f = *for_app;

	(void)user;
	(void)fd;
	f->f_events = events;
	xdc_ev_io_set(f->f_io, events);
	return 0;
}

static void
hook_fd_deregister(void *user, int fd, void *for_app)
{
	struct xen *x = user;
	struct xen_fd *f = for_app, **pp;

	(void)fd;
	for (pp = &x->x_fds; *pp != NULL; pp = &(*pp)->f_next)
		if (*pp == f) {
			*pp = f->f_next;
			break;
		}
	xdc_ev_io_del(f->f_io);
	free(f);
}

static void
timeout_forget(struct xen *x, struct xen_timeout *t)
{
	struct xen_timeout **pp;

	for (pp = &x->x_timeouts; *pp != NULL; pp = &(*pp)->t_next)
		if (*pp == t) {
			*pp = t->t_next;
			break;
		}
	xdc_ev_timer_free(t->t_timer);
	free(t);
}

static void
on_libxl_timeout(struct xdc_ev_timer *tm, void *arg)
{
	struct xen_timeout *t = arg;
	struct xen *x = t->t_x;
	void *for_libxl = t->t_for_libxl;

	(void)tm;
	/* Deregistered as it fires: libxl registers it again if it wants. */
	timeout_forget(x, t);
	libxl_osevent_occurred_timeout(x->x_ctx, for_libxl);
}

/* libxl's absolute times are gettimeofday()'s; the loop's monotonic. */
static int64_t
mono_of(struct timeval abs)
{
	int64_t ms = (int64_t)abs.tv_sec * 1000 + abs.tv_usec / 1000;

	if (abs.tv_sec == 0 && abs.tv_usec == 0)
		return xdc_ev_now(); /* "as soon as possible" */
	return xdc_ev_now() + (ms - xdc_ev_realtime());
}

static int
hook_timeout_register(
    void *user, void **for_app, struct timeval abs, void *for_libxl)
{
	struct xen *x = user;
	struct xen_timeout *t = xdc_calloc(1, sizeof(*t));

	t->t_x = x;
	t->t_for_libxl = for_libxl;
	t->t_deadline = mono_of(abs);
	t->t_timer = xdc_ev_timer_new(x->x_ev, on_libxl_timeout, t);
	xdc_ev_timer_at(t->t_timer, t->t_deadline);
	t->t_next = x->x_timeouts;
	x->x_timeouts = t;
	*for_app = t;
	return 0;
}

static int
hook_timeout_modify(void *user, void **for_app, struct timeval abs)
{
	struct xen_timeout *t = *for_app;

	(void)user;
	t->t_deadline = mono_of(abs);
	xdc_ev_timer_at(t->t_timer, t->t_deadline);
	return 0;
}

static void
hook_timeout_deregister(void *user, void *for_app)
{
	timeout_forget(user, for_app);
}

const libxl_childproc_hooks xen_event_childproc = {
	.chldowner = libxl_sigchld_owner_libxl_always_selective_reap,
};

const libxl_osevent_hooks xen_event_hooks = {
	.fd_register = hook_fd_register,
	.fd_modify = hook_fd_modify,
	.fd_deregister = hook_fd_deregister,
	.timeout_register = hook_timeout_register,
	.timeout_modify = hook_timeout_modify,
	.timeout_deregister = hook_timeout_deregister,
};

/* Move libxl's watchers and timers from the loop they are in to ev. */
void
xen_event_move(struct xen *x, struct xdc_ev *ev)
{
	struct xen_fd *f;
	struct xen_timeout *t;

	for (f = x->x_fds; f != NULL; f = f->f_next) {
		xdc_ev_io_del(f->f_io);
		f->f_io =
		    xdc_ev_io_add(ev, f->f_fd, f->f_events, on_libxl_fd, f);
	}
	for (t = x->x_timeouts; t != NULL; t = t->t_next) {
		xdc_ev_timer_free(t->t_timer);
		t->t_timer = xdc_ev_timer_new(ev, on_libxl_timeout, t);
		xdc_ev_timer_at(t->t_timer, t->t_deadline);
	}
}

/* Forget every registration: libxl is gone. */
void
xen_event_free(struct xen *x)
{
	while (x->x_fds != NULL)
		hook_fd_deregister(x, x->x_fds->f_fd, x->x_fds);
	while (x->x_timeouts != NULL)
		timeout_forget(x, x->x_timeouts);
}
