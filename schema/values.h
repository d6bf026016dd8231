/*
 * The scalar grammars of the configuration: sizes, names, MAC addresses,
 * maintenance windows, rates. Pure functions of text, shared by the loader
 * and anything else that reads the same syntax (the planner's tests, import).
 *
 * Each parser returns NULL when the text is valid and stores the value, or
 * returns a short reason (a static string) and stores nothing.
 */
#ifndef XDC_VALUES_H
#define XDC_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "schema/model.h"

#define XDC_NAME_MAX   63
#define XDC_IFNAME_MAX 15

/* A decimal integer, no sign, no base prefix, at most max. */
const char *xdc_parse_uint(const char *, uint64_t max, uint64_t *);
/*
 * A size in bytes: digits and an optional KiB, MiB, GiB or TiB, at most
 * XDC_SIZE_MAX: the JSON xdc writes (the sim's pool, the plan) and the
 * readers it feeds hold integers as signed 64 bits, where 2^63 and more
 * came back negative.
 */
#define XDC_SIZE_MAX ((uint64_t)INT64_MAX)
const char *xdc_parse_size(const char *, uint64_t *);
/* YAML 1.2's core booleans: true, True, TRUE, false, False, FALSE. */
const char *xdc_parse_bool(const char *, int *);
/* A unicast MAC address, six hex octets separated by ':'. */
const char *xdc_parse_mac(const char *, uint8_t mac[6]);
/* "Sat 02:00-04:00 UTC", "Mon-Fri,Sun 22:00-02:00 UTC", "daily 01:00-02:00
 * UTC". */
const char *xdc_parse_window(const char *, struct xdc_window *);
/* "5/1h": a count per period of s, m, h or d. */
const char *xdc_parse_rate(const char *, struct xdc_rate *);

/* A lower-case DNS label: [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])? */
int xdc_name_valid(const char *);
/* A Linux interface name, as the kernel's dev_valid_name() accepts it. */
int xdc_ifname_valid(const char *);

/* The edit distance of two short strings, for "did you mean". */
size_t xdc_edit_distance(const char *, const char *);

#endif /* XDC_VALUES_H */
