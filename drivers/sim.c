/*
 * The sim driver (see sim.h): a pool of simulated Xen hosts kept in a JSON
 * file. It behaves like Xen where xdc can tell: it enforces memory and CPU
 * capacity, assigns domain ids that are never reused, keeps a crashed
 * domain's memory until it is destroyed, and refuses to touch Domain-0 or a
 * domain without xdc's ownership marker.
 *
 * In memory a pool is an arena (strings, domains, build records) plus a few
 * growable arrays; each host indexes its domains by name in a hash table,
 * so one apply costs O(1) and a batch of ten thousand costs one read and
 * one write of the file. The file is only ever replaced whole (write a
 * temporary file, fsync, rename, fsync the directory), so a kill at any
 * instant leaves either the old pool or the new one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "drivers/driver.h"
#include "drivers/sim.h"
#include "base/arena.h"
#include "base/error.h"
#include "schema/model.h"
#include "schema/values.h"

#define SIM_GIB (1024ULL * 1024 * 1024)
/* A host whose capacity is undeclared. */
#define SIM_HOST_MEMORY (64 * SIM_GIB)
#define SIM_HOST_CPUS   16
#define SIM_DOM0_NAME   "Domain-0"
#define SIM_DOM0_MEMORY SIM_GIB
#define SIM_WEIGHT      256 /* credit2's default */
#define SIM_MTU         1500
#define SIM_FORMAT      1 /* "format_version" of the pool file */

struct sim_dom {
	struct xdc_obs_domain sd_d; /* what observe reports; in the arena */
	struct sim_dom *sd_next;    /* the host's hash chain */
};

struct sim_host {
	const char *sh_name;
	uint64_t sh_memory; /* offered to guests */
	uint32_t sh_cpus;
	uint64_t sh_used; /* the guests' memory: every domain but Domain-0 */
	struct sim_dom **sh_buckets; /* by name; a power of two of them */
	size_t sh_nbuckets;
	size_t sh_ndoms;
	struct xdc_obs_network *sh_nets; /* sorted by bridge */
	size_t sh_nnets;
};

struct sim_fault {
	enum xdc_op sf_op;
	const char *sf_name;
	unsigned sf_times;
};

struct sim_pool {
	struct xdc_arena *p_arena;
	struct sim_host *p_hosts; /* sorted by name */
	size_t p_nhosts;
	uint32_t p_next_domid;
	struct sim_fault *p_faults; /* in the order they were injected */
	size_t p_nfaults;
};

struct sim_cfg_host {
	char *ch_name;
	uint64_t ch_memory; /* 0: undeclared */
	uint32_t ch_cpus;
};

struct sim {
	struct xdc_driver s_drv; /* first: the vtable */
	char *s_path;
	char *s_lock_path;
	char *s_dir; /* the directory to fsync after a rename */
	int s_lockfd;
	struct sim_pool *s_pool; /* as last read, and changed since */
	int s_batch;             /* between begin and end: the lock is held */
	int s_dirty;             /* s_pool differs from the file */
	unsigned long s_writes;
	struct sim_cfg_host *s_cfg_hosts; /* what the configuration declares */
	size_t s_ncfg_hosts;
	int s_watch_fd; /* inotify on the pool file, for the loop; -1 */
	int s_watch_wd;
	/*
	 * s_pool is exactly the pool of the file read, s_read_st: read, in
	 * line with the configuration and not changed since. While the file
	 * is still that one, the next observe or begin takes s_pool rather
	 * than reading and parsing the file again (sim_reload).
	 */
	int s_fresh;
	struct stat s_read_st;
};

static int sim_observe(struct xdc_driver *, struct xdc_observed **);
static int sim_begin(struct xdc_driver *);
static int sim_apply(struct xdc_driver *, const struct xdc_action *);
static int sim_end(struct xdc_driver *);
static void sim_free(struct xdc_driver *);
static int sim_watch_fd(struct xdc_driver *);
static void sim_watch_drain(struct xdc_driver *);

/* ---- The pool in memory ---------------------------------------------- */

static const char *
pool_strdup(struct sim_pool *p, const char *s)
{
	return s != NULL ? xdc_arena_strdup(p->p_arena, s) : NULL;
}

static struct sim_pool *
pool_new(void)
{
	struct sim_pool *p = xdc_calloc(1, sizeof(*p));

	p->p_arena = xdc_arena_new();
	p->p_next_domid = 1;
	return p;
}

static void
pool_free(struct sim_pool *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->p_nhosts; i++) {
		free(p->p_hosts[i].sh_buckets);
		free(p->p_hosts[i].sh_nets);
	}
	free(p->p_hosts);
	free(p->p_faults);
	xdc_arena_free(p->p_arena);
	free(p);
}

static int
is_dom0(const struct sim_dom *d)
{
	return d->sd_d.od_domid == 0;
}

static uint64_t
name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* The link that points at the domain named, or at the end of its chain. */
static struct sim_dom **
dom_slot(struct sim_host *h, const char *name)
{
	struct sim_dom **pp;

	if (h->sh_nbuckets == 0)
		return NULL;
	pp = &h->sh_buckets[name_hash(name) & (h->sh_nbuckets - 1)];
	while (*pp != NULL && strcmp((*pp)->sd_d.od_name, name) != 0)
		pp = &(*pp)->sd_next;
	return pp;
}

static struct sim_dom *
dom_find(struct sim_host *h, const char *name)
{
	struct sim_dom **pp = dom_slot(h, name);

	return pp != NULL ? *pp : NULL;
}

static void
dom_rehash(struct sim_host *h, size_t nbuckets)
{
	struct sim_dom **b = xdc_calloc(nbuckets, sizeof(*b));
	struct sim_dom *d, *next;
	size_t i, j;

	for (i = 0; i < h->sh_nbuckets; i++) {
		for (d = h->sh_buckets[i]; d != NULL; d = next) {
			next = d->sd_next;
			j = name_hash(d->sd_d.od_name) & (nbuckets - 1);
			d->sd_next = b[j];
			b[j] = d;
		}
	}
	free(h->sh_buckets);
	h->sh_buckets = b;
	h->sh_nbuckets = nbuckets;
}

/* The caller has made sure the name is free on this host. */
static void
dom_insert(struct sim_host *h, struct sim_dom *d)
{
	size_t i;

	/* Keep chains short: at most 3/4 of a domain per bucket. */
	if ((h->sh_ndoms + 1) * 4 > h->sh_nbuckets * 3)
		dom_rehash(h, h->sh_nbuckets ? h->sh_nbuckets * 2 : 16);
	i = name_hash(d->sd_d.od_name) & (h->sh_nbuckets - 1);
	d->sd_next = h->sh_buckets[i];
	h->sh_buckets[i] = d;
	h->sh_ndoms++;
	if (!is_dom0(d))
		h->sh_used += d->sd_d.od_memory;
}

static void
dom_remove(struct sim_host *h, struct sim_dom *d)
{
	struct sim_dom **pp = dom_slot(h, d->sd_d.od_name);

	*pp = d->sd_next;
	h->sh_ndoms--;
	if (!is_dom0(d))
		h->sh_used -= d->sd_d.od_memory;
}

static int
dom_cmp(const void *a, const void *b)
{
	const struct sim_dom *const *x = a, *const *y = b;

	return strcmp((*x)->sd_d.od_name, (*y)->sd_d.od_name);
}

/* The host's domains sorted by name, in an array the caller frees. */
static struct sim_dom **
dom_sorted(const struct sim_host *h)
{
	struct sim_dom **v = xdc_calloc(h->sh_ndoms, sizeof(*v));
	struct sim_dom *d;
	size_t i, n = 0;

	for (i = 0; i < h->sh_nbuckets; i++)
		for (d = h->sh_buckets[i]; d != NULL; d = d->sd_next)
			v[n++] = d;
	qsort(v, n, sizeof(*v), dom_cmp);
	return v;
}

static uint64_t
host_free(const struct sim_host *h)
{
	return h->sh_memory > h->sh_used ? h->sh_memory - h->sh_used : 0;
}

