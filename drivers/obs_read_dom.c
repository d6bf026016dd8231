/*
 * A domain straight from yajl's events (see obs_read_dom.h): a small
 * stack of the objects and arrays open inside it (the domain, its cpu,
 * its nics and each nic, its build, the build's disks and each disk),
 * the key whose value comes next at each, the keys seen; each value goes
 * into its field as it comes. What obs_read_domain would refuse (a key
 * unknown or given twice, a value of the wrong type or out of range, a
 * key missing) gives up here too.
 */
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/strtab.h"
#include "base/error.h"
#include "drivers/obs_json.h"
#include "drivers/obs_read_dom.h"
#include "schema/values.h"

enum { L_DOM, L_CPU, L_NICS, L_NIC, L_BUILD, L_DISKS, L_DISK };

/*
 * The keys of each object, obs_read_host.c's: a key's index, or -1 when
 * it is none of them. Told apart by their first byte and length, then
 * compared a word at a time: no loop, no call.
 */
static inline int
eq(const char *s, const char *lit, size_t n)
{
	uint64_t a, b, c, d;
	uint32_t e, f, g, h;

	if (n >= 8) {
		memcpy(&a, s, 8);
		memcpy(&b, lit, 8);
		memcpy(&c, s + n - 8, 8);
		memcpy(&d, lit + n - 8, 8);
		return a == b && c == d;
	}
	if (n >= 4) {
		memcpy(&e, s, 4);
		memcpy(&f, lit, 4);
		memcpy(&g, s + n - 4, 4);
		memcpy(&h, lit + n - 4, 4);
		return e == f && g == h;
	}
	return memcmp(s, lit, n) == 0;
}

#define IS(lit) (n == sizeof(lit) - 1 && eq(s, lit, sizeof(lit) - 1))

static int
dom_key_of(const char *s, size_t n)
{
	switch (s[0]) {
	case 'n':
		return IS("name") ? D_NAME : IS("nics") ? D_NICS : -1;
	case 'd':
		return IS("domid") ? D_DOMID : -1;
	case 's':
		return IS("state")   ? D_STATE
		       : IS("scope") ? D_SCOPE
		       : IS("stub")  ? D_STUB
		                     : -1;
	case 'm':
		return IS("memory")       ? D_MEMORY
		       : IS("max_memory") ? D_MAX_MEMORY
		       : IS("max_vcpus")  ? D_MAX_VCPUS
		       : IS("managed")    ? D_MANAGED
		                          : -1;
	case 'v':
		return IS("vcpus") ? D_VCPUS : -1;
	case 'c':
		return IS("cpu") ? D_CPU : -1;
	case 'p':
		return IS("protect") ? D_PROTECT : -1;
	case 'a':
		return IS("applied") ? D_APPLIED : -1;
	case 'e':
		return IS("expires") ? D_EXPIRES : -1;
	case 'h':
		return IS("hash") ? D_HASH : -1;
	case 'b':
		return IS("build") ? D_BUILD : -1;
	default:
		return -1;
	}
}

static int
key_of(unsigned kind, const char *s, size_t n)
{
	if (n == 0)
		return -1;
	switch (kind) {
	case L_DOM:
		return dom_key_of(s, n);
	case L_CPU:
		return IS("weight") ? 0 : IS("cap") ? 1 : -1;
	case L_NIC:
		return IS("bridge") ? 0 : IS("mac") ? 1 : -1;
	case L_BUILD:
		return IS("type")      ? 0
		       : IS("kernel")  ? 1
		       : IS("ramdisk") ? 2
		       : IS("cmdline") ? 3
		       : IS("disks")   ? 4
		                       : -1;
	case L_DISK:
		return IS("target")     ? 0
		       : IS("vdev")     ? 1
		       : IS("format")   ? 2
		       : IS("readonly") ? 3
		                        : -1;
	default: /* an array's: no keys */
		return -1;
	}
}

#undef IS

#define LEVELS 4 /* the domain, its build, the disks, a disk */

