/*
 * Observed state as JSON, both ways: one host, its domains and its
 * networks, in the shape `xdc show --json` prints (SPEC §5), and with
 * OBS_JSON_FULL what a planner needs besides (the spec hash, the build
 * record, stub domains, uplinks and VLANs). The pool's host records
 * (SPEC §8) are written and read with it; a record comes from etcd, so
 * the reader trusts nothing: every type and range is checked, and what
 * is wrong is named, with where it is.
 */
#ifndef XDC_OBS_JSON_H
#define XDC_OBS_JSON_H

#include <jansson.h>

#include "drivers/driver.h"

/* obs_json_*'s flags. */
#define OBS_JSON_FULL 0x1 /* hash, build, stub, uplink, vlan */
/*
 * Reading only: what a hand-written file may leave out takes what a fresh
 * domain or network has (state running, cpu.weight XDC_DEFAULT_WEIGHT, a
 * network up), where a record must give a state and means 0 by the rest.
 * The sim's pool file is read so (drivers/sim_file.c).
 */
#define OBS_JSON_DEFAULTS 0x2

/* NULL when a value cannot be encoded (a string that is not UTF-8). */
json_t *obs_json_domain(const struct xdc_obs_domain *, unsigned flags);
json_t *obs_json_network(const struct xdc_obs_network *, unsigned flags);
json_t *obs_json_host(const struct xdc_obs_host *, unsigned flags);

/*
 * Read a host as obs_json_host wrote it into *out, its strings and arrays
 * in arena; domains and networks come out sorted, as drivers give them.
 * what names the source in messages ("etcd key /xdc/p/hosts/a"). Returns
 * 0, or XDC_ERR with the reason in xdc_error_last().
 */
struct xdc_arena;
int obs_json_read_host(const json_t *, const char *what, struct xdc_arena *,
    struct xdc_obs_host *out);
/*
 * One domain, or one network, of host as obs_json_domain or
 * obs_json_network wrote it (with OBS_JSON_FULL), into *out, its strings
 * and arrays in arena; flags OBS_JSON_DEFAULTS or 0. Messages say "WHAT:
 * host HOST, domain NAME: ...". Returns 0, or XDC_ERR with the reason in
 * xdc_error_last().
 */
int obs_json_read_domain(const json_t *, const char *what, const char *host,
    unsigned flags, struct xdc_arena *, struct xdc_obs_domain *out);
int obs_json_read_network(const json_t *, const char *what, const char *host,
    unsigned flags, struct xdc_arena *, struct xdc_obs_network *out);

/*
 * Shared with obs_read.c's reader: the names of an enum by index, as the
 * readers look values up, and the orders domains and networks come in.
 */
const char *obs_json_state_name(unsigned);
const char *obs_json_type_name(unsigned);
const char *obs_json_format_name(unsigned);
int obs_json_domain_cmp(const void *, const void *);
int obs_json_network_cmp(const void *, const void *);

#endif /* XDC_OBS_JSON_H */
