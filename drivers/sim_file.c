/*
 * The sim driver's pool file (see sim_file.h): the pool as JSON, read
 * with a message naming the file and the place of anything that is not a
 * pool (written back by sim_file_write.c); and the lock that processes
 * sharing the file take around it. Its domains and networks are observed
 * state, in the JSON the pool's host records use too (obs_json.h); what
 * is the sim's alone (hosts' capacity, faults, delays) is read here. The
 * file is read first by the event reader (sim_file_events.c), in pieces,
 * which is fast and gives up on anything unusual; then here, whole, by
 * jansson, which reads it the same or says what is wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/error.h"
#include "base/file.h"
#include "drivers/json_split.h"
#include "drivers/obs_json.h"
#include "drivers/obs_read.h"
#include "drivers/sim_file.h"
#include "drivers/sim_file_int.h"
#include "drivers/sim_pool.h"
#include "schema/model.h"
#include "schema/values.h"

/* Ten thousand domains take some 10MiB. */
#define SIM_FILE_MAX (256ULL * 1024 * 1024)

/* ---- Reading the pool file ------------------------------------------ */

/*
 * Where in the file a value is, for messages: "PATH: not a simulated
 * pool: host a, domain b: ...". Domains and networks are read by the
 * codec of observed state (obs_json.h), which says it the same way.
 */
struct rd {
	char *r_what; /* "PATH: not a simulated pool" */
	struct sim_pool *r_pool;
	char r_where[256];
};