struct obs_dom {
	unsigned b_flags;
	struct xdc_arena *b_arena;
	struct xdc_strtab *b_shared; /* or NULL */
	struct xdc_obs_domain b_d;
	struct {
		uint8_t l_kind;
		int8_t l_key; /* whose value comes next; -1: none */
		uint32_t l_seen;
	} b_lv[LEVELS];
	unsigned b_nlv;
	unsigned b_state, b_type, b_format;
	uint64_t b_applied, b_expires;
	struct xdc_obs_nic b_nic, *b_nics; /* as they come */
	size_t b_nnics, b_nics_cap;
	struct xdc_disk b_disk, *b_disks;
	size_t b_ndisks, b_disks_cap;
};

struct obs_dom *
obs_dom_new(void)
{
	return xdc_calloc(1, sizeof(struct obs_dom));
}

void
obs_dom_free(struct obs_dom *b)
{
	if (b == NULL)
		return;
	free(b->b_nics);
	free(b->b_disks);
	free(b);
}

int
obs_read_digits(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	/* Plain digits, no leading zero: no sign, fraction or exponent. */
	if (n == 0 || n > 19 || (s[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int
push(struct obs_dom *b, int kind)
{
	if (b->b_nlv == LEVELS)
		return 0;
	b->b_lv[b->b_nlv].l_kind = (uint8_t)kind;
	b->b_lv[b->b_nlv].l_key = -1;
	b->b_lv[b->b_nlv].l_seen = 0;
	b->b_nlv++;
	return 1;
}

void
obs_dom_begin(struct obs_dom *b, unsigned flags, struct xdc_arena *arena)
{
	b->b_flags = flags;
	b->b_arena = arena;
	memset(&b->b_d, 0, sizeof(b->b_d));
	b->b_d.od_weight =
	    (flags & OBS_JSON_DEFAULTS) != 0 ? XDC_DEFAULT_WEIGHT : 0;
	b->b_state = XDC_DOM_RUNNING;
	b->b_applied = b->b_expires = 0;
	b->b_nlv = 0;
	b->b_nnics = b->b_ndisks = 0;
	push(b, L_DOM);
}

const struct xdc_obs_domain *
obs_dom_result(const struct obs_dom *b)
{
	return &b->b_d;
}

int
obs_dom_key(struct obs_dom *b, const char *s, size_t n)
{
	unsigned top = b->b_nlv - 1;
	int k = key_of(b->b_lv[top].l_kind, s, n);

	if (k < 0 || (b->b_lv[top].l_seen & (1U << k)))
		return 0;
	b->b_lv[top].l_seen |= 1U << k;
	b->b_lv[top].l_key = (int8_t)k;
	return 1;
}

/* The key whose value this is, at a map; -1 at an array. */
static int
key_take(struct obs_dom *b, unsigned *kind)
{
	int k = b->b_lv[b->b_nlv - 1].l_key;

	*kind = b->b_lv[b->b_nlv - 1].l_kind;
	b->b_lv[b->b_nlv - 1].l_key = -1;
	return k;
}

int
obs_dom_null(struct obs_dom *b)
{
	unsigned kind;
	int k = key_take(b, &kind);

	/* The strings that may be null are NULL already. */
	if (kind == L_DOM)
		return k == D_SCOPE || k == D_BUILD;
	return kind == L_BUILD && k >= 1 && k <= 3;
}

int
obs_dom_bool(struct obs_dom *b, int v)
{
	struct xdc_obs_domain *d = &b->b_d;
	unsigned kind;
	int k = key_take(b, &kind);

	v = v != 0;
	if (kind == L_DOM && k == D_MANAGED)
		d->od_managed = v;
	else if (kind == L_DOM && k == D_PROTECT)
		d->od_protect = v;
	else if (kind == L_DOM && k == D_STUB)
		d->od_stub = v;
	else if (kind == L_DISK && k == 3)
		b->b_disk.d_readonly = v;
	else
		return 0;
	return 1;
}

int
obs_dom_number(struct obs_dom *b, const char *s, size_t n)
{
	struct xdc_obs_domain *d = &b->b_d;
	unsigned kind;
	int k = key_take(b, &kind);
	uint64_t v;

	if (obs_read_digits(s, n, INT64_MAX, &v) != 0)
		return 0;
	if (kind == L_CPU) {
		if (v > UINT32_MAX)
			return 0;
		if (k == 0)
			d->od_weight = (uint32_t)v;
		else
			d->od_cap = (uint32_t)v;
		return 1;
	}
	if (kind != L_DOM)
		return 0;
	switch (k) {
	case D_DOMID:
	case D_VCPUS:
	case D_MAX_VCPUS:
		if (v > UINT32_MAX)
			return 0;
		if (k == D_DOMID)
			d->od_domid = (uint32_t)v;
		else if (k == D_VCPUS)
			d->od_vcpus = (uint32_t)v;
		else
			d->od_max_vcpus = (uint32_t)v;
		return 1;
	case D_MEMORY:
		d->od_memory = v;
		return 1;
	case D_MAX_MEMORY:
		d->od_max_memory = v;
		return 1;
	case D_APPLIED:
		b->b_applied = v;
		return 1;
	case D_EXPIRES:
		b->b_expires = v;
		return 1;
	default:
		return 0;
	}
}

static int
mac_of(const char *s, size_t n, uint8_t mac[6])
{
	char buf[XDC_MAC_BUFSZ];

	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return xdc_parse_mac(buf, mac) == NULL;
}

void
obs_dom_share(struct obs_dom *b, struct xdc_strtab *t)
{
	b->b_shared = t;
}

/* A non-empty string that repeats: once in b_shared when there is one. */
static int
shared(struct obs_dom *b, const char *s, size_t n, const char **out)
{
	if (n == 0)
		return 0;
	*out = b->b_shared != NULL ? xdc_strtab_intern(b->b_shared, s, n)
	                           : xdc_arena_strndup(b->b_arena, s, n);
	return 1;
}

/* A non-empty string into the arena. */
static int
str(struct obs_dom *b, const char *s, size_t n, const char **out)
{
	if (n == 0)
		return 0;
	*out = xdc_arena_strndup(b->b_arena, s, n);
	return 1;
}

int
obs_dom_string(struct obs_dom *b, const char *s, size_t n)
{
	struct xdc_obs_domain *d = &b->b_d;
	struct xdc_obs_build *ob = &d->od_build;
	unsigned kind;
	int k = key_take(b, &kind);

	switch (kind) {
	case L_DOM:
		switch (k) {
		case D_NAME:
			return str(b, s, n, &d->od_name);
		case D_STATE:
			return obs_read_name(
			    s, n, obs_json_state_name, 4, &b->b_state);
		case D_SCOPE:
			return shared(b, s, n, &d->od_scope);
		case D_HASH:
			return obs_read_hex(s, n, &d->od_hash);
		default:
			return 0;
		}
	case L_NIC:
		if (k == 0)
			return shared(b, s, n, &b->b_nic.on_bridge);
		return mac_of(s, n, b->b_nic.on_mac);
	case L_BUILD:
		switch (k) {
		case 0:
			return obs_read_name(
			    s, n, obs_json_type_name, 3, &b->b_type);
		case 1:
			return shared(b, s, n, &ob->ob_kernel);
		case 2:
			return shared(b, s, n, &ob->ob_ramdisk);
		case 3:
			return shared(b, s, n, &ob->ob_cmdline);
		default:
			return 0;
		}
	case L_DISK:
		switch (k) {
		case 0:
			return str(b, s, n, &b->b_disk.d_target);
		case 1:
			return shared(b, s, n, &b->b_disk.d_vdev);
		case 2:
			return obs_read_name(
			    s, n, obs_json_format_name, 3, &b->b_format);
		default:
			return 0;
		}
	default:
		return 0;
	}
}

int
obs_dom_open(struct obs_dom *b, int map)
{
	unsigned kind;
	int k = key_take(b, &kind);

	switch (kind) {
	case L_DOM:
		if (k == D_CPU && map)
			return push(b, L_CPU);
		if (k == D_NICS && !map)
			return push(b, L_NICS);
		if (k == D_BUILD && map) {
			b->b_d.od_has_build = 1;
			b->b_type = XDC_VM_PVH;
			return push(b, L_BUILD);
		}
		return 0;
	case L_NICS:
		if (!map)
			return 0;
		memset(&b->b_nic, 0, sizeof(b->b_nic));
		return push(b, L_NIC);
	case L_BUILD:
		return k == 4 && !map && push(b, L_DISKS);
	case L_DISKS:
		if (!map)
			return 0;
		memset(&b->b_disk, 0, sizeof(b->b_disk));
		b->b_format = XDC_DISK_RAW;
		return push(b, L_DISK);
	default:
		return 0;
	}
}

/* A copy in the arena of n elements of size at v, and a zeroed one. */
static void *
arena_copy(struct xdc_arena *arena, const void *v, size_t n, size_t size)
{
	void *a = xdc_arena_zalloc(arena, (n > 0 ? n : 1) * size);

	if (n > 0)
		memcpy(a, v, n * size);
	return a;
}

/* The domain's object closed: obs_read_domain's checks and defaults. */
static int
dom_end(struct obs_dom *b)
{
	struct xdc_obs_domain *d = &b->b_d;
	uint32_t seen = b->b_lv[0].l_seen;

#define SEEN(k) (seen & (1U << (k)))
	if (!SEEN(D_NAME) || !SEEN(D_DOMID) || !SEEN(D_MEMORY) ||
	    (!SEEN(D_STATE) && !(b->b_flags & OBS_JSON_DEFAULTS)))
		return 0;
	d->od_state = (enum xdc_dom_state)b->b_state;
	if (!SEEN(D_MAX_MEMORY))
		d->od_max_memory = d->od_memory;
	if (!SEEN(D_VCPUS))
		d->od_vcpus = 1;
	if (!SEEN(D_MAX_VCPUS))
		d->od_max_vcpus = d->od_vcpus;
	if (!SEEN(D_NICS))
		d->od_nics = xdc_arena_zalloc(b->b_arena, sizeof(*d->od_nics));
#undef SEEN
	/* rd_scope's: a name or nothing; the times only when managed. */
	if (d->od_scope != NULL && !xdc_name_valid(d->od_scope))
		return 0;
	if (!d->od_managed) {
		d->od_scope = NULL;
		return 1;
	}
	if (d->od_scope == NULL)
		d->od_scope = XDC_SCOPE_DEFAULT;
	d->od_applied = (int64_t)b->b_applied;
	d->od_expires = (int64_t)b->b_expires;
	return 1;
}

int
obs_dom_close(struct obs_dom *b, int *done)
{
	struct xdc_obs_build *ob = &b->b_d.od_build;
	unsigned kind = b->b_lv[b->b_nlv - 1].l_kind;
	uint32_t seen = b->b_lv[b->b_nlv - 1].l_seen;

	*done = 0;
	b->b_nlv--;
	switch (kind) {
	case L_DOM:
		*done = 1;
		return dom_end(b);
	case L_CPU:
		return 1;
	case L_NIC:
		if (seen != 3)
			return 0;
		if (b->b_nnics == b->b_nics_cap) {
			b->b_nics_cap = b->b_nics_cap ? 2 * b->b_nics_cap : 8;
			b->b_nics = xdc_reallocarray(
			    b->b_nics, b->b_nics_cap, sizeof(*b->b_nics));
		}
		b->b_nics[b->b_nnics++] = b->b_nic;
		return 1;
	case L_NICS:
		b->b_d.od_nics = arena_copy(
		    b->b_arena, b->b_nics, b->b_nnics, sizeof(*b->b_nics));
		b->b_d.od_nnics = b->b_nnics;
		return 1;
	case L_DISK:
		if ((seen & 3) != 3)
			return 0;
		b->b_disk.d_format = (enum xdc_disk_format)b->b_format;
		if (b->b_ndisks == b->b_disks_cap) {
			b->b_disks_cap =
			    b->b_disks_cap ? 2 * b->b_disks_cap : 4;
			b->b_disks = xdc_reallocarray(
			    b->b_disks, b->b_disks_cap, sizeof(*b->b_disks));
		}
		b->b_disks[b->b_ndisks++] = b->b_disk;
		return 1;
	case L_DISKS:
		ob->ob_disks = arena_copy(
		    b->b_arena, b->b_disks, b->b_ndisks, sizeof(*b->b_disks));
		ob->ob_ndisks = b->b_ndisks;
		return 1;
	case L_BUILD:
		ob->ob_type = (enum xdc_vm_type)b->b_type;
		/* No "disks": none, in an array of its own. */
		if (!(seen & (1U << 4)))
			ob->ob_disks =
			    xdc_arena_zalloc(b->b_arena, sizeof(*ob->ob_disks));
		return (seen & 1) != 0;
	default:
		return 0;
	}
}
