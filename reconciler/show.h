/*
 * What `xdc show` prints, shared with `xdc sim show` so that both say the
 * same thing the same way.
 */
#ifndef XDC_SHOW_H
#define XDC_SHOW_H

#include <stdio.h>

struct cli;
struct xdc_driver;
struct xdc_observed;

/*
 * Print an observation: a table per host like `xl list`, or with json the
 * shape SPEC §5 fixes for `xdc show --json`. Returns 0, or XDC_ERR when the
 * JSON cannot be encoded.
 */
int show_print(FILE *, const struct xdc_observed *, int json);

/* Observe through drv and print to stdout; returns an exit code. */
int show_run(struct cli *, struct xdc_driver *, int json);

#endif /* XDC_SHOW_H */