static int
rd_bad(const struct rd *r, const char *key, const char *what)
{
	return xdc_error(XDC_ERR, "%s: %s%s\"%s\" %s", r->r_what, r->r_where,
	    r->r_where[0] ? ": " : "", key, what);
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

/* A non-empty string copied into the pool. */
static int
rd_str(const struct rd *r, json_t *o, const char *key, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL)
		return rd_bad(r, key, "is missing");
	if (!json_is_string(v) || json_string_length(v) == 0)
		return rd_bad(r, key, "must be a non-empty string");
	*out = sim_pool_strdup(r->r_pool, json_string_value(v));
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

/* An operation's name, as its enum. */
static int
rd_op(const struct rd *r, json_t *o, unsigned *out)
{
	json_t *v = json_object_get(o, "op");
	unsigned i;

	if (v == NULL)
		return rd_bad(r, "op", "is missing");
	for (i = 0; json_is_string(v) && i < XDC_OP__COUNT; i++) {
		if (!strcmp(
		        json_string_value(v), xdc_op_name((enum xdc_op)i))) {
			*out = i;
			return 0;
		}
	}
	return rd_bad(r, "op", "has an unknown value");
}

/*
 * Domain-0 is the domain with id 0: one by that name and another id
 * would meet the Domain-0 every host is given, and the pool would hold
 * two domains of one name.
 */
int
sim_file_dom0_right(const struct xdc_obs_domain *od)
{
	return (od->od_domid == 0) == !strcmp(od->od_name, SIM_DOM0_NAME);
}

/* A domain read joins its host, the next domid past its own. */
void
sim_file_take_dom(
    struct sim_pool *p, struct sim_host *h, const struct sim_dom *d)
{
	if (d->sd_d.od_domid >= p->p_next_domid)
		p->p_next_domid = d->sd_d.od_domid + 1;
	sim_dom_insert(h, d);
}

static int
rd_domain(struct rd *r, struct sim_host *h, json_t *o)
{
	struct sim_dom d;
	struct xdc_obs_domain *od = &d.sd_d;
	int rc;

	memset(&d, 0, sizeof(d));
	if ((rc = obs_json_read_domain(o, r->r_what, h->sh_name,
	         OBS_JSON_DEFAULTS, r->r_pool->p_arena, od)))
		return rc;
	snprintf(r->r_where, sizeof(r->r_where), "host %s, domain %s",
	    h->sh_name, od->od_name);
	if (sim_dom_find(h, od->od_name) != NULL)
		return rd_bad(r, "name", "is a duplicate");
	if (!sim_file_dom0_right(od))
		return rd_bad(r, "domid", "is 0 for Domain-0 and no other");
	sim_file_take_dom(r->r_pool, h, &d);
	return 0;
}

static int
rd_network(struct rd *r, struct sim_host *h, json_t *o)
{
	struct xdc_obs_network n;
	long at;
	int rc;

	if ((rc = obs_json_read_network(o, r->r_what, h->sh_name,
	         OBS_JSON_DEFAULTS, r->r_pool->p_arena, &n)))
		return rc;
	snprintf(r->r_where, sizeof(r->r_where), "host %s, bridge %s",
	    h->sh_name, n.on_bridge);
	if ((at = sim_net_find(h, n.on_bridge)) >= 0)
		return rd_bad(r, "bridge", "is a duplicate");
	*sim_net_insert(h, (size_t)(-at - 1)) = n;
	return 0;
}

/* The host's watchdog, when it is armed: {"timeout_ms", "deadline"}. */
static int
rd_watchdog(const struct rd *r, json_t *o, struct sim_host *h)
{
	json_t *w = json_object_get(o, "watchdog");
	uint64_t timeout, deadline;
	int rc;

	if (w == NULL || json_is_null(w))
		return 0;
	if (!json_is_object(w))
		return rd_bad(r, "watchdog", "must be an object or null");
	if ((rc = rd_u64(
	         r, w, "timeout_ms", 1, 0, SIM_WATCHDOG_MAX_MS, &timeout)) ||
	    (rc = rd_u64(r, w, "deadline", 1, 0, INT64_MAX, &deadline)))
		return rc;
	if (timeout == 0 || deadline == 0)
		return rd_bad(r, "watchdog",
		    "must have a timeout_ms and a deadline above 0");
	h->sh_wd_timeout = (int64_t)timeout;
	h->sh_wd_deadline = (int64_t)deadline;
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
	if ((rc = rd_str(r, o, "name", &name)))
		return rc;
	snprintf(r->r_where, sizeof(r->r_where), "host %s", name);
	if (sim_host_find(r->r_pool, name) != NULL)
		return rd_bad(r, "name", "is a duplicate");
	if ((rc = rd_u64(
	         r, o, "memory", 0, SIM_HOST_MEMORY, INT64_MAX, &memory)) ||
	    (rc = rd_u32(r, o, "cpus", 0, SIM_HOST_CPUS, &cpus)) ||
	    (rc = rd_array(r, o, "domains", &doms)) ||
	    (rc = rd_array(r, o, "networks", &nets)))
		return rc;
	h = sim_host_add(r->r_pool, name, memory, cpus);
	if ((rc = rd_watchdog(r, o, h)))
		return rc;
	/* sim_host_add may move the hosts: h is only good until the next one.
	 */
	json_array_foreach(doms, i, v) if ((rc = rd_domain(r, h, v))) return rc;
	json_array_foreach(
	    nets, i, v) if ((rc = rd_network(r, h, v))) return rc;
	if (!sim_host_has_dom0(h))
		sim_host_add_dom0(h);
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
	if ((rc = rd_op(r, o, &op)) ||
	    (rc = rd_str(r, o, "name", &f.sf_name)) ||
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
rd_slow(struct rd *r, json_t *o)
{
	struct sim_pool *p = r->r_pool;
	struct sim_slow sl;
	unsigned op = 0;
	int rc;

	snprintf(r->r_where, sizeof(r->r_where), "slow[%zu]", p->p_nslows);
	if (!json_is_object(o))
		return rd_bad(r, "slow", "must hold objects");
	if ((rc = rd_op(r, o, &op)) ||
	    (rc = rd_str(r, o, "name", &sl.sl_name)) ||
	    (rc = rd_u64(r, o, "ms", 1, 0, SIM_SLOW_MAX_MS, &sl.sl_ms)) ||
	    (rc = rd_u32(r, o, "times", 0, 1, &sl.sl_times)))
		return rc;
	sl.sl_op = (enum xdc_op)op;
	if (sl.sl_times == 0 || sl.sl_ms == 0)
		return 0;
	p->p_slows =
	    xdc_reallocarray(p->p_slows, p->p_nslows + 1, sizeof(*p->p_slows));
	p->p_slows[p->p_nslows++] = sl;
	return 0;
}

/*
 * The hosts one by one from the text: by the event reader, or, when it
 * gives up, by jansson, each tree gone before the next.
 */
static int
rd_hosts_split(struct rd *r, struct json_split_it *it)
{
	struct obs_read ev;
	json_error_t jerr;
	size_t s, e;
	json_t *v;
	int rc;

	obs_read_init(&ev);
	while ((rc = json_split_next(it, &s, &e)) == 1) {
		if (sim_file_host_events(
		        r->r_pool, &ev, it->js_text + s, e - s) == 0)
			continue;
		v = json_loadb(
		    it->js_text + s, e - s, JSON_REJECT_DUPLICATES, &jerr);
		if (v == NULL) {
			rc = -1;
			break;
		}
		rc = rd_host(r, v);
		json_decref(v);
		if (rc != 0)
			break;
	}
	obs_read_fini(&ev);
	return rc;
}

/* The pool of root; its hosts from it, not root's array, when split. */
static int
pool_from_json(const char *path, json_t *root, struct json_split_it *split,
    struct sim_pool **out)
{
	struct sim_pool *p = sim_pool_new();
	json_t *hosts, *faults, *slows, *v;
	uint64_t version, next;
	struct rd r;
	size_t i;
	int rc;

	memset(&r, 0, sizeof(r));
	xdc_asprintf(&r.r_what, "%s: not a simulated pool", path);
	r.r_pool = p;
	hosts = json_object_get(root, "hosts");
	if (!json_is_object(root) || !json_is_array(hosts)) {
		rc = xdc_error(XDC_ERR,
		    "%s: not a simulated pool (no \"hosts\" array)", path);
		goto out;
	}
	if ((rc = rd_u64(&r, root, "format_version", 0, SIM_FILE_FORMAT,
	         UINT32_MAX, &version)))
		goto out;
	if (version != SIM_FILE_FORMAT) {
		rc = rd_bad(&r, "format_version", "is not 1");
		goto out;
	}
	if ((rc = rd_u64(&r, root, "next_domid", 0, 1, UINT32_MAX, &next)) ||
	    (rc = rd_array(&r, root, "faults", &faults)) ||
	    (rc = rd_array(&r, root, "slow", &slows)))
		goto out;
	p->p_next_domid = next > 0 ? (uint32_t)next : 1;
	if (split != NULL) {
		if ((rc = rd_hosts_split(&r, split)))
			goto out;
	} else {
		json_array_foreach(
		    hosts, i, v) if ((rc = rd_host(&r, v))) goto out;
	}
	json_array_foreach(faults, i, v) if ((rc = rd_fault(&r, v))) goto out;
	json_array_foreach(slows, i, v) if ((rc = rd_slow(&r, v))) goto out;
	if (p->p_nhosts == 0) {
		rc = xdc_error(
		    XDC_ERR, "%s: not a simulated pool: no hosts", path);
		goto out;
	}
	*out = p;
	p = NULL;
out:
	sim_pool_free(p);
	free(r.r_what);
	return rc;
}

/*
 * The pool read host by host: the root without its hosts, then each host.
 * Its text is the pool file's size; its tree, four times that (120 MB and
 * 480 MB for 100,000 domains on 1,000 hosts): one host's tree at a time
 * is a few hundred KB.
 */
static int
pool_split(
    const char *path, const char *text, size_t len, struct sim_pool **out)
{
	struct json_split_it it;
	json_error_t jerr;
	size_t restlen, start, end;
	char *rest;
	json_t *root;
	int rc;

	if (json_split_member(
	        text, len, "hosts", &rest, &restlen, &start, &end) != 0)
		return XDC_ERR;
	root = json_loadb(rest, restlen, JSON_REJECT_DUPLICATES, &jerr);
	free(rest);
	if (root == NULL)
		return XDC_ERR;
	json_split_begin(&it, text, start, end);
	rc = pool_from_json(path, root, &it, out);
	json_decref(root);
	return rc;
}

/*
 * The pool in len bytes of text by jansson, split; whatever the split
 * read does not take is read whole again, for the message (a place in
 * the file, the first fault) a whole read gives.
 */
static int
parse_jansson(
    const char *path, const char *text, size_t len, struct sim_pool **out)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	if (pool_split(path, text, len, out) == 0)
		return 0;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return xdc_error(XDC_ERR,
		    "%s: not valid JSON: line %d, column "
		    "%d: %s",
		    path, jerr.line, jerr.column, jerr.text);
	rc = pool_from_json(path, root, NULL, out);
	json_decref(root);
	return rc;
}

/* The pool in len bytes of text, as read from s's file. */
int
sim_file_parse(
    const char *path, const char *text, size_t len, struct sim_pool **out)
{
	*out = NULL;
	/* The event reader first; what it gives up on, jansson's. */
	if (sim_file_events(text, len, out) == 0)
		return 0;
	return parse_jansson(path, text, len, out);
}

/*
 * The file read in pieces by the event reader, never held whole: 0, or -1
 * when it gave up (or the file is not a regular file within the size),
 * nothing said, *out untouched.
 */
static int
read_events(const char *path, struct sim_pool **out)
{
	struct stat st;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size <= SIM_FILE_MAX)
		rc = sim_file_events_fd(fd, SIM_FILE_MAX, out);
	close(fd);
	return rc;
}

int
sim_file_read(const char *path, struct sim_pool **out, struct stat *st)
{
	char size[XDC_SIZE_BUFSZ];
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	memset(st, 0, sizeof(*st));
	/*
	 * The file's identity before its bytes: a file replaced in between
	 * is read again next time, never taken for the one read.
	 */
	if (stat(path, st) != 0) {
		memset(st, 0, sizeof(*st));
		if (errno == ENOENT)
			return 0;
		return xdc_error_sys(XDC_ERR, "cannot read %s", path);
	}
	/*
	 * The event reader reads the file in pieces; when it gives up, the
	 * file is read again from the start, whole, by jansson, which says
	 * why (the rare way: a file with faults, or not the writer's).
	 */
	if (read_events(path, out) == 0)
		return 0;
	rc = xdc_file_read(path, SIM_FILE_MAX, 0, &buf, &len);
	if (rc == XDC_ENOTFOUND) {
		memset(st, 0, sizeof(*st));
		return 0;
	}
	if (rc != 0)
		return rc;
	if (buf == NULL)
		return xdc_error(XDC_ERR,
		    "%s: not a simulated pool: %zu bytes, more than %s", path,
		    len, xdc_size_fmt(SIM_FILE_MAX, size));
	rc = parse_jansson(path, buf, len, out);
	free(buf);
	return rc;
}

int
sim_file_unchanged(const char *path, const struct stat *a)
{
	struct stat b;

	/*
	 * Every write replaces the file by a rename, so a write since shows
	 * as another inode; a change in place shows in the size or the times.
	 */
	return stat(path, &b) == 0 && a->st_dev == b.st_dev &&
	       a->st_ino == b.st_ino && a->st_size == b.st_size &&
	       a->st_mtim.tv_sec == b.st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b.st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

/* ---- Locking --------------------------------------------------------- */

/*
 * Never through a symbolic link: whoever could plant one at the lock's
 * path would have xdc create, open and lock the file it points to (as
 * root, any file). O_NONBLOCK: a FIFO planted there would block the open.
 */
#define LOCK_FLAGS (O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)

static int
lock_refuse(const char *lock_path, const struct stat *st)
{
	return xdc_error(XDC_ERR,
	    "%s: is %s, not the pool's lock file; refusing to use it "
	    "(remove it if the pool is yours)",
	    lock_path, xdc_file_kind(st));
}

int
sim_file_lock_open(const char *lock_path, int create, int *out)
{
	struct stat st;
	int fd, rc;

	*out = -1;
	for (;;) {
		if (!create) {
			fd = open(lock_path, LOCK_FLAGS);
			if (fd < 0 && errno == ENOENT)
				return 0;
			break;
		}
		/* O_EXCL fails on any link, even one to nowhere. */
		fd = open(lock_path, LOCK_FLAGS | O_CREAT | O_EXCL, 0644);
		/* 0644 whatever the umask, as the pool file; an old one
		 * keeps its. */
		if (fd >= 0 && fchmod(fd, 0644) < 0) {
			rc = xdc_error_sys(
			    XDC_ERR, "cannot chmod %s", lock_path);
			close(fd);
			return rc;
		}
		if (fd >= 0 || errno != EEXIST)
			break;
		fd = open(lock_path, LOCK_FLAGS);
		/* Removed in between: create it again. */
		if (fd >= 0 || errno != ENOENT)
			break;
	}
	if (fd < 0 && errno == ELOOP && lstat(lock_path, &st) == 0)
		return lock_refuse(lock_path, &st);
	if (fd < 0)
		return xdc_error_sys(XDC_ERR, "cannot open %s", lock_path);
	if (fstat(fd, &st) != 0)
		rc = xdc_error_sys(XDC_ERR, "cannot open %s", lock_path);
	else if (!S_ISREG(st.st_mode))
		rc = lock_refuse(lock_path, &st);
	else
		rc = 0;
	if (rc != 0) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

int
sim_file_lock(int fd, const char *lock_path, int how)
{
	while (flock(fd, how) < 0) {
		if (errno != EINTR)
			return xdc_error_sys(
			    XDC_ERR, "cannot lock %s", lock_path);
	}
	return 0;
}

int
sim_file_trylock(int fd, const char *lock_path)
{
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return 1;
		if (errno != EINTR)
			return xdc_error_sys(
			    XDC_ERR, "cannot lock %s", lock_path);
	}
	return 0;
}

void
sim_file_unlock(int fd)
{
	flock(fd, LOCK_UN);
}
