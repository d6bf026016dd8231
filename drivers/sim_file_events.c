/*
 * The sim driver's pool file read by the event reader (obs_read.h), for
 * sim_file.c: the whole file host by host, each host read into the pool
 * as soon as its object closes, without a tree (from its text, or from
 * the file in pieces, never held whole); or one host's text, for
 * sim_file.c's read of the file cut into hosts. It takes the file as the
 * writer writes it ("format_version" and "next_domid" before "hosts", no
 * faults, no slow actions) and gives up, saying nothing, on anything else
 * and on whatever sim_file.c's reader would refuse: that reader then
 * reads the text and says why.
 */
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/error.h"
#include "drivers/obs_json.h"
#include "drivers/obs_read.h"
#include "drivers/sim_file.h"
#include "drivers/sim_file_int.h"
#include "drivers/sim_pool.h"

/*
 * A host of the pool file as the event reader reads it, before it joins
 * the pool: whatever rd_host would refuse, or the reader is not sure of,
 * gives up with the pool untouched (but for its arena), for rd_host to
 * read the host again and say why.
 */
struct ev_host {
	const char *eh_name;
	uint64_t eh_memory;
	uint32_t eh_cpus;
	uint64_t eh_wd_timeout;
	uint64_t eh_wd_deadline;
	struct sim_doms *eh_doms; /* the host's, sorted once all are read */
	size_t eh_ndoms;
	struct xdc_obs_network *eh_nets;
	size_t eh_nnets;
};

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
dom_cmp(const void *a, const void *b)
{
	const struct sim_dom *x = a, *y = b;

	return strcmp(x->sd_d.od_name, y->sd_d.od_name);
}

static int
dom_sorted(const struct sim_dom *v, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (strcmp(v[i - 1].sd_d.od_name, v[i].sd_d.od_name) >= 0)
			return 0;
	return 1;
}

/*
 * Whether two of the host's domains, or two of its networks, share a
 * name. The domains are sorted by name on the way (the writer wrote them
 * so: most often they are already).
 */
static int
has_twins(const struct ev_host *eh)
{
	const char **v = xdc_reallocarray(NULL, eh->eh_nnets + 1, sizeof(*v));
	struct sim_dom *dv = eh->eh_doms != NULL ? eh->eh_doms->ds_v : NULL;
	size_t i;
	int twins = 0;

	if (dv != NULL && !dom_sorted(dv, eh->eh_ndoms))
		qsort(dv, eh->eh_ndoms, sizeof(*dv), dom_cmp);
	for (i = 1; i < eh->eh_ndoms && !twins; i++)
		twins = !strcmp(dv[i].sd_d.od_name, dv[i - 1].sd_d.od_name);
	for (i = 0; i < eh->eh_nnets; i++)
		v[i] = eh->eh_nets[i].on_bridge;
	qsort(v, eh->eh_nnets, sizeof(*v), name_cmp);
	for (i = 1; i < eh->eh_nnets && !twins; i++)
		twins = !strcmp(v[i], v[i - 1]);
	free(v);
	return twins;
}

static int
ev_watchdog(struct obs_read *ev, struct ev_host *eh)
{
	static const char *const keys[] = { "timeout_ms", "deadline" };
	uint32_t seen = 0;
	size_t n;
	int rc;

	if (obs_read_null(ev))
		return 0;
	if (obs_read_map(ev, &n) != 0)
		return -1;
	while (n-- > 0) {
		switch (obs_read_member(ev, keys, 2, &seen)) {
		case 0:
			rc = obs_read_u64(ev, (uint64_t)SIM_WATCHDOG_MAX_MS,
			    &eh->eh_wd_timeout);
			break;
		case 1:
			rc = obs_read_u64(ev, INT64_MAX, &eh->eh_wd_deadline);
			break;
		default:
			return -1;
		}
		if (rc != 0)
			return -1;
	}
	return seen == 3 && eh->eh_wd_timeout > 0 && eh->eh_wd_deadline > 0
	           ? 0
	           : -1;
}