static struct sim_host *
host_find(struct sim_pool *p, const char *name)
{
	size_t lo = 0, hi = p->p_nhosts, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(name, p->p_hosts[mid].sh_name);
		if (c == 0)
			return &p->p_hosts[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static struct sim_dom *
dom0_new(struct sim_pool *p)
{
	struct sim_dom *d = xdc_arena_zalloc(p->p_arena, sizeof(*d));

	d->sd_d.od_name = SIM_DOM0_NAME;
	d->sd_d.od_domid = 0;
	d->sd_d.od_state = XDC_DOM_RUNNING;
	d->sd_d.od_memory = d->sd_d.od_max_memory = SIM_DOM0_MEMORY;
	d->sd_d.od_vcpus = d->sd_d.od_max_vcpus = 1;
	d->sd_d.od_weight = SIM_WEIGHT;
	return d;
}

/* Add a host with no domains, keeping the array sorted; name is new. */
static struct sim_host *
host_add(struct sim_pool *p, const char *name, uint64_t memory, uint32_t cpus)
{
	struct sim_host *h;
	size_t i;

	for (i = 0; i < p->p_nhosts; i++)
		if (strcmp(name, p->p_hosts[i].sh_name) < 0)
			break;
	p->p_hosts =
	    xdc_reallocarray(p->p_hosts, p->p_nhosts + 1, sizeof(*p->p_hosts));
	memmove(&p->p_hosts[i + 1], &p->p_hosts[i],
	    (p->p_nhosts - i) * sizeof(*p->p_hosts));
	p->p_nhosts++;
	h = &p->p_hosts[i];
	memset(h, 0, sizeof(*h));
	h->sh_name = pool_strdup(p, name);
	h->sh_memory = memory;
	h->sh_cpus = cpus;
	return h;
}

/* Every host of a pool has a Domain-0, with its own memory reservation. */
static int
host_has_dom0(const struct sim_host *h)
{
	struct sim_dom *d;
	size_t i;

	for (i = 0; i < h->sh_nbuckets; i++)
		for (d = h->sh_buckets[i]; d != NULL; d = d->sd_next)
			if (is_dom0(d))
				return 1;
	return 0;
}

/* The index of the bridge, or -(insertion point) - 1. */
static long
net_find(const struct sim_host *h, const char *bridge)
{
	size_t lo = 0, hi = h->sh_nnets, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(bridge, h->sh_nets[mid].on_bridge);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -(long)lo - 1;
}

static struct xdc_obs_network *
net_insert(struct sim_host *h, size_t at)
{
	h->sh_nets =
	    xdc_reallocarray(h->sh_nets, h->sh_nnets + 1, sizeof(*h->sh_nets));
	memmove(&h->sh_nets[at + 1], &h->sh_nets[at],
	    (h->sh_nnets - at) * sizeof(*h->sh_nets));
	h->sh_nnets++;
	memset(&h->sh_nets[at], 0, sizeof(h->sh_nets[at]));
	return &h->sh_nets[at];
}

static struct sim_fault *
fault_find(struct sim_pool *p, enum xdc_op op, const char *name)
{
	size_t i;

	for (i = 0; i < p->p_nfaults; i++)
		if (p->p_faults[i].sf_op == op &&
		    !strcmp(p->p_faults[i].sf_name, name))
			return &p->p_faults[i];
	return NULL;
}

static void
fault_remove(struct sim_pool *p, struct sim_fault *f)
{
	size_t i = (size_t)(f - p->p_faults);

	memmove(f, f + 1, (p->p_nfaults - i - 1) * sizeof(*f));
	p->p_nfaults--;
}

/*
 * Bring the pool in line with the configuration's Hosts: add the missing
 * ones, update declared capacities. Returns whether anything changed.
 */
static int
pool_reconcile(const struct sim *s, struct sim_pool *p)
{
	const struct sim_cfg_host *ch;
	struct sim_host *h;
	int changed = 0;
	size_t i;

	for (i = 0; i < s->s_ncfg_hosts; i++) {
		ch = &s->s_cfg_hosts[i];
		h = host_find(p, ch->ch_name);
		if (h == NULL) {
			h = host_add(p, ch->ch_name,
			    ch->ch_memory ? ch->ch_memory : SIM_HOST_MEMORY,
			    ch->ch_cpus ? ch->ch_cpus : SIM_HOST_CPUS);
			dom_insert(h, dom0_new(p));
			changed = 1;
			continue;
		}
		if (ch->ch_memory != 0 && h->sh_memory != ch->ch_memory) {
			h->sh_memory = ch->ch_memory;
			changed = 1;
		}
		if (ch->ch_cpus != 0 && h->sh_cpus != ch->ch_cpus) {
			h->sh_cpus = ch->ch_cpus;
			changed = 1;
		}
	}
	return changed;
}

/* A new pool: the configuration's Hosts, or one host "local". */
static struct sim_pool *
pool_default(const struct sim *s)
{
	struct sim_pool *p = pool_new();
	struct sim_host *h;

	pool_reconcile(s, p);
	if (p->p_nhosts == 0) {
		h = host_add(p, XDC_LOCAL_HOST, SIM_HOST_MEMORY, SIM_HOST_CPUS);
		dom_insert(h, dom0_new(p));
	}
	return p;
}

/* ---- Reading the pool file ------------------------------------------ */

/* Where in the file a value is, for messages: "host a, domain b". */
struct rd {
	const struct sim *r_sim;
	struct sim_pool *r_pool;
	char r_where[256];
};

static int
rd_bad(const struct rd *r, const char *key, const char *what)
{
	return xdc_error(XDC_ERR, "%s: not a simulated pool: %s%s\"%s\" %s",
	    r->r_sim->s_path, r->r_where, r->r_where[0] ? ": " : "", key, what);
}

static int
rd_u64(const struct rd *r, json_t *o, const char *key, int required,
    uint64_t def, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL && !required) {
		*out = def;
		return 0;
	}
	if (v == NULL)
		return rd_bad(r, key, "is missing");
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return rd_bad(r, key, "must be an integer in range");
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int
rd_u32(const struct rd *r, json_t *o, const char *key, int required,
    uint32_t def, uint32_t *out)
{
	uint64_t v;
	int rc;

	if ((rc = rd_u64(r, o, key, required, def, UINT32_MAX, &v)))
		return rc;
	*out = (uint32_t)v;
	return 0;
}

/* A string copied into the pool; null is NULL when nullable. */
static int
rd_str(const struct rd *r, json_t *o, const char *key, int nullable,
    const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if ((v == NULL || json_is_null(v)) && nullable)
		return 0;
	if (v == NULL)
		return rd_bad(r, key, "is missing");
	if (!json_is_string(v) || json_string_length(v) == 0)
		return rd_bad(r, key, "must be a non-empty string");
	*out = pool_strdup(r->r_pool, json_string_value(v));
	return 0;
}

static int
rd_bool(const struct rd *r, json_t *o, const char *key, int def, int *out)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return rd_bad(r, key, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

/* An array, empty when absent. */
static int
rd_array(const struct rd *r, json_t *o, const char *key, json_t **out)
{
	json_t *v = json_object_get(o, key);

	*out = v;
	if (v != NULL && !json_is_array(v))
		return rd_bad(r, key, "must be an array");
	return 0;
}

/* A name among count names that fn gives, as its index. */
static int
rd_enum(const struct rd *r, json_t *o, const char *key, int required,
    const char *(*fn)(unsigned), unsigned count, unsigned *out)
{
	json_t *v = json_object_get(o, key);
	unsigned i;

	if (v == NULL && !required)
		return 0;
	if (v == NULL)
		return rd_bad(r, key, "is missing");
	for (i = 0; json_is_string(v) && i < count; i++) {
		if (!strcmp(json_string_value(v), fn(i))) {
			*out = i;
			return 0;
		}
	}
	return rd_bad(r, key, "has an unknown value");
}

static const char *
dom_state_name(unsigned i)
{
	return xdc_dom_state_name((enum xdc_dom_state)i);
}

static const char *
vm_type_name(unsigned i)
{
	return xdc_vm_type_name((enum xdc_vm_type)i);
}

static const char *
disk_format_name(unsigned i)
{
	return xdc_disk_format_name((enum xdc_disk_format)i);
}

static const char *
op_name(unsigned i)
{
	return xdc_op_name((enum xdc_op)i);
}

static int
rd_build(const struct rd *r, json_t *o, struct xdc_obs_build *b)
{
	json_t *disks, *jd;
	struct xdc_disk *d;
	unsigned u = XDC_VM_PVH;
	size_t i;
	int rc;

	if (!json_is_object(o))
		return rd_bad(r, "build", "must be an object or null");
	if ((rc = rd_enum(r, o, "type", 1, vm_type_name, 3, &u)) ||
	    (rc = rd_str(r, o, "kernel", 1, &b->ob_kernel)) ||
	    (rc = rd_str(r, o, "ramdisk", 1, &b->ob_ramdisk)) ||
	    (rc = rd_str(r, o, "cmdline", 1, &b->ob_cmdline)) ||
	    (rc = rd_array(r, o, "disks", &disks)))
		return rc;
	b->ob_type = (enum xdc_vm_type)u;
	b->ob_ndisks = json_array_size(disks);
	b->ob_disks = xdc_arena_zalloc(
	    r->r_pool->p_arena, b->ob_ndisks * sizeof(*b->ob_disks));
	json_array_foreach(disks, i, jd)
	{
		d = &b->ob_disks[i];
		u = XDC_DISK_RAW;
		if (!json_is_object(jd))
			return rd_bad(r, "disks", "must hold objects");
		if ((rc = rd_str(r, jd, "target", 0, &d->d_target)) ||
		    (rc = rd_str(r, jd, "vdev", 0, &d->d_vdev)) ||
		    (rc = rd_enum(
		         r, jd, "format", 0, disk_format_name, 3, &u)) ||
		    (rc = rd_bool(r, jd, "readonly", 0, &d->d_readonly)))
			return rc;
		d->d_format = (enum xdc_disk_format)u;
	}
	return 0;
}

static int
rd_nics(const struct rd *r, json_t *o, struct xdc_obs_domain *od)
{
	json_t *nics, *jn, *mac;
	size_t i;
	int rc;

	if ((rc = rd_array(r, o, "nics", &nics)))
		return rc;
	od->od_nnics = json_array_size(nics);
	od->od_nics = xdc_arena_zalloc(
	    r->r_pool->p_arena, od->od_nnics * sizeof(*od->od_nics));
	json_array_foreach(nics, i, jn)
	{
		if (!json_is_object(jn))
			return rd_bad(r, "nics", "must hold objects");
		if ((rc = rd_str(
		         r, jn, "bridge", 0, &od->od_nics[i].on_bridge)))
			return rc;
		mac = json_object_get(jn, "mac");
		if (!json_is_string(mac) ||
		    xdc_parse_mac(
		        json_string_value(mac), od->od_nics[i].on_mac) != NULL)
			return rd_bad(r, "mac", "must be a MAC address");
	}
	return 0;
}

static int
rd_hash(const struct rd *r, json_t *o, uint64_t *out)
{
	json_t *v = json_object_get(o, "hash");
	const char *s;
	char *end;

	*out = 0;
	if (v == NULL)
		return 0;
	s = json_is_string(v) ? json_string_value(v) : "";
	errno = 0;
	*out = strtoull(s, &end, 16);
	if (*s == '\0' || *end != '\0' || errno != 0 || strlen(s) > 16)
		return rd_bad(r, "hash", "must be up to 16 hex digits");
	return 0;
}

static int
rd_domain(struct rd *r, struct sim_host *h, json_t *o)
{
	struct sim_dom *d = xdc_arena_zalloc(r->r_pool->p_arena, sizeof(*d));
	struct xdc_obs_domain *od = &d->sd_d;
	unsigned state = XDC_DOM_RUNNING;
	json_t *cpu, *build;
	int rc;

	if (!json_is_object(o))
		return rd_bad(r, "domains", "must hold objects");
	if ((rc = rd_str(r, o, "name", 0, &od->od_name)))
		return rc;
	snprintf(r->r_where, sizeof(r->r_where), "host %s, domain %s",
	    h->sh_name, od->od_name);
	if (dom_find(h, od->od_name) != NULL)
		return rd_bad(r, "name", "is a duplicate");
	cpu = json_object_get(o, "cpu");
	if (cpu != NULL && !json_is_object(cpu))
		return rd_bad(r, "cpu", "must be an object");
	if ((rc = rd_u32(r, o, "domid", 1, 0, &od->od_domid)) ||
	    (rc = rd_enum(r, o, "state", 0, dom_state_name, 4, &state)) ||
	    (rc = rd_u64(r, o, "memory", 1, 0, INT64_MAX, &od->od_memory)) ||
	    (rc = rd_u64(r, o, "max_memory", 0, od->od_memory, INT64_MAX,
	         &od->od_max_memory)) ||
	    (rc = rd_u32(r, o, "vcpus", 0, 1, &od->od_vcpus)) ||
	    (rc = rd_u32(
	         r, o, "max_vcpus", 0, od->od_vcpus, &od->od_max_vcpus)) ||
	    (rc = rd_u32(r, cpu, "weight", 0, SIM_WEIGHT, &od->od_weight)) ||
	    (rc = rd_u32(r, cpu, "cap", 0, 0, &od->od_cap)) ||
	    (rc = rd_bool(r, o, "managed", 0, &od->od_managed)) ||
	    (rc = rd_bool(r, o, "protect", 0, &od->od_protect)) ||
	    (rc = rd_hash(r, o, &od->od_hash)) || (rc = rd_nics(r, o, od)))
		return rc;
	/*
	 * Domain-0 is the domain with id 0: one by that name and another id
	 * would meet the Domain-0 every host is given, and the pool would
	 * hold two domains of one name.
	 */
	if ((od->od_domid == 0) != !strcmp(od->od_name, SIM_DOM0_NAME))
		return rd_bad(r, "domid", "is 0 for Domain-0 and no other");
	od->od_state = (enum xdc_dom_state)state;
	build = json_object_get(o, "build");
	if (build != NULL && !json_is_null(build)) {
		if ((rc = rd_build(r, build, &od->od_build)))
			return rc;
		od->od_has_build = 1;
	}
	if (od->od_domid >= r->r_pool->p_next_domid)
		r->r_pool->p_next_domid = od->od_domid + 1;
	dom_insert(h, d);
	return 0;
}

static int
rd_network(struct rd *r, struct sim_host *h, json_t *o)
{
	struct xdc_obs_network n;
	uint64_t vlan;
	long at;
	int rc;

	memset(&n, 0, sizeof(n));
	if (!json_is_object(o))
		return rd_bad(r, "networks", "must hold objects");
	if ((rc = rd_str(r, o, "bridge", 0, &n.on_bridge)))
		return rc;
	snprintf(r->r_where, sizeof(r->r_where), "host %s, bridge %s",
	    h->sh_name, n.on_bridge);
	if ((rc = rd_str(r, o, "name", 1, &n.on_name)) ||
	    (rc = rd_str(r, o, "uplink", 1, &n.on_uplink)) ||
	    (rc = rd_u64(r, o, "vlan", 0, 0, 4094, &vlan)) ||
	    (rc = rd_u32(r, o, "mtu", 0, SIM_MTU, &n.on_mtu)) ||
	    (rc = rd_bool(r, o, "up", 1, &n.on_up)) ||
	    (rc = rd_bool(r, o, "managed", 0, &n.on_managed)))
		return rc;
	n.on_vlan = (uint16_t)vlan;
	if ((at = net_find(h, n.on_bridge)) >= 0)
		return rd_bad(r, "bridge", "is a duplicate");
	*net_insert(h, (size_t)(-at - 1)) = n;
	return 0;
}

static int
rd_host(struct rd *r, json_t *o)
{
	struct sim_host *h;
	const char *name;
	uint64_t memory;
	uint32_t cpus;
	json_t *doms, *nets, *v;
	size_t i;
	int rc;

	if (!json_is_object(o))
		return rd_bad(r, "hosts", "must hold objects");
	if ((rc = rd_str(r, o, "name", 0, &name)))
		return rc;
	snprintf(r->r_where, sizeof(r->r_where), "host %s", name);
	if (host_find(r->r_pool, name) != NULL)
		return rd_bad(r, "name", "is a duplicate");
	if ((rc = rd_u64(
	         r, o, "memory", 0, SIM_HOST_MEMORY, INT64_MAX, &memory)) ||
	    (rc = rd_u32(r, o, "cpus", 0, SIM_HOST_CPUS, &cpus)) ||
	    (rc = rd_array(r, o, "domains", &doms)) ||
	    (rc = rd_array(r, o, "networks", &nets)))
		return rc;
	h = host_add(r->r_pool, name, memory, cpus);
	/* host_add may move the hosts: h is only good until the next one. */
	json_array_foreach(doms, i, v) if ((rc = rd_domain(r, h, v))) return rc;
	json_array_foreach(
	    nets, i, v) if ((rc = rd_network(r, h, v))) return rc;
	if (!host_has_dom0(h))
		dom_insert(h, dom0_new(r->r_pool));
	return 0;
}

static int
rd_fault(struct rd *r, json_t *o)
{
	struct sim_pool *p = r->r_pool;
	struct sim_fault f;
	unsigned op = 0;
	int rc;

	snprintf(r->r_where, sizeof(r->r_where), "faults[%zu]", p->p_nfaults);
	if (!json_is_object(o))
		return rd_bad(r, "faults", "must hold objects");
	if ((rc = rd_enum(r, o, "op", 1, op_name, XDC_OP__COUNT, &op)) ||
	    (rc = rd_str(r, o, "name", 0, &f.sf_name)) ||
	    (rc = rd_u32(r, o, "times", 0, 1, &f.sf_times)))
		return rc;
	f.sf_op = (enum xdc_op)op;
	if (f.sf_times == 0)
		return 0;
	p->p_faults = xdc_reallocarray(
	    p->p_faults, p->p_nfaults + 1, sizeof(*p->p_faults));
	p->p_faults[p->p_nfaults++] = f;
	return 0;
}

static int
pool_from_json(const struct sim *s, json_t *root, struct sim_pool **out)
{
	struct sim_pool *p = pool_new();
	json_t *hosts, *faults, *v;
	uint64_t version, next;
	struct rd r;
	size_t i;
	int rc;

	memset(&r, 0, sizeof(r));
	r.r_sim = s;
	r.r_pool = p;
	hosts = json_object_get(root, "hosts");
	if (!json_is_object(root) || !json_is_array(hosts)) {
		rc = xdc_error(XDC_ERR,
		    "%s: not a simulated pool (no \"hosts\" array)", s->s_path);
		goto out;
	}
	if ((rc = rd_u64(&r, root, "format_version", 0, SIM_FORMAT, UINT32_MAX,
	         &version)))
		goto out;
	if (version != SIM_FORMAT) {
		rc = rd_bad(&r, "format_version", "is not 1");
		goto out;
	}
	if ((rc = rd_u64(&r, root, "next_domid", 0, 1, UINT32_MAX, &next)) ||
	    (rc = rd_array(&r, root, "faults", &faults)))
		goto out;
	p->p_next_domid = next > 0 ? (uint32_t)next : 1;
	json_array_foreach(hosts, i, v) if ((rc = rd_host(&r, v))) goto out;
	json_array_foreach(faults, i, v) if ((rc = rd_fault(&r, v))) goto out;
	if (p->p_nhosts == 0) {
		rc = xdc_error(
		    XDC_ERR, "%s: not a simulated pool: no hosts", s->s_path);
		goto out;
	}
	*out = p;
	p = NULL;
out:
	pool_free(p);
	return rc;
}

/* The whole file into a buffer the caller frees; *len its size. */
static int
read_all(int fd, const char *path, char **out, size_t *len)
{
	size_t cap = 64 * 1024, n = 0;
	char *buf = xdc_malloc(cap);
	ssize_t got;

	for (;;) {
		if (n == cap) {
			buf = xdc_reallocarray(buf, 2, cap);
			cap *= 2;
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			free(buf);
			return xdc_error_sys(XDC_ERR, "cannot read %s", path);
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* The pool in len bytes of text, as read from s's file. */
static int
pool_parse(
    const struct sim *s, const char *text, size_t len, struct sim_pool **out)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	*out = NULL;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return xdc_error(XDC_ERR,
		    "%s: not valid JSON: line %d, column "
		    "%d: %s",
		    s->s_path, jerr.line, jerr.column, jerr.text);
	rc = pool_from_json(s, root, out);
	json_decref(root);
	return rc;
}

/*
 * Read the file: 0 with *out NULL when it does not exist. *st is the file
 * read, its identity for pool_unchanged().
 */
static int
pool_read(const struct sim *s, struct sim_pool **out, struct stat *st)
{
	char *buf = NULL;
	size_t len = 0;
	int fd = -1, rc = XDC_ERR;

	*out = NULL;
	memset(st, 0, sizeof(*st));
	if ((fd = open(s->s_path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			rc = 0;
		else
			rc =
			    xdc_error_sys(XDC_ERR, "cannot read %s", s->s_path);
		goto out;
	}
	if (fstat(fd, st) < 0) {
		rc = xdc_error_sys(XDC_ERR, "cannot read %s", s->s_path);
		goto out;
	}
	/* In one go: jansson's json_loadfd reads a byte per system call. */
	if ((rc = read_all(fd, s->s_path, &buf, &len)))
		goto out;
	rc = pool_parse(s, buf, len, out);
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * Read the pool afresh into s_pool (the lock is held): the file's, brought
 * in line with the configuration, or a new one when there is no file.
 */
static int
sim_load(struct sim *s)
{
	struct sim_pool *p = NULL;
	int rc;

	s->s_fresh = 0;
	if ((rc = pool_read(s, &p, &s->s_read_st)))
		return rc;
	s->s_dirty = 0;
	if (p == NULL) {
		p = pool_default(s);
		s->s_dirty = 1;
	} else if (pool_reconcile(s, p)) {
		s->s_dirty = 1;
	}
	pool_free(s->s_pool);
	s->s_pool = p;
	s->s_fresh = !s->s_dirty && s->s_read_st.st_ino != 0;
	return 0;
}

/*
 * Is the file still the one s_pool was read from? Every write replaces it
 * by a rename, so a write since shows as another inode; a change in place
 * shows in the size or the times.
 */
static int
pool_unchanged(const struct sim *s)
{
	const struct stat *a = &s->s_read_st;
	struct stat b;

	return stat(s->s_path, &b) == 0 && a->st_dev == b.st_dev &&
	       a->st_ino == b.st_ino && a->st_size == b.st_size &&
	       a->st_mtim.tv_sec == b.st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b.st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

/* sim_load, unless s_pool is still the file's pool (see s_fresh). */
static int
sim_reload(struct sim *s)
{
	if (s->s_fresh && pool_unchanged(s))
		return 0;
	return sim_load(s);
}

/* ---- Writing the pool file ------------------------------------------ */

/*
 * The JSON of a pool. Keys come in a fixed order (jansson keeps insertion
 * order) and arrays are sorted, so the same pool is the same bytes. NULL
 * when a value cannot be encoded (a string that is not UTF-8).
 */
static json_t *
wr_build(const struct xdc_obs_build *b)
{
	json_t *disks = json_array();
	size_t i;

	for (i = 0; i < b->ob_ndisks; i++)
		json_array_append_new(disks,
		    json_pack("{s:s, s:s, s:s, s:b}", "target",
		        b->ob_disks[i].d_target, "vdev", b->ob_disks[i].d_vdev,
		        "format", xdc_disk_format_name(b->ob_disks[i].d_format),
		        "readonly", b->ob_disks[i].d_readonly));
	if (json_array_size(disks) != b->ob_ndisks) {
		json_decref(disks);
		return NULL;
	}
	return json_pack("{s:s, s:s?, s:s?, s:s?, s:o}", "type",
	    xdc_vm_type_name(b->ob_type), "kernel", b->ob_kernel, "ramdisk",
	    b->ob_ramdisk, "cmdline", b->ob_cmdline, "disks", disks);
}

static json_t *
wr_domain(const struct xdc_obs_domain *d)
{
	json_t *nics = json_array(), *build = json_null();
	char mac[XDC_MAC_BUFSZ], hash[24];
	size_t i;

	for (i = 0; i < d->od_nnics; i++)
		json_array_append_new(nics,
		    json_pack("{s:s, s:s}", "bridge", d->od_nics[i].on_bridge,
		        "mac", xdc_mac_fmt(d->od_nics[i].on_mac, mac)));
	if (d->od_has_build)
		build = wr_build(&d->od_build);
	if (json_array_size(nics) != d->od_nnics || build == NULL) {
		json_decref(nics);
		json_decref(build);
		return NULL;
	}
	snprintf(hash, sizeof(hash), "%016" PRIx64, d->od_hash);
	return json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:{s:I, s:I}, "
	                 "s:b, s:b, s:s, s:o, s:o}",
	    "name", d->od_name, "domid", (json_int_t)d->od_domid, "state",
	    xdc_dom_state_name(d->od_state), "memory", (json_int_t)d->od_memory,
	    "max_memory", (json_int_t)d->od_max_memory, "vcpus",
	    (json_int_t)d->od_vcpus, "max_vcpus", (json_int_t)d->od_max_vcpus,
	    "cpu", "weight", (json_int_t)d->od_weight, "cap",
	    (json_int_t)d->od_cap, "managed", d->od_managed, "protect",
	    d->od_protect, "hash", hash, "nics", nics, "build", build);
}

static json_t *
wr_host(const struct sim_host *h)
{
	json_t *doms = json_array(), *nets = json_array();
	const struct xdc_obs_network *n;
	struct sim_dom **v = dom_sorted(h);
	size_t i, nd = 0;

	for (i = 0; i < h->sh_ndoms; i++)
		nd += json_array_append_new(doms, wr_domain(&v[i]->sd_d)) == 0;
	free(v);
	for (i = 0; i < h->sh_nnets; i++) {
		n = &h->sh_nets[i];
		json_array_append_new(
		    nets, json_pack("{s:s?, s:s, s:I, s:s?, s:I, s:b, s:b}",
		              "name", n->on_name, "bridge", n->on_bridge, "mtu",
		              (json_int_t)n->on_mtu, "uplink", n->on_uplink,
		              "vlan", (json_int_t)n->on_vlan, "up", n->on_up,
		              "managed", n->on_managed));
	}
	if (nd != h->sh_ndoms || json_array_size(nets) != h->sh_nnets) {
		json_decref(doms);
		json_decref(nets);
		return NULL;
	}
	return json_pack("{s:s, s:I, s:I, s:o, s:o}", "name", h->sh_name,
	    "memory", (json_int_t)h->sh_memory, "cpus", (json_int_t)h->sh_cpus,
	    "domains", doms, "networks", nets);
}

static json_t *
pool_to_json(const struct sim_pool *p)
{
	json_t *hosts = json_array(), *faults = json_array();
	const struct sim_fault *f;
	size_t i;

	for (i = 0; i < p->p_nhosts; i++)
		json_array_append_new(hosts, wr_host(&p->p_hosts[i]));
	for (i = 0; i < p->p_nfaults; i++) {
		f = &p->p_faults[i];
		json_array_append_new(faults,
		    json_pack("{s:s, s:s, s:I}", "op", xdc_op_name(f->sf_op),
		        "name", f->sf_name, "times", (json_int_t)f->sf_times));
	}
	if (json_array_size(hosts) != p->p_nhosts ||
	    json_array_size(faults) != p->p_nfaults) {
		json_decref(hosts);
		json_decref(faults);
		return NULL;
	}
	return json_pack("{s:I, s:I, s:o, s:o}", "format_version",
	    (json_int_t)SIM_FORMAT, "next_domid", (json_int_t)p->p_next_domid,
	    "hosts", hosts, "faults", faults);
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The file's text, in a string the caller frees; *len its length. It ends
 * with a newline and, past len, a NUL.
 */
static int
pool_text(
    const struct sim *s, const struct sim_pool *p, char **out, size_t *len)
{
	json_t *root;
	char *text = NULL;

	*out = NULL;
	if ((root = pool_to_json(p)) != NULL)
		text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	if (text == NULL)
		return xdc_error(XDC_ERR,
		    "%s: cannot encode the pool as JSON "
		    "(a name that is not UTF-8?)",
		    s->s_path);
	*len = strlen(text);
	/* One byte more than json_dumps gave: the newline, then the NUL. */
	*out = xdc_reallocarray(text, *len + 2, 1);
	(*out)[(*len)++] = '\n';
	(*out)[*len] = '\0';
	return 0;
}

/*
 * Replace the file whole: a reader, or a kill at any instant, sees the old
 * pool or the new one, never half of one.
 */
static int
pool_write(struct sim *s, const struct sim_pool *p)
{
	char *text = NULL, *tmp = NULL;
	int fd = -1, dfd = -1, rc = XDC_ERR;
	size_t len;

	if ((rc = pool_text(s, p, &text, &len)))
		goto out;
	rc = XDC_ERR;
	xdc_asprintf(&tmp, "%s.XXXXXX", s->s_path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rc = xdc_error_sys(
		    XDC_ERR, "cannot create a file beside %s", s->s_path);
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, 0644) < 0 || write_all(fd, text, len) < 0 ||
	    fsync(fd) < 0) {
		rc = xdc_error_sys(XDC_ERR, "cannot write %s", tmp);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = xdc_error_sys(XDC_ERR, "cannot write %s", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, s->s_path) < 0) {
		rc = xdc_error_sys(
		    XDC_ERR, "cannot rename %s to %s", tmp, s->s_path);
		goto out;
	}
	free(tmp);
	tmp = NULL;
	/* The rename is durable only once the directory is. */
	if ((dfd = open(s->s_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (fsync(dfd) < 0 && errno != EINVAL)) {
		rc = xdc_error_sys(
		    XDC_ERR, "cannot sync the directory %s", s->s_dir);
		goto out;
	}
	s->s_writes++;
	rc = 0;
out:
	if (dfd >= 0)
		close(dfd);
	if (fd >= 0)
		close(fd);
	if (tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(text);
	return rc;
}

/*
 * Remove the temporary files of writers killed between creating one and
 * renaming it over the pool: "<file>.XXXXXX", as mkostemp names them. The
 * lock is held, so no writer is between the two now.
 */
static void
pool_sweep(const struct sim *s)
{
	const char *base = strrchr(s->s_path, '/');
	struct dirent *de;
	size_t n;
	DIR *d;

	base = base != NULL ? base + 1 : s->s_path;
	n = strlen(base);
	if ((d = opendir(s->s_dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (!strncmp(de->d_name, base, n) && de->d_name[n] == '.' &&
		    strlen(de->d_name + n + 1) == 6 &&
		    strcmp(de->d_name + n + 1, "lock") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

/* ---- Locking and batches --------------------------------------------- */

static int
sim_lock(struct sim *s, int how)
{
	while (flock(s->s_lockfd, how) < 0) {
		if (errno != EINTR)
			return xdc_error_sys(
			    XDC_ERR, "cannot lock %s", s->s_lock_path);
	}
	return 0;
}

static void
sim_unlock(struct sim *s)
{
	flock(s->s_lockfd, LOCK_UN);
}

static int
sim_begin(struct xdc_driver *drv)
{
	struct sim *s = (struct sim *)drv;
	int rc;

	if (s->s_batch)
		return xdc_error(XDC_ERR, "sim: begin inside a batch");
	if ((rc = sim_lock(s, LOCK_EX)))
		return rc;
	if ((rc = sim_reload(s))) {
		sim_unlock(s);
		return rc;
	}
	/* The batch changes s_pool: it is no longer the file's. */
	s->s_fresh = 0;
	s->s_batch = 1;
	return 0;
}

static int
sim_end(struct xdc_driver *drv)
{
	struct sim *s = (struct sim *)drv;
	int rc = 0;

	if (!s->s_batch)
		return 0;
	if (s->s_dirty && (rc = pool_write(s, s->s_pool)) == 0)
		s->s_dirty = 0;
	s->s_batch = 0;
	sim_unlock(s);
	return rc;
}

/*
 * The disturbances and a lone apply bracket themselves unless the caller
 * already has; *own says whether to end.
 */
static int
txn_begin(struct sim *s, int *own)
{
	*own = !s->s_batch;
	return *own ? sim_begin(&s->s_drv) : 0;
}

static int
txn_end(struct sim *s, int own, int rc)
{
	int rc2;

	if (!own)
		return rc;
	rc2 = sim_end(&s->s_drv);
	return rc != 0 ? rc : rc2;
}

/* ---- Observe --------------------------------------------------------- */

static const char *
obs_strdup(struct xdc_arena *a, const char *s)
{
	return s != NULL ? xdc_arena_strdup(a, s) : NULL;
}

static void
obs_domain(struct xdc_arena *a, struct xdc_obs_domain *o,
    const struct xdc_obs_domain *d)
{
	struct xdc_obs_build *b = &o->od_build;
	const struct xdc_disk *from;
	struct xdc_disk *disk;
	size_t i;

	*o = *d;
	o->od_name = obs_strdup(a, d->od_name);
	o->od_nics = xdc_arena_zalloc(a, d->od_nnics * sizeof(*o->od_nics));
	for (i = 0; i < d->od_nnics; i++) {
		o->od_nics[i] = d->od_nics[i];
		o->od_nics[i].on_bridge =
		    obs_strdup(a, d->od_nics[i].on_bridge);
	}
	b->ob_kernel = obs_strdup(a, d->od_build.ob_kernel);
	b->ob_ramdisk = obs_strdup(a, d->od_build.ob_ramdisk);
	b->ob_cmdline = obs_strdup(a, d->od_build.ob_cmdline);
	b->ob_disks = xdc_arena_zalloc(a, b->ob_ndisks * sizeof(*b->ob_disks));
	for (i = 0; i < b->ob_ndisks; i++) {
		disk = &b->ob_disks[i];
		from = &d->od_build.ob_disks[i];
		disk->d_target = obs_strdup(a, from->d_target);
		disk->d_vdev = obs_strdup(a, from->d_vdev);
		disk->d_format = from->d_format;
		disk->d_readonly = from->d_readonly;
	}
}

static struct xdc_observed *
obs_pool(const struct sim_pool *p)
{
	struct xdc_observed *obs = xdc_observed_new();
	struct xdc_arena *a = obs->obs_arena;
	const struct sim_host *h;
	struct xdc_obs_host *oh;
	struct xdc_obs_network *on;
	struct sim_dom **v;
	size_t i, j;

	obs->obs_nhosts = p->p_nhosts;
	obs->obs_hosts =
	    xdc_arena_zalloc(a, p->p_nhosts * sizeof(*obs->obs_hosts));
	for (i = 0; i < p->p_nhosts; i++) {
		h = &p->p_hosts[i];
		oh = &obs->obs_hosts[i];
		oh->oh_name = obs_strdup(a, h->sh_name);
		oh->oh_memory = h->sh_memory;
		oh->oh_free_memory = host_free(h);
		oh->oh_cpus = h->sh_cpus;
		oh->oh_ndomains = h->sh_ndoms;
		oh->oh_domains =
		    xdc_arena_zalloc(a, h->sh_ndoms * sizeof(*oh->oh_domains));
		v = dom_sorted(h);
		for (j = 0; j < h->sh_ndoms; j++)
			obs_domain(a, &oh->oh_domains[j], &v[j]->sd_d);
		free(v);
		oh->oh_nnetworks = h->sh_nnets;
		oh->oh_networks =
		    xdc_arena_zalloc(a, h->sh_nnets * sizeof(*oh->oh_networks));
		for (j = 0; j < h->sh_nnets; j++) {
			on = &oh->oh_networks[j];
			*on = h->sh_nets[j];
			on->on_name = obs_strdup(a, h->sh_nets[j].on_name);
			on->on_bridge = obs_strdup(a, h->sh_nets[j].on_bridge);
			on->on_uplink = obs_strdup(a, h->sh_nets[j].on_uplink);
		}
	}
	return obs;
}

static int
sim_observe(struct xdc_driver *drv, struct xdc_observed **out)
{
	struct sim *s = (struct sim *)drv;
	int rc = 0;

	*out = NULL;
	/* Inside a batch the pool in memory is the truth, and ours. */
	if (!s->s_batch) {
		if ((rc = sim_lock(s, LOCK_SH)))
			return rc;
		/* After open, parsing it again was most of a plan. */
		rc = sim_reload(s);
		sim_unlock(s);
		if (rc != 0)
			return rc;
		/* A shared lock does not allow writing; a later batch will. */
		s->s_dirty = 0;
	}
	*out = obs_pool(s->s_pool);
	return 0;
}

/* ---- Apply: VMs ------------------------------------------------------ */

/* Whether a VM fits the host once freed bytes are given back. */
static int
vm_fits(const struct sim_host *h, const char *name, const struct xdc_vm *vm,
    uint64_t freed, const char *verb)
{
	char need[XDC_SIZE_BUFSZ], avail[XDC_SIZE_BUFSZ];
	uint64_t free_mem = host_free(h) + freed;

	if (vm->vm_memory > free_mem)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot %s %s: it needs "
		    "%s of memory and %s is free",
		    h->sh_name, verb, name, xdc_size_fmt(vm->vm_memory, need),
		    xdc_size_fmt(free_mem, avail));
	if (vm->vm_max_vcpus > h->sh_cpus || vm->vm_vcpus > h->sh_cpus)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot %s %s: it has "
		    "%u vCPUs, the host has %u CPUs",
		    h->sh_name, verb, name,
		    vm->vm_max_vcpus > vm->vm_vcpus ? vm->vm_max_vcpus
		                                    : vm->vm_vcpus,
		    h->sh_cpus);
	return 0;
}

/* The action's spec, checked enough that building from it cannot fail. */
static int
spec_check(const struct xdc_action *a, const char *name)
{
	const struct xdc_dom_spec *sp = a->a_spec;
	size_t i;

	if (sp == NULL || sp->ds_vm == NULL)
		return xdc_error(XDC_EDRIVER, "%s %s: the action has no spec",
		    xdc_op_name(a->a_op), name);
	for (i = 0; i < sp->ds_vm->vm_nnics; i++)
		if (sp->ds_bridges == NULL || sp->ds_bridges[i] == NULL)
			return xdc_error(XDC_EDRIVER,
			    "%s %s: NIC %zu has no "
			    "bridge",
			    xdc_op_name(a->a_op), name, i);
	return 0;
}

static void
dom_set_nics(struct sim_pool *p, struct xdc_obs_domain *od,
    const struct xdc_dom_spec *sp)
{
	const struct xdc_vm *vm = sp->ds_vm;
	size_t i;

	od->od_nnics = vm->vm_nnics;
	od->od_nics =
	    xdc_arena_zalloc(p->p_arena, vm->vm_nnics * sizeof(*od->od_nics));
	for (i = 0; i < vm->vm_nnics; i++) {
		od->od_nics[i].on_bridge = pool_strdup(p, sp->ds_bridges[i]);
		memcpy(od->od_nics[i].on_mac, vm->vm_nics[i].nic_mac, 6);
	}
}

/*
 * Mark a domain xdc's, as built from the spec: the ownership marker (hash,
 * protect) and the build record, which a create knows and an adoption
 * takes from the declaration.
 */
static void
dom_own(struct sim_pool *p, struct xdc_obs_domain *od,
    const struct xdc_dom_spec *sp)
{
	struct xdc_obs_build *b = &od->od_build;
	const struct xdc_vm *vm = sp->ds_vm;
	size_t i;

	od->od_managed = 1;
	od->od_protect = sp->ds_protect != 0;
	od->od_hash = sp->ds_hash;
	od->od_has_build = 1;
	b->ob_type = vm->vm_type;
	b->ob_kernel = pool_strdup(p, vm->vm_kernel);
	b->ob_ramdisk = pool_strdup(p, vm->vm_ramdisk);
	b->ob_cmdline = pool_strdup(p, vm->vm_cmdline);
	b->ob_ndisks = vm->vm_ndisks;
	b->ob_disks =
	    xdc_arena_zalloc(p->p_arena, vm->vm_ndisks * sizeof(*b->ob_disks));
	for (i = 0; i < vm->vm_ndisks; i++) {
		b->ob_disks[i].d_target =
		    pool_strdup(p, vm->vm_disks[i].d_target);
		b->ob_disks[i].d_vdev = pool_strdup(p, vm->vm_disks[i].d_vdev);
		b->ob_disks[i].d_format = vm->vm_disks[i].d_format;
		b->ob_disks[i].d_readonly = vm->vm_disks[i].d_readonly;
	}
}

/* A new managed domain built from a spec that spec_check accepted. */
static struct sim_dom *
dom_build(struct sim_pool *p, const char *name, const struct xdc_dom_spec *sp)
{
	struct sim_dom *d = xdc_arena_zalloc(p->p_arena, sizeof(*d));
	struct xdc_obs_domain *od = &d->sd_d;
	const struct xdc_vm *vm = sp->ds_vm;

	od->od_name = pool_strdup(p, name);
	od->od_domid = p->p_next_domid++;
	od->od_state =
	    vm->vm_state == XDC_VM_PAUSED ? XDC_DOM_PAUSED : XDC_DOM_RUNNING;
	od->od_memory = vm->vm_memory;
	od->od_max_memory = vm->vm_max_memory > vm->vm_memory
	                        ? vm->vm_max_memory
	                        : vm->vm_memory;
	od->od_vcpus = vm->vm_vcpus;
	od->od_max_vcpus =
	    vm->vm_max_vcpus > vm->vm_vcpus ? vm->vm_max_vcpus : vm->vm_vcpus;
	od->od_weight = sp->ds_weight ? sp->ds_weight : SIM_WEIGHT;
	od->od_cap = sp->ds_cap;
	dom_set_nics(p, od, sp);
	dom_own(p, od, sp);
	return d;
}

/* xdc changes only what it owns, and never Domain-0 (SPEC §3). */
static int
dom_check_owned(
    const struct sim_host *h, const struct sim_dom *d, enum xdc_op op)
{
	if (is_dom0(d))
		return xdc_error(XDC_EDRIVER,
		    "host %s: refusing to %s "
		    "Domain-0",
		    h->sh_name, xdc_op_name(op));
	if (!d->sd_d.od_managed)
		return xdc_error(XDC_EDRIVER,
		    "host %s: refusing to %s %s: "
		    "xdc does not manage it",
		    h->sh_name, xdc_op_name(op), d->sd_d.od_name);
	return 0;
}

static int
vm_create(struct sim *s, struct sim_host *h, const struct xdc_action *a,
    const char *name)
{
	const struct xdc_dom_spec *sp = a->a_spec;
	struct sim_dom *d;
	int rc;

	if ((rc = spec_check(a, name)))
		return rc;
	if ((d = dom_find(h, name)) != NULL) {
		/* The same create again (a retried apply): already done. */
		if (d->sd_d.od_managed && !is_dom0(d) &&
		    d->sd_d.od_hash == sp->ds_hash)
			return 0;
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot create %s: a "
		    "domain of that name exists (%s)",
		    h->sh_name, name,
		    d->sd_d.od_managed ? "with a different spec"
		                       : "not managed by xdc");
	}
	if ((rc = vm_fits(h, name, sp->ds_vm, 0, "create")))
		return rc;
	dom_insert(h, dom_build(s->s_pool, name, sp));
	s->s_dirty = 1;
	return 0;
}

static int
vm_replace(struct sim *s, struct sim_host *h, const struct xdc_action *a,
    const char *name)
{
	struct sim_dom *old;
	int rc;

	if ((rc = spec_check(a, name)))
		return rc;
	old = dom_find(h, name);
	if (old != NULL && (rc = dom_check_owned(h, old, a->a_op)))
		return rc;
	/* The old domain's memory is free again once it is destroyed. */
	if ((rc = vm_fits(h, name, a->a_spec->ds_vm,
	         old != NULL ? old->sd_d.od_memory : 0, "replace")))
		return rc;
	if (old != NULL)
		dom_remove(h, old);
	dom_insert(h, dom_build(s->s_pool, name, a->a_spec));
	s->s_dirty = 1;
	return 0;
}

static int
vm_update(struct sim *s, struct sim_host *h, struct sim_dom *d,
    const struct xdc_action *a)
{
	struct xdc_obs_domain *od = &d->sd_d;
	const struct xdc_vm *vm;
	char b1[XDC_SIZE_BUFSZ], b2[XDC_SIZE_BUFSZ];
	int rc;

	if ((rc = spec_check(a, od->od_name)))
		return rc;
	vm = a->a_spec->ds_vm;
	/* Check everything first: a failed update changes nothing. */
	if (a->a_update & XDC_UPD_MEMORY) {
		if (vm->vm_memory > od->od_max_memory)
			return xdc_error(XDC_EDRIVER,
			    "host %s: cannot set %s's memory to %s: above its "
			    "max_memory %s",
			    h->sh_name, od->od_name,
			    xdc_size_fmt(vm->vm_memory, b1),
			    xdc_size_fmt(od->od_max_memory, b2));
		if (vm->vm_memory > od->od_memory &&
		    vm->vm_memory - od->od_memory > host_free(h))
			return xdc_error(XDC_EDRIVER,
			    "host %s: cannot grow %s "
			    "to %s: %s is free",
			    h->sh_name, od->od_name,
			    xdc_size_fmt(vm->vm_memory, b1),
			    xdc_size_fmt(host_free(h), b2));
	}
	if ((a->a_update & XDC_UPD_VCPUS) && vm->vm_vcpus > od->od_max_vcpus)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot set %s's vcpus "
		    "to %u: above its max_vcpus %u",
		    h->sh_name, od->od_name, vm->vm_vcpus, od->od_max_vcpus);

	if (a->a_update & XDC_UPD_MEMORY) {
		h->sh_used = h->sh_used - od->od_memory + vm->vm_memory;
		od->od_memory = vm->vm_memory;
	}
	if (a->a_update & XDC_UPD_VCPUS)
		od->od_vcpus = vm->vm_vcpus;
	if (a->a_update & XDC_UPD_SCHED) {
		od->od_weight =
		    a->a_spec->ds_weight ? a->a_spec->ds_weight : SIM_WEIGHT;
		od->od_cap = a->a_spec->ds_cap;
	}
	if (a->a_update & XDC_UPD_NICS)
		dom_set_nics(s->s_pool, od, a->a_spec);
	if (a->a_update & XDC_UPD_MARKER) {
		od->od_protect = a->a_spec->ds_protect != 0;
		od->od_hash = a->a_spec->ds_hash;
	}
	if (a->a_update & XDC_UPD_ADOPT)
		dom_own(s->s_pool, od, a->a_spec);
	s->s_dirty = 1;
	return 0;
}

/*
 * Whether an adoption may take the domain: never Domain-0; one that is
 * xdc's already may be adopted again only by the same spec (a retried
 * apply), not taken from the VM it was built for.
 */
static int
dom_check_adoptable(const struct sim_host *h, const struct sim_dom *d,
    const struct xdc_action *a)
{
	if (is_dom0(d))
		return xdc_error(XDC_EDRIVER,
		    "host %s: refusing to adopt Domain-0", h->sh_name);
	if (d->sd_d.od_managed && d->sd_d.od_hash != a->a_spec->ds_hash)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot adopt %s: xdc manages it already, with "
		    "a different spec",
		    h->sh_name, d->sd_d.od_name);
	return 0;
}

/* Change a domain's run state, like xl start/shutdown/pause/... would. */
static int
vm_lifecycle(
    struct sim *s, struct sim_host *h, struct sim_dom *d, enum xdc_op op)
{
	struct xdc_obs_domain *od = &d->sd_d;
	enum xdc_dom_state st = od->od_state;

	switch (op) {
	case XDC_OP_START:
		if (st == XDC_DOM_RUNNING || st == XDC_DOM_PAUSED)
			return 0;
		/* FALLTHROUGH */
	case XDC_OP_RESTART:
		/* Xen builds the domain again: a new domid. */
		od->od_domid = s->s_pool->p_next_domid++;
		od->od_state = XDC_DOM_RUNNING;
		break;
	case XDC_OP_STOP:
		/* A graceful shutdown, then the domain is destroyed. */
		dom_remove(h, d);
		break;
	case XDC_OP_PAUSE:
	case XDC_OP_UNPAUSE:
		if (st ==
		    (op == XDC_OP_PAUSE ? XDC_DOM_PAUSED : XDC_DOM_RUNNING))
			return 0;
		if (st != XDC_DOM_RUNNING && st != XDC_DOM_PAUSED)
			return xdc_error(XDC_EDRIVER,
			    "host %s: cannot %s %s: "
			    "it is %s",
			    h->sh_name, xdc_op_name(op), od->od_name,
			    xdc_dom_state_name(st));
		od->od_state =
		    op == XDC_OP_PAUSE ? XDC_DOM_PAUSED : XDC_DOM_RUNNING;
		break;
	default:
		return xdc_error(XDC_EDRIVER, "sim: unknown operation %d", op);
	}
	s->s_dirty = 1;
	return 0;
}

/*
 * A live migration, as Xen does it: the running domain leaves host h for
 * the host a_to_host, where it runs on with a new domain id and the same
 * marker, once its memory fits there. The sim moves domains between the
 * hosts of its own pool file only; a destination it does not hold is
 * refused, and a sim whose file holds one host of several (per-host pool
 * files) must not claim XDC_DRV_MIGRATE.
 */
static int
vm_migrate(struct sim *s, struct sim_host *h, struct sim_dom *d,
    const struct xdc_action *a)
{
	struct xdc_obs_domain *od = &d->sd_d;
	char need[XDC_SIZE_BUFSZ], avail[XDC_SIZE_BUFSZ];
	struct sim_host *to;
	struct sim_dom *nd;

	if (a->a_to_host == NULL ||
	    (to = host_find(s->s_pool, a->a_to_host)) == NULL)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot migrate %s to host %s: it is not in "
		    "this pool file (%s)",
		    h->sh_name, od->od_name,
		    a->a_to_host ? a->a_to_host : "(none)", s->s_path);
	if (to == h)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot migrate %s: it is on that host already",
		    h->sh_name, od->od_name);
	if (od->od_state != XDC_DOM_RUNNING)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot migrate %s: it is %s", h->sh_name,
		    od->od_name, xdc_dom_state_name(od->od_state));
	if (dom_find(to, od->od_name) != NULL)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot migrate %s: host %s has a domain of that "
		    "name",
		    h->sh_name, od->od_name, to->sh_name);
	if (od->od_memory > host_free(to))
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot migrate %s to host %s: it needs %s of "
		    "memory and %s is free there",
		    h->sh_name, od->od_name, to->sh_name,
		    xdc_size_fmt(od->od_memory, need),
		    xdc_size_fmt(host_free(to), avail));
	if (od->od_max_vcpus > to->sh_cpus)
		return xdc_error(XDC_EDRIVER,
		    "host %s: cannot migrate %s to host %s: it has %u vCPUs, "
		    "the host has %u CPUs",
		    h->sh_name, od->od_name, to->sh_name, od->od_max_vcpus,
		    to->sh_cpus);
	nd = xdc_arena_zalloc(s->s_pool->p_arena, sizeof(*nd));
	nd->sd_d = *od;
	nd->sd_d.od_domid = s->s_pool->p_next_domid++;
	dom_remove(h, d);
	dom_insert(to, nd);
	s->s_dirty = 1;
	return 0;
}

static int
apply_vm(struct sim *s, struct sim_host *h, const struct xdc_action *a)
{
	const char *name = a->a_name;
	struct sim_host *to;
	struct sim_dom *d;
	int rc;

	if (name == NULL && a->a_spec != NULL && a->a_spec->ds_vm != NULL)
		name = a->a_spec->ds_vm->vm_name;
	if (name == NULL)
		return xdc_error(XDC_EDRIVER, "%s: the action names no VM",
		    xdc_op_name(a->a_op));
	if (a->a_op == XDC_OP_CREATE)
		return vm_create(s, h, a, name);
	if (a->a_op == XDC_OP_REPLACE)
		return vm_replace(s, h, a, name);
	d = dom_find(h, name);
	if (d == NULL) {
		/* Gone already is what destroy and stop want. */
		if (a->a_op == XDC_OP_DESTROY || a->a_op == XDC_OP_STOP)
			return 0;
		/* A retried migrate finds its domain moved. */
		if (a->a_op == XDC_OP_MIGRATE && a->a_to_host != NULL &&
		    (to = host_find(s->s_pool, a->a_to_host)) != NULL &&
		    (d = dom_find(to, name)) != NULL && d->sd_d.od_managed)
			return 0;
		return xdc_error(XDC_ENOTFOUND,
		    "host %s: cannot %s %s: no "
		    "such domain",
		    h->sh_name, xdc_op_name(a->a_op), name);
	}
	if (a->a_op == XDC_OP_UPDATE && (a->a_update & XDC_UPD_ADOPT)) {
		if ((rc = spec_check(a, name)) ||
		    (rc = dom_check_adoptable(h, d, a)))
			return rc;
		return vm_update(s, h, d, a);
	}
	if ((rc = dom_check_owned(h, d, a->a_op)))
		return rc;
	switch (a->a_op) {
	case XDC_OP_DESTROY:
		dom_remove(h, d);
		s->s_dirty = 1;
		return 0;
	case XDC_OP_UPDATE:
		return vm_update(s, h, d, a);
	case XDC_OP_MIGRATE:
		return vm_migrate(s, h, d, a);
	default:
		return vm_lifecycle(s, h, d, a->a_op);
	}
}

/* ---- Apply: networks ------------------------------------------------- */

static void
net_set(struct sim_pool *p, struct xdc_obs_network *n,
    const struct xdc_network *decl, unsigned what)
{
	if (what & XDC_UPD_MTU)
		n->on_mtu = decl->n_mtu ? decl->n_mtu : SIM_MTU;
	if (what & XDC_UPD_UPLINK) {
		n->on_uplink = pool_strdup(p, decl->n_uplink);
		n->on_vlan = decl->n_vlan;
	}
}

static int
apply_net(struct sim *s, struct sim_host *h, const struct xdc_action *a)
{
	const struct xdc_network *decl = a->a_net;
	const char *bridge = a->a_bridge;
	struct xdc_obs_network *n = NULL;
	unsigned what;
	long at;
	size_t i;

	if (bridge == NULL && decl != NULL)
		bridge = decl->n_bridge;
	/* A destroy may name the network only: find its bridge. */
	for (i = 0; bridge == NULL && a->a_name != NULL && i < h->sh_nnets; i++)
		if (h->sh_nets[i].on_name != NULL &&
		    !strcmp(h->sh_nets[i].on_name, a->a_name))
			bridge = h->sh_nets[i].on_bridge;
	if (bridge == NULL && a->a_op == XDC_OP_DESTROY)
		return 0;
	if (bridge == NULL)
		return xdc_error(XDC_EDRIVER, "%s network %s: no bridge given",
		    xdc_op_name(a->a_op), a->a_name ? a->a_name : "?");
	at = net_find(h, bridge);
	if (at >= 0) {
		n = &h->sh_nets[at];
		if (!n->on_managed)
			return xdc_error(XDC_EDRIVER,
			    "host %s: refusing to %s "
			    "bridge %s: xdc does not "
			    "manage it",
			    h->sh_name, xdc_op_name(a->a_op), bridge);
	}
	switch (a->a_op) {
	case XDC_OP_CREATE:
	case XDC_OP_UPDATE:
		if (decl == NULL)
			return xdc_error(XDC_EDRIVER,
			    "%s network %s: the "
			    "action has no network",
			    xdc_op_name(a->a_op), bridge);
		if (n == NULL && a->a_op == XDC_OP_UPDATE)
			return xdc_error(XDC_ENOTFOUND,
			    "host %s: cannot update bridge %s: no such bridge",
			    h->sh_name, bridge);
		what = XDC_UPD_MTU | XDC_UPD_UPLINK;
		if (a->a_op == XDC_OP_UPDATE &&
		    (a->a_update & (XDC_UPD_MTU | XDC_UPD_UPLINK)))
			what = a->a_update;
		if (n == NULL) {
			/* A retried create finds its bridge and updates it. */
			n = net_insert(h, (size_t)(-at - 1));
			n->on_bridge = pool_strdup(s->s_pool, bridge);
			n->on_up = 1;
			n->on_managed = 1;
		}
		n->on_name = pool_strdup(s->s_pool, decl->n_name);
		net_set(s->s_pool, n, decl, what);
		/* A declared Network is up, as the net driver leaves it. */
		n->on_up = 1;
		break;
	case XDC_OP_DESTROY:
		if (n == NULL)
			return 0;
		memmove(n, n + 1, (h->sh_nnets - (size_t)at - 1) * sizeof(*n));
		h->sh_nnets--;
		break;
	default:
		return xdc_error(
		    XDC_EDRIVER, "cannot %s a Network", xdc_op_name(a->a_op));
	}
	s->s_dirty = 1;
	return 0;
}

/* ---- Apply ----------------------------------------------------------- */

/* An injected fault for this action fails it, once per time injected. */
static int
fault_take(struct sim *s, const struct xdc_action *a)
{
	struct sim_fault *f;

	if (a->a_name == NULL ||
	    (f = fault_find(s->s_pool, a->a_op, a->a_name)) == NULL)
		return 0;
	if (--f->sf_times == 0)
		fault_remove(s->s_pool, f);
	s->s_dirty = 1;
	return xdc_error(XDC_EDRIVER, "injected fault: %s %s",
	    xdc_op_name(a->a_op), a->a_name);
}

static int
host_of(struct sim *s, const struct xdc_action *a, struct sim_host **out)
{
	struct sim_pool *p = s->s_pool;

	*out = NULL;
	if (a->a_host == NULL && p->p_nhosts == 1)
		*out = &p->p_hosts[0];
	else if (a->a_host == NULL)
		return xdc_error(XDC_EDRIVER, "%s %s: the action names no host",
		    xdc_op_name(a->a_op), a->a_name ? a->a_name : "?");
	else if ((*out = host_find(p, a->a_host)) == NULL)
		return xdc_error(
		    XDC_ENOTFOUND, "no host named %s in the pool", a->a_host);
	return 0;
}

static int
apply_locked(struct sim *s, const struct xdc_action *a)
{
	struct sim_host *h;
	int rc;

	if ((unsigned)a->a_op >= XDC_OP__COUNT)
		return xdc_error(
		    XDC_EDRIVER, "sim: unknown operation %d", a->a_op);
	if ((rc = fault_take(s, a)) || (rc = host_of(s, a, &h)))
		return rc;
	if (a->a_kind == XDC_OBJ_NETWORK)
		return apply_net(s, h, a);
	return apply_vm(s, h, a);
}

static int
sim_apply(struct xdc_driver *drv, const struct xdc_action *a)
{
	struct sim *s = (struct sim *)drv;
	int own, rc;

	if ((rc = txn_begin(s, &own)))
		return rc;
	rc = apply_locked(s, a);
	return txn_end(s, own, rc);
}

/* ---- Disturbances ---------------------------------------------------- */

static struct sim *
sim_of(const struct xdc_driver *drv)
{
	if (drv == NULL || drv->observe != sim_observe)
		return NULL;
	return (struct sim *)(uintptr_t)drv;
}

static int
not_sim(void)
{
	return xdc_error(XDC_ERR, "not the sim driver");
}

int
sim_crash(struct xdc_driver *drv, const char *name)
{
	struct sim *s = sim_of(drv);
	struct sim_host *h;
	struct sim_dom *d = NULL;
	int own, rc;
	size_t i;

	if (s == NULL)
		return not_sim();
	if ((rc = txn_begin(s, &own)))
		return rc;
	for (i = 0; d == NULL && i < s->s_pool->p_nhosts; i++) {
		h = &s->s_pool->p_hosts[i];
		d = dom_find(h, name);
	}
	if (d == NULL)
		rc = xdc_error(
		    XDC_ENOTFOUND, "no domain named %s in the pool", name);
	else if (is_dom0(d))
		rc = xdc_error(XDC_ERR, "Domain-0 cannot crash: it is the "
		                        "host");
	else if (d->sd_d.od_state != XDC_DOM_CRASHED) {
		d->sd_d.od_state = XDC_DOM_CRASHED;
		s->s_dirty = 1;
	}
	return txn_end(s, own, rc);
}

int
sim_fail(
    struct xdc_driver *drv, enum xdc_op op, const char *name, unsigned times)
{
	struct sim *s = sim_of(drv);
	struct sim_pool *p;
	struct sim_fault *f;
	int own, rc;

	if (s == NULL)
		return not_sim();
	if ((unsigned)op >= XDC_OP__COUNT || name == NULL || *name == '\0')
		return xdc_error(XDC_ERR, "sim: a fault needs an operation and "
		                          "a name");
	if ((rc = txn_begin(s, &own)))
		return rc;
	p = s->s_pool;
	f = fault_find(p, op, name);
	if (f != NULL && times == 0) {
		fault_remove(p, f);
	} else if (f != NULL) {
		f->sf_times = times;
	} else if (times > 0) {
		p->p_faults = xdc_reallocarray(
		    p->p_faults, p->p_nfaults + 1, sizeof(*p->p_faults));
		f = &p->p_faults[p->p_nfaults++];
		f->sf_op = op;
		f->sf_name = pool_strdup(p, name);
		f->sf_times = times;
	}
	s->s_dirty = 1;
	return txn_end(s, own, 0);
}

int
sim_add_unmanaged(
    struct xdc_driver *drv, const char *name, uint64_t memory, const char *host)
{
	struct sim *s = sim_of(drv);
	char need[XDC_SIZE_BUFSZ], avail[XDC_SIZE_BUFSZ];
	struct sim_host *h;
	struct sim_dom *d;
	int own, rc;

	if (s == NULL)
		return not_sim();
	if (name == NULL || *name == '\0' || memory == 0)
		return xdc_error(XDC_ERR, "sim: an unmanaged domain needs a "
		                          "name and memory");
	if ((rc = txn_begin(s, &own)))
		return rc;
	h = host == NULL ? &s->s_pool->p_hosts[0] : host_find(s->s_pool, host);
	if (h == NULL) {
		rc = xdc_error(
		    XDC_ENOTFOUND, "no host named %s in the pool", host);
	} else if (dom_find(h, name) != NULL) {
		rc = xdc_error(XDC_ERR, "host %s: a domain named %s exists",
		    h->sh_name, name);
	} else if (memory > host_free(h)) {
		rc = xdc_error(XDC_EDRIVER,
		    "host %s: cannot start %s: it "
		    "needs %s of memory and %s is free",
		    h->sh_name, name, xdc_size_fmt(memory, need),
		    xdc_size_fmt(host_free(h), avail));
	} else {
		d = xdc_arena_zalloc(s->s_pool->p_arena, sizeof(*d));
		d->sd_d.od_name = pool_strdup(s->s_pool, name);
		d->sd_d.od_domid = s->s_pool->p_next_domid++;
		d->sd_d.od_state = XDC_DOM_RUNNING;
		d->sd_d.od_memory = d->sd_d.od_max_memory = memory;
		d->sd_d.od_vcpus = d->sd_d.od_max_vcpus = 1;
		d->sd_d.od_weight = SIM_WEIGHT;
		dom_insert(h, d);
		s->s_dirty = 1;
	}
	return txn_end(s, own, rc);
}

unsigned long
sim_write_count(const struct xdc_driver *drv)
{
	const struct sim *s = sim_of(drv);

	return s != NULL ? s->s_writes : 0;
}

int
sim_parse_pool(const char *name, const char *text, size_t len, char **out)
{
	struct sim s;
	struct sim_pool *p = NULL;
	size_t n;
	int rc;

	if (out != NULL)
		*out = NULL;
	memset(&s, 0, sizeof(s));
	s.s_path = xdc_strdup(name != NULL ? name : "pool");
	if ((rc = pool_parse(&s, text, len, &p)) == 0 && out != NULL)
		rc = pool_text(&s, p, out, &n);
	pool_free(p);
	free(s.s_path);
	return rc;
}

/* ---- The watch, for the loop ----------------------------------------- */

/*
 * The pool file's own inode is watched, not its directory: the directory
 * is also the loop's default state directory, and the status files the
 * loop writes there after every cycle would wake it again and again. The
 * file is replaced by rename on every write, so each drain watches the
 * file that is there now; a change between the rename and the drain is
 * seen by the cycle that follows the drain, which reads the file anew.
 */
#define SIM_WATCH_MASK                                                         \
	(IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF)

static void
sim_watch_arm(struct sim *s)
{
	int wd = inotify_add_watch(s->s_watch_fd, s->s_path, SIM_WATCH_MASK);

	/* The old file is gone: its watch would only echo that. */
	if (s->s_watch_wd >= 0 && wd != s->s_watch_wd)
		inotify_rm_watch(s->s_watch_fd, s->s_watch_wd);
	s->s_watch_wd = wd;
}

static int
sim_watch_fd(struct xdc_driver *drv)
{
	struct sim *s = (struct sim *)drv;

	if (s->s_watch_fd < 0) {
		s->s_watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (s->s_watch_fd < 0)
			return -1;
		sim_watch_arm(s);
	}
	return s->s_watch_fd;
}

static void
sim_watch_drain(struct xdc_driver *drv)
{
	struct sim *s = (struct sim *)drv;
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	if (s->s_watch_fd < 0)
		return;
	while (read(s->s_watch_fd, buf, sizeof(buf)) > 0)
		;
	sim_watch_arm(s);
}

/* ---- Open and free ---------------------------------------------------- */

static void
sim_free(struct xdc_driver *drv)
{
	struct sim *s = (struct sim *)drv;
	size_t i;

	if (s == NULL)
		return;
	/* What a batch did has happened; a forgotten end() still saves it. */
	if (s->s_batch)
		sim_end(drv);
	if (s->s_lockfd >= 0)
		close(s->s_lockfd);
	if (s->s_watch_fd >= 0)
		close(s->s_watch_fd);
	pool_free(s->s_pool);
	for (i = 0; i < s->s_ncfg_hosts; i++)
		free(s->s_cfg_hosts[i].ch_name);
	free(s->s_cfg_hosts);
	free(s->s_path);
	free(s->s_lock_path);
	free(s->s_dir);
	free(s);
}

int
sim_open(
    const char *path, const struct xdc_config *cfg, struct xdc_driver **out)
{
	struct sim_cfg_host *ch;
	struct sim *s;
	const char *slash;
	size_t i;
	int rc, fresh;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return xdc_error(XDC_ERR, "sim: no pool file given");
	s = xdc_calloc(1, sizeof(*s));
	s->s_drv.version = XDC_DRIVER_VERSION;
	s->s_drv.name = "sim";
	/* Its one file holds every host: it moves domains between them. */
	s->s_drv.caps = XDC_DRV_MIGRATE;
	s->s_drv.observe = sim_observe;
	s->s_drv.begin = sim_begin;
	s->s_drv.apply = sim_apply;
	s->s_drv.end = sim_end;
	s->s_drv.free = sim_free;
	s->s_drv.watch_fd = sim_watch_fd;
	s->s_drv.watch_drain = sim_watch_drain;
	s->s_lockfd = -1;
	s->s_watch_fd = -1;
	s->s_watch_wd = -1;
	s->s_path = xdc_strdup(path);
	xdc_asprintf(&s->s_lock_path, "%s.lock", path);
	slash = strrchr(path, '/');
	if (slash == NULL)
		s->s_dir = xdc_strdup(".");
	else if (slash == path)
		s->s_dir = xdc_strdup("/");
	else
		xdc_asprintf(&s->s_dir, "%.*s", (int)(slash - path), path);
	if (cfg != NULL && cfg->cfg_nhosts == 0) {
		/* A configuration without Hosts manages one host, local. */
		s->s_ncfg_hosts = 1;
		s->s_cfg_hosts = xdc_calloc(1, sizeof(*s->s_cfg_hosts));
		s->s_cfg_hosts[0].ch_name = xdc_strdup(XDC_LOCAL_HOST);
	} else if (cfg != NULL) {
		s->s_ncfg_hosts = cfg->cfg_nhosts;
		s->s_cfg_hosts =
		    xdc_calloc(cfg->cfg_nhosts, sizeof(*s->s_cfg_hosts));
		for (i = 0; i < cfg->cfg_nhosts; i++) {
			ch = &s->s_cfg_hosts[i];
			ch->ch_name = xdc_strdup(cfg->cfg_hosts[i].h_name);
			ch->ch_memory = cfg->cfg_hosts[i].h_memory;
			ch->ch_cpus = cfg->cfg_hosts[i].h_cpus;
		}
	}
	/* 0644 whatever the umask, as the pool file; an old one keeps its. */
	s->s_lockfd =
	    open(s->s_lock_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (s->s_lockfd >= 0 && fchmod(s->s_lockfd, 0644) < 0) {
		rc = xdc_error_sys(XDC_ERR, "cannot chmod %s", s->s_lock_path);
		goto out;
	}
	if (s->s_lockfd < 0 && errno == EEXIST)
		s->s_lockfd = open(s->s_lock_path, O_RDWR | O_CLOEXEC);
	if (s->s_lockfd < 0) {
		rc = xdc_error_sys(XDC_ERR, "cannot open %s", s->s_lock_path);
		goto out;
	}
	/* Create the file, or bring it in line with the configuration. */
	if ((rc = sim_begin(&s->s_drv)))
		goto out;
	pool_sweep(s);
	/* Read and found in line: s_pool is the file's, for observe. */
	fresh = !s->s_dirty && s->s_read_st.st_ino != 0;
	if ((rc = sim_end(&s->s_drv)))
		goto out;
	s->s_fresh = fresh;
	*out = &s->s_drv;
	s = NULL;
out:
	sim_free(s ? &s->s_drv : NULL);
	return rc;
}
