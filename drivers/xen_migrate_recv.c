/*
 * Live migration between dom0s (xen_migrate.h), the receiver: `xdc
 * migrate-receive NAME`, a process of its own on the destination, run over
 * ssh by the sender for one migration. It blocks on its stdin and stdout as
 * `xl migrate-receive` does: it says its banner, checks the offer (room for
 * the domain's memory, no domain of that name), restores libxl's stream
 * paused as NAME--incoming, and only when told "go" (the sender's copy is
 * gone) renames it NAME, writes xdc's marker and unpauses it. Until it has
 * said "kept" it destroys its copy on any failure; after, never. Its libxl
 * is synchronous, its messages go to stderr, which ssh carries back.
 */
#include "drivers/xen_migrate_int.h" /* first: xenctrl.h before libxl.h */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <xentoollog.h>

#include "base/error.h"
#include "schema/model.h"

/*
 * A logger for the receiver's libxl: errors go to stderr, which ssh
 * carries back to the sender, and the first since a mark is kept for the
 * "fail" line.
 */
struct rlog {
	xentoollog_logger rl_vtable; /* first: libxl calls through it */
	char rl_first[512];
};

struct rcv {
	const char *r_host;
	const char *r_name;
	char *r_incoming;
	int r_in, r_out;
	struct rlog r_log;
	libxl_ctx *r_ctx;
	xc_interface *r_xch;
	struct xs_handle *r_xsh;
	uint32_t r_domid; /* its copy, once restored */
	json_t *r_offer;
	libxl_domain_config r_cfg;
	int r_has_cfg;
	char r_why[1024];
};

static void rlog_vmessage(xentoollog_logger *lg, xentoollog_level level,
    int errnoval, const char *context, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void
rlog_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval,
    const char *context, const char *fmt, va_list ap)
{
	struct rlog *l = (struct rlog *)lg;
	char buf[512], *msg = buf, *p;
	size_t n;

	(void)context;
	if (level < XTL_ERROR)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* libxl says where: "libxl_create.c:662:libxl__domain_make: ". */
	if ((p = strstr(buf, ".c:")) != NULL && p - buf < 48 &&
	    (p = strchr(p + 3, ':')) != NULL && (p = strchr(p + 1, ':')) &&
	    p[1] == ' ')
		msg = p + 2;
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	fprintf(stderr, "xdc migrate-receive: libxl: %s%s%s\n", msg,
	    errnoval > 0 ? ": " : "", errnoval > 0 ? strerror(errnoval) : "");
	/* The first error is the one reported; a long one is cut short. */
	if (l->rl_first[0] == '\0' &&
	    snprintf(l->rl_first, sizeof(l->rl_first), "%s%s%s", msg,
	        errnoval > 0 ? ": " : "",
	        errnoval > 0 ? strerror(errnoval) : "") >=
	        (int)sizeof(l->rl_first))
		l->rl_first[sizeof(l->rl_first) - 1] = '\0';
}

static void
rlog_progress(xentoollog_logger *lg, const char *context, const char *what,
    int percent, unsigned long done, unsigned long total)
{
	(void)lg, (void)context, (void)what, (void)percent, (void)done;
	(void)total;
}

static void
rlog_destroy(xentoollog_logger *lg)
{
	(void)lg;
}

static const char *
rcv_lx(struct rcv *r, int rc)
{
	static char buf[600];

	if (r->r_log.rl_first[0] != '\0')
		snprintf(buf, sizeof(buf), "%s", r->r_log.rl_first);
	else
		snprintf(buf, sizeof(buf), "libxl error %d", rc);
	r->r_log.rl_first[0] = '\0';
	return buf;
}