static int
ev_domains(struct obs_read *ev, struct sim_pool *p, struct ev_host *eh)
{
	struct sim_dom *d;
	size_t i, n;

	if (eh->eh_doms != NULL || obs_read_array(ev, &n) != 0)
		return -1;
	eh->eh_doms = sim_doms_new(n);
	for (i = 0; i < n; i++) {
		d = &eh->eh_doms->ds_v[i];
		memset(d, 0, sizeof(*d));
		eh->eh_ndoms = i + 1;
		if (obs_read_domain(
		        ev, OBS_JSON_DEFAULTS, p->p_arena, &d->sd_d) != 0 ||
		    !sim_file_dom0_right(&d->sd_d)) {
			eh->eh_ndoms = i;
			return -1;
		}
	}
	return 0;
}

static int
ev_networks(struct obs_read *ev, struct sim_pool *p, struct ev_host *eh)
{
	size_t i;

	if (obs_read_array(ev, &eh->eh_nnets) != 0)
		return -1;
	eh->eh_nets =
	    xdc_reallocarray(NULL, eh->eh_nnets + 1, sizeof(*eh->eh_nets));
	for (i = 0; i < eh->eh_nnets; i++)
		if (obs_read_network(ev, OBS_JSON_DEFAULTS, p->p_arena,
		        &eh->eh_nets[i]) != 0)
			return -1;
	return 0;
}

static int
ev_host_read(struct obs_read *ev, struct sim_pool *p, struct ev_host *eh)
{
	static const char *const keys[] = { "name", "memory", "cpus",
		"watchdog", "domains", "networks" };
	uint32_t seen = 0;
	uint64_t cpus = 0;
	size_t n;
	int rc;

	if (obs_read_map(ev, &n) != 0)
		return -1;
	while (n-- > 0) {
		switch (obs_read_member(ev, keys, 6, &seen)) {
		case 0:
			rc = obs_read_str(ev, p->p_arena, &eh->eh_name);
			break;
		case 1:
			rc = obs_read_u64(ev, INT64_MAX, &eh->eh_memory);
			break;
		case 2:
			rc = obs_read_u64(ev, UINT32_MAX, &cpus);
			break;
		case 3:
			rc = ev_watchdog(ev, eh);
			break;
		case 4:
			rc = ev_domains(ev, p, eh);
			break;
		case 5:
			rc = ev_networks(ev, p, eh);
			break;
		default:
			return -1;
		}
		if (rc != 0)
			return -1;
	}
	if (!(seen & 1) || !obs_read_done(ev) ||
	    sim_host_find(p, eh->eh_name) != NULL || has_twins(eh))
		return -1;
	if (seen & (1U << 2))
		eh->eh_cpus = (uint32_t)cpus;
	return 0;
}

/*
 * The host at the cursor into the pool: 0, or -1 when the reader gave up,
 * the pool as it was.
 */
static int
ev_host_take(struct obs_read *ev, struct sim_pool *p)
{
	struct ev_host eh;
	struct sim_host *h;
	long at;
	size_t i;
	int rc = -1;

	memset(&eh, 0, sizeof(eh));
	eh.eh_memory = SIM_HOST_MEMORY;
	eh.eh_cpus = SIM_HOST_CPUS;
	if (ev_host_read(ev, p, &eh) != 0)
		goto out;
	h = sim_host_add(p, eh.eh_name, eh.eh_memory, eh.eh_cpus);
	h->sh_wd_timeout = (int64_t)eh.eh_wd_timeout;
	h->sh_wd_deadline = (int64_t)eh.eh_wd_deadline;
	/* The domains, sorted by has_twins, join the host as they are. */
	for (i = 0; i < eh.eh_ndoms; i++)
		if (eh.eh_doms->ds_v[i].sd_d.od_domid >= p->p_next_domid)
			p->p_next_domid = eh.eh_doms->ds_v[i].sd_d.od_domid + 1;
	if (eh.eh_doms != NULL) {
		sim_host_take_doms(h, eh.eh_doms, eh.eh_ndoms);
		eh.eh_doms = NULL;
	}
	for (i = 0; i < eh.eh_nnets; i++) {
		at = sim_net_find(h, eh.eh_nets[i].on_bridge);
		*sim_net_insert(h, (size_t)(-at - 1)) = eh.eh_nets[i];
	}
	if (!sim_host_has_dom0(h))
		sim_host_add_dom0(h);
	rc = 0;
out:
	sim_doms_drop(eh.eh_doms);
	free(eh.eh_nets);
	return rc;
}

