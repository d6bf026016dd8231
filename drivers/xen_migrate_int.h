/*
 * What the three files of live migration share (xen_migrate.h says what
 * migration is): the sender's state and its record of one migration,
 * struct xen_mig, and the steps each file takes for the others. The sender
 * (xen_migrate.c) drives the state machine and libxl; the wire
 * (xen_migrate_wire.c) spawns the ssh transport and turns the receiver's
 * lines into the sender's next step; the receiver (xen_migrate_recv.c) is
 * the other end, `xdc migrate-receive`, and shares only the marker's
 * writer and the handshake's limits. Nothing outside drivers/xen_migrate*
 * includes this.
 */
#ifndef XDC_XEN_MIGRATE_INT_H
#define XDC_XEN_MIGRATE_INT_H

#include "drivers/xen_migrate.h" /* first: xenctrl.h before libxl.h */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

struct xdc_ev_io;
struct xdc_ev_timer;

/* How long the receiver may take over each of its steps. */
#define MIG_WAIT_MS (120 * 1000)
/* How long the transport may take to exit once the migration is over. */
#define MIG_REAP_MS   (10 * 1000)
#define MIG_LINE_MAX  1024
#define MIG_OFFER_MAX (1 << 20)
#define MIG_ERRTAIL   512
#define MIG_BANNER    "xdc-migrate"

/* ---- The sender's record of one migration ----------------------------- */

enum mig_state {
	MS_CONNECT, /* the transport started; the banner and config awaited */
	MS_OFFERED, /* the offer sent; "ready" awaited */
	MS_SUSPEND, /* libxl_domain_suspend streams the domain */
	MS_HAVE,    /* the stream sent; "have" awaited */
	MS_LEAVE,   /* renamed away, "leave" sent; "kept" awaited */
	MS_DESTROY, /* destroying this host's copy */
	MS_GO,      /* "go" sent; "done" awaited */
	MS_RESUME,  /* failed before the receiver kept it: taking it back */
	MS_DONE,    /* reported; the transport may still be exiting */
};

struct xen_mig {
	struct xen_mig *m_next; /* in the env's list */
	struct xen_mig_env *m_env;
	struct xdc_ev *m_ev;
	char *m_name;
	char *m_away; /* NAME--migratedaway */
	char *m_to;
	uint32_t m_domid;
	uint8_t m_uuid[16];
	uint64_t m_memory; /* what it holds, for the receiver's check */
	json_t *m_marker;  /* the marker's keys and values */
	enum mig_state m_state;
	int m_got_banner;
	int m_got_have;
	int m_renamed;   /* this host's copy is NAME--migratedaway */
	int m_busy;      /* a libxl operation of this migration is in flight */
	uint64_t m_mark; /* the driver's log mark when it started */
	int m_aborting;
	libxl_domain_config m_cfg; /* while libxl retrieves it */
	int m_has_cfg;
	char *m_offer; /* "offer LEN\n" and the JSON, once both are known */
	/* The transport: ssh and the ends of its stdin, stdout, stderr. */
	char **m_argv;
	char *m_cmd; /* the argv as one line, for messages */
	pid_t m_pid;
	int m_pidfd;
	int m_status; /* its wait status once reaped, or -1 */
	int m_tx, m_rx, m_err;
	struct xdc_ev_io *m_rx_io, *m_err_io, *m_pid_io;
	struct xdc_ev_timer *m_timer;
	char m_line[MIG_LINE_MAX];
	size_t m_nline;
	char m_errtail[MIG_ERRTAIL];
	size_t m_nerr;
	/* How it failed, kept while the domain is taken back. */
	int m_rc;
	char *m_why;
	/* How it ended, reported once the transport has exited. */
	int m_final_rc;
	char *m_final_why;
	int m_reported;
	xen_mig_done_fn *m_done;
	void *m_arg;
	/* Phase times (monotonic ms), for XDC_MIGRATE_TRACE. */
	int64_t m_t0, m_t_ready, m_t_sent, m_t_have, m_t_away, m_t_gone,
	    m_t_done;
	/* What the loop waited for, synchronously (µs): the start (xenstore,
	 * getinfo, spawning ssh) and the rename. */
	int64_t m_us_start, m_us_rename, m_us_config;
};

static inline int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- The sender (xen_migrate.c) --------------------------------------- */

/* Something failed: take the domain back, or say where it is. */
void mig_fail(struct xen_mig *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The banner and the configuration are in: send the offer. */
void mig_offer(struct xen_mig *);
/* The receiver has restored it: rename this host's copy away, "leave". */
void mig_have(struct xen_mig *);
/* Over: let the transport exit, then report rc and why. */
void mig_finish(struct xen_mig *, int rc, const char *why);
/* Tell the driver, once over and the transport has exited. */
void mig_report(struct xen_mig *);
/* Wait at most MIG_WAIT_MS for the receiver's next line, in state st. */
void mig_wait(struct xen_mig *, enum mig_state st);
/* The asynchronous libxl call's how, calling cb with the migration. */
libxl_asyncop_how mig_how(
    struct xen_mig *, void (*cb)(libxl_ctx *, int, void *));
/* libxl's words for the failure rc since mark. */
const char *mig_lx_why(
    struct xen_mig *, int rc, uint64_t mark, char buf[XEN_MIG_WHYSZ]);
/* libxl's callbacks for the suspend (the stream) and the destroy. */
void mig_on_suspended(libxl_ctx *, int rc, void *arg);
void mig_on_destroyed(libxl_ctx *, int rc, void *arg);
/* The marker's keys, a JSON object of strings, under /vm/UUID/xdc:
 * 0, or -1 with errno. The receiver writes its copy's with it too. */
int mig_marker_put(struct xs_handle *, const uint8_t uuid[16], json_t *);

/* ---- The transport and the receiver's lines (xen_migrate_wire.c) ------ */

/* Spawn the transport (ssh) and lend its fds to the loop. */
int mig_transport_spawn(struct xen_mig *);
/* Close our ends: it sees EOF and exits. */
void mig_transport_close(struct xen_mig *);
/* Kill and reap it now. */
void mig_transport_kill(struct xen_mig *);
/* A line to the receiver, never blocking: 0 or -1. */
int mig_send(struct xen_mig *, const char *line);
/* The transport's last line on stderr, in buf. */
const char *mig_err_last_line(struct xen_mig *, char *buf, size_t n);
/* The migration's timer: the receiver silent, or the transport slow to
 * exit. */
void mig_on_timer(struct xdc_ev_timer *, void *arg);

#endif /* XDC_XEN_MIGRATE_INT_H */