/* A line to the sender; 0, or -1 when it is gone. */
static int rcv_say(struct rcv *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
rcv_say(struct rcv *r, const char *fmt, ...)
{
	char line[MIG_LINE_MAX];
	struct pollfd pfd;
	size_t n, off = 0;
	ssize_t w;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (len < 0)
		return -1;
	n = (size_t)len < sizeof(line) - 2 ? (size_t)len : sizeof(line) - 2;
	/* One line: a reason with a newline in it would end it early. */
	for (off = 0; off < n; off++)
		if (line[off] == '\n' || line[off] == '\r')
			line[off] = ' ';
	line[n++] = '\n';
	for (off = 0; off < n;) {
		w = write(r->r_out, line + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			pfd.fd = r->r_out;
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, 1000);
			continue;
		}
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* Read exactly n bytes; 0, 1 at EOF, -1 on error or timeout. */
static int
rcv_read(struct rcv *r, char *buf, size_t n, int timeout_ms)
{
	struct pollfd pfd;
	size_t off = 0;
	ssize_t got;
	int p;

	while (off < n) {
		pfd.fd = r->r_in;
		pfd.events = POLLIN;
		p = poll(&pfd, 1, timeout_ms);
		if (p < 0 && errno == EINTR)
			continue;
		if (p == 0) {
			snprintf(r->r_why, sizeof(r->r_why),
			    "the sender said nothing for %d s",
			    timeout_ms / 1000);
			return -1;
		}
		if (p < 0) {
			snprintf(r->r_why, sizeof(r->r_why), "poll: %s",
			    strerror(errno));
			return -1;
		}
		got = read(r->r_in, buf + off, n - off);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got == 0)
			return 1;
		if (got < 0) {
			snprintf(r->r_why, sizeof(r->r_why), "read: %s",
			    strerror(errno));
			return -1;
		}
		off += (size_t)got;
	}
	return 0;
}

/*
 * One line from the sender, byte by byte: whatever follows it (the libxl
 * stream) is libxl's to read. 0, 1 at EOF, -1 on error or timeout.
 */
static int
rcv_line(struct rcv *r, char *buf, size_t n, int timeout_ms)
{
	size_t i = 0;
	int rc;

	for (;;) {
		if (i + 1 >= n) {
			snprintf(r->r_why, sizeof(r->r_why),
			    "the sender's line is too long");
			return -1;
		}
		if ((rc = rcv_read(r, buf + i, 1, timeout_ms)) != 0)
			return rc;
		if (buf[i] == '\n') {
			buf[i] = '\0';
			return 0;
		}
		i++;
	}
}

/* Is there a live domain of that name here? Its domid, or -1. */
static long
rcv_named(struct rcv *r, const char *name)
{
	uint32_t domid;

	if (libxl_name_to_domid(r->r_ctx, name, &domid) != 0)
		return -1;
	return (long)domid;
}

/*
 * Whether the domain domid is the one being migrated: the same UUID. On
 * another host that is a copy that must not be there; on this same host
 * (a localhost migration, a test) it is the sender's own.
 */
static int
rcv_same_uuid(struct rcv *r, long domid)
{
	xc_domaininfo_t info;

	return xc_domain_getinfolist(r->r_xch, (uint32_t)domid, 1, &info) ==
	           1 &&
	       info.domain == (uint32_t)domid &&
	       memcmp(info.handle,
	           libxl_uuid_bytearray_const(&r->r_cfg.c_info.uuid), 16) == 0;
}

/* Read and check the offer; on refusal, r_why says why. */
static int
rcv_offer(struct rcv *r)
{
	char line[MIG_LINE_MAX], *text = NULL, need[XDC_SIZE_BUFSZ],
	                         avail[XDC_SIZE_BUFSZ];
	const char *name, *cfg;
	json_error_t jerr;
	json_t *marker, *v;
	xc_physinfo_t pi;
	unsigned long len;
	json_int_t memory;
	uint64_t free_mem;
	long other;
	int rc;

	if ((rc = rcv_line(r, line, sizeof(line), MIG_WAIT_MS)) != 0) {
		if (rc > 0)
			snprintf(r->r_why, sizeof(r->r_why),
			    "the sender closed before its offer");
		return -1;
	}
	if (sscanf(line, "offer %lu", &len) != 1 || len == 0 ||
	    len > MIG_OFFER_MAX) {
		snprintf(r->r_why, sizeof(r->r_why),
		    "the sender said \"%.64s\", not an offer", line);
		return -1;
	}
	text = xdc_malloc(len + 1);
	if ((rc = rcv_read(r, text, len, MIG_WAIT_MS)) != 0) {
		if (rc > 0)
			snprintf(r->r_why, sizeof(r->r_why),
			    "the sender closed in its offer");
		free(text);
		return -1;
	}
	text[len] = '\0';
	r->r_offer = json_loads(text, 0, &jerr);
	free(text);
	if (r->r_offer == NULL ||
	    json_unpack(r->r_offer, "{s:s, s:I, s:s, s:o}", "name", &name,
	        "memory", &memory, "config", &cfg, "marker", &marker) != 0 ||
	    memory < 0) {
		snprintf(r->r_why, sizeof(r->r_why),
		    "the offer is not what version %d sends", XEN_MIG_VERSION);
		return -1;
	}
	if (strcmp(name, r->r_name) != 0) {
		snprintf(r->r_why, sizeof(r->r_why),
		    "the offer is for %.64s, not %s", name, r->r_name);
		return -1;
	}
	v = json_object_get(marker, xen_marker_keys[XEN_MK_NAME]);
	if (!json_is_string(v) || strcmp(json_string_value(v), name) != 0) {
		snprintf(r->r_why, sizeof(r->r_why),
		    "the offer carries no marker of xdc's for %s", name);
		return -1;
	}
	memset(&pi, 0, sizeof(pi));
	if (xc_physinfo(r->r_xch, &pi) == 0) {
		free_mem = (uint64_t)pi.free_pages * XC_PAGE_SIZE;
		if ((uint64_t)memory > free_mem) {
			snprintf(r->r_why, sizeof(r->r_why),
			    "it needs %s of memory and %s is free",
			    xdc_size_fmt((uint64_t)memory, need),
			    xdc_size_fmt(free_mem, avail));
			return -1;
		}
	}
	libxl_domain_config_init(&r->r_cfg);
	r->r_has_cfg = 1;
	if ((rc = libxl_domain_config_from_json(r->r_ctx, &r->r_cfg, cfg)) !=
	    0) {
		snprintf(r->r_why, sizeof(r->r_why),
		    "libxl cannot read its configuration: %s", rcv_lx(r, rc));
		return -1;
	}
	/* A domain of the name here that is not this one (see above). */
	if (((other = rcv_named(r, name)) >= 0 && !rcv_same_uuid(r, other)) ||
	    (other = rcv_named(r, r->r_incoming)) >= 0) {
		snprintf(r->r_why, sizeof(r->r_why),
		    "a domain of that name runs here (domid %ld)", other);
		return -1;
	}
	free(r->r_cfg.c_info.name);
	r->r_cfg.c_info.name = strdup(r->r_incoming);
	return 0;
}

/* The marker, as the sender's domain had it, for this copy. */
static int
rcv_marker(struct rcv *r)
{
	xc_domaininfo_t info;

	if (xc_domain_getinfolist(r->r_xch, r->r_domid, 1, &info) != 1 ||
	    info.domain != r->r_domid) {
		snprintf(r->r_why, sizeof(r->r_why),
		    "domain %" PRIu32 " is gone", r->r_domid);
		return -1;
	}
	if (mig_marker_put(r->r_xsh, info.handle,
	        json_object_get(r->r_offer, "marker")) != 0) {
		snprintf(r->r_why, sizeof(r->r_why),
		    "cannot write the marker: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Its paused copy goes: the sender still has the domain. */
static void
rcv_destroy(struct rcv *r)
{
	if (r->r_domid == (uint32_t)INVALID_DOMID)
		return;
	if (libxl_domain_destroy(r->r_ctx, r->r_domid, NULL) != 0)
		fprintf(stderr,
		    "xdc migrate-receive: host %s: cannot destroy %s (domid "
		    "%" PRIu32 "): %s\n",
		    r->r_host, r->r_incoming, r->r_domid, rcv_lx(r, -1));
	r->r_domid = (uint32_t)INVALID_DOMID;
}

int
xen_mig_receive(const char *host, const char *name, int in, int out)
{
	libxl_domain_restore_params params;
	struct rcv r;
	char line[MIG_LINE_MAX];
	int rc, status = 1;

	memset(&r, 0, sizeof(r));
	r.r_host = host;
	r.r_name = name;
	r.r_in = in;
	r.r_out = out;
	r.r_domid = (uint32_t)INVALID_DOMID;
	xdc_asprintf(&r.r_incoming, "%s%s", name, XEN_MIG_INCOMING);
	r.r_log.rl_vtable.vmessage = rlog_vmessage;
	r.r_log.rl_vtable.progress = rlog_progress;
	r.r_log.rl_vtable.destroy = rlog_destroy;
	libxl_domain_restore_params_init(&params);
	/* A sender that goes away is an error to report, not a death. */
	signal(SIGPIPE, SIG_IGN);

	if (libxl_ctx_alloc(&r.r_ctx, LIBXL_VERSION, 0, &r.r_log.rl_vtable) !=
	        0 ||
	    (r.r_xch = xc_interface_open(
	         &r.r_log.rl_vtable, &r.r_log.rl_vtable, 0)) == NULL ||
	    (r.r_xsh = xs_open(0)) == NULL) {
		snprintf(r.r_why, sizeof(r.r_why),
		    "cannot open libxl, libxenctrl and xenstore (xdc "
		    "migrate-receive runs in dom0, as root): %s",
		    rcv_lx(&r, ERROR_FAIL));
		(void)rcv_say(&r, "refuse %s", r.r_why);
		goto out;
	}
	if (rcv_say(&r, "%s %d", MIG_BANNER, XEN_MIG_VERSION) != 0) {
		snprintf(r.r_why, sizeof(r.r_why), "the sender is gone");
		goto out;
	}
	if (rcv_offer(&r) != 0) {
		(void)rcv_say(&r, "refuse %s", r.r_why);
		goto out;
	}
	if (rcv_say(&r, "ready") != 0) {
		snprintf(r.r_why, sizeof(r.r_why), "the sender is gone");
		goto out;
	}

	/* The stream, restored paused, under the name NAME--incoming. */
	params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
	params.stream_version = 2; /* libxl_domain_suspend's */
	rc = libxl_domain_create_restore(
	    r.r_ctx, &r.r_cfg, &r.r_domid, r.r_in, -1, &params, NULL, NULL);
	if (rc != 0) {
		snprintf(r.r_why, sizeof(r.r_why), "cannot restore it: %s",
		    rcv_lx(&r, rc));
		(void)rcv_say(&r, "fail %s", r.r_why);
		/* libxl destroys what its failed build made; anything left: */
		if (r.r_domid != (uint32_t)INVALID_DOMID &&
		    rcv_named(&r, r.r_incoming) == (long)r.r_domid)
			rcv_destroy(&r);
		goto out;
	}
	if (rcv_say(&r, "have") != 0) {
		snprintf(r.r_why, sizeof(r.r_why),
		    "the sender went away after the stream");
		rcv_destroy(&r);
		goto out;
	}

	/* Until "leave", the sender has the domain: ours may go. */
	rc = rcv_line(&r, line, sizeof(line), MIG_WAIT_MS);
	if (rc != 0 || strcmp(line, "leave") != 0) {
		if (rc == 0 && !strcmp(line, "abort"))
			snprintf(r.r_why, sizeof(r.r_why),
			    "the sender aborted; it keeps the domain");
		else if (rc == 0)
			snprintf(r.r_why, sizeof(r.r_why),
			    "the sender said \"%.64s\"", line);
		else if (rc > 0)
			snprintf(r.r_why, sizeof(r.r_why),
			    "the sender went away before \"leave\"");
		rcv_destroy(&r);
		goto out;
	}
	/* From here on ours is never destroyed: it may be the only copy. */
	if (rcv_say(&r, "kept") != 0) {
		snprintf(r.r_why, sizeof(r.r_why),
		    "the sender went away after \"leave\"; %s stays here, "
		    "paused (domid %" PRIu32 ")",
		    r.r_incoming, r.r_domid);
		goto out;
	}
	rc = rcv_line(&r, line, sizeof(line), MIG_WAIT_MS);
	if (rc == 0 && !strcmp(line, "abort")) {
		/* The sender kept its own and takes it back. */
		snprintf(r.r_why, sizeof(r.r_why), "the sender aborted");
		rcv_destroy(&r);
		goto out;
	}
	if (rc != 0 || strcmp(line, "go") != 0) {
		snprintf(r.r_why, sizeof(r.r_why),
		    "no \"go\" from the sender; %s stays here, paused (domid "
		    "%" PRIu32 "), as the sender may have destroyed its copy",
		    r.r_incoming, r.r_domid);
		goto out;
	}

	/* The sender's copy is gone: ours is the VM. */
	if ((rc = libxl_domain_rename(
	         r.r_ctx, r.r_domid, r.r_incoming, r.r_name)) != 0) {
		snprintf(r.r_why, sizeof(r.r_why),
		    "cannot rename %s %s: %s; it stays here, paused",
		    r.r_incoming, r.r_name, rcv_lx(&r, rc));
		(void)rcv_say(&r, "fail %s", r.r_why);
		goto out;
	}
	if (rcv_marker(&r) != 0) {
		(void)rcv_say(
		    &r, "fail %s; %s stays here, paused", r.r_why, r.r_name);
		goto out;
	}
	if ((rc = libxl_domain_unpause(r.r_ctx, r.r_domid, NULL)) != 0) {
		snprintf(r.r_why, sizeof(r.r_why),
		    "cannot unpause %s: %s; it stays here, paused, and xdc's "
		    "next plan unpauses it",
		    r.r_name, rcv_lx(&r, rc));
		(void)rcv_say(&r, "fail %s", r.r_why);
		goto out;
	}
	(void)rcv_say(&r, "done %" PRIu32, r.r_domid);
	status = 0;
out:
	if (status != 0 && r.r_why[0] != '\0')
		fprintf(stderr, "xdc migrate-receive: host %s: %s: %s\n", host,
		    name, r.r_why);
	libxl_domain_restore_params_dispose(&params);
	if (r.r_has_cfg)
		libxl_domain_config_dispose(&r.r_cfg);
	json_decref(r.r_offer);
	if (r.r_xsh != NULL)
		xs_close(r.r_xsh);
	if (r.r_xch != NULL)
		xc_interface_close(r.r_xch);
	libxl_ctx_free(r.r_ctx);
	free(r.r_incoming);
	return status;
}