int
sim_file_host_events(
    struct sim_pool *p, struct obs_read *ev, const char *text, size_t len)
{
	obs_read_domains(ev, OBS_JSON_DEFAULTS, p->p_arena);
	obs_read_share(ev, p->p_strs);
	if (obs_read_parse(ev, text, len) != 0)
		return -1;
	return ev_host_take(ev, p);
}

/* The whole file, host by host as each closes (obs_read_parse_each). */
struct ev_pool {
	struct sim_pool *ep_pool;
	uint32_t ep_seen; /* the root's keys read */
};

static const char *const root_keys[] = { "format_version", "next_domid",
	"hosts", "faults", "slow" };

/* The root's members up to "hosts", at the first host. */
static int
ev_root_head(struct obs_read *ev, struct ev_pool *ep)
{
	uint64_t version = SIM_FILE_FORMAT, next = 1;
	size_t n;

	ev->or_pos = 0;
	if (obs_read_map(ev, &n) != 0)
		return -1;
	for (;;) {
		switch (obs_read_member(ev, root_keys, 5, &ep->ep_seen)) {
		case 0:
			if (obs_read_u64(ev, UINT32_MAX, &version) != 0 ||
			    version != SIM_FILE_FORMAT)
				return -1;
			break;
		case 1:
			if (obs_read_u64(ev, UINT32_MAX, &next) != 0)
				return -1;
			break;
		case 2:
			ep->ep_pool->p_next_domid =
			    next > 0 ? (uint32_t)next : 1;
			return 0;
		default:
			return -1;
		}
	}
}

static int
ev_each_host(struct obs_read *ev, void *arg)
{
	struct ev_pool *ep = arg;
	size_t at = ev->or_pos;

	if (ep->ep_seen == 0 && ev_root_head(ev, ep) != 0)
		return -1;
	ev->or_pos = at;
	return ev_host_take(ev, ep->ep_pool);
}

/*
 * The root once the hosts are read: nothing left but empty arrays, and
 * what ev_root_head read.
 */
static int
ev_root_tail(struct obs_read *ev, const struct ev_pool *ep)
{
	uint32_t seen = 0;
	int i;
	size_t n, k;

	ev->or_pos = 0;
	if (obs_read_map(ev, &n) != 0)
		return -1;
	while (n-- > 0) {
		switch (i = obs_read_member(ev, root_keys, 5, &seen)) {
		case 0:
		case 1:
			if (!(ep->ep_seen & (1U << i)) ||
			    obs_read_u64(ev, UINT32_MAX, &k) != 0)
				return -1;
			break;
		case 2:
		case 3:
		case 4:
			if (obs_read_array(ev, &k) != 0 || k != 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return obs_read_done(ev) ? 0 : -1;
}

/*
 * The file read (obs_read_parse_each or _fd) into a pool, or nothing: a
 * give-up in any host leaves no pool behind, whatever was read before.
 */
static int
events_end(
    struct obs_read *ev, struct ev_pool *ep, int rc, struct sim_pool **out)
{
	if (rc == 0 && ep->ep_seen != 0 && ev_root_tail(ev, ep) == 0 &&
	    ep->ep_pool->p_nhosts > 0) {
		*out = ep->ep_pool;
		ep->ep_pool = NULL;
	} else
		rc = -1;
	obs_read_fini(ev);
	sim_pool_free(ep->ep_pool);
	return rc;
}

int
sim_file_events(const char *text, size_t len, struct sim_pool **out)
{
	struct ev_pool ep = { sim_pool_new(), 0 };
	struct obs_read ev;

	obs_read_init(&ev);
	obs_read_domains(&ev, OBS_JSON_DEFAULTS, ep.ep_pool->p_arena);
	obs_read_share(&ev, ep.ep_pool->p_strs);
	return events_end(&ev, &ep,
	    obs_read_parse_each(&ev, text, len, "hosts", ev_each_host, &ep),
	    out);
}

int
sim_file_events_fd(int fd, uint64_t max, struct sim_pool **out)
{
	struct ev_pool ep = { sim_pool_new(), 0 };
	struct obs_read ev;

	obs_read_init(&ev);
	obs_read_domains(&ev, OBS_JSON_DEFAULTS, ep.ep_pool->p_arena);
	obs_read_share(&ev, ep.ep_pool->p_strs);
	return events_end(&ev, &ep,
	    obs_read_parse_fd(&ev, fd, max, "hosts", ev_each_host, &ep), out);
}
