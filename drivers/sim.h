/*
 * The sim driver: a simulated pool of Xen hosts whose state lives in a JSON
 * file, so that every command works on any Linux machine and tests can
 * disturb the pool (a crashed domain, a failing action, a domain xdc does
 * not own) the way a real data centre would.
 *
 * The pool is shared between processes through the file: begin() takes an
 * exclusive lock on "<path>.lock" and re-reads the file, applies mutate
 * memory only, end() writes the file once (atomically) and unlocks. An
 * apply outside begin/end brackets itself; observe() reads under a shared
 * lock. Neither parses the file again when it is still the one last read
 * (same inode, size and times) and the pool in memory has not changed.
 *
 * Only a writer (begin, a lone apply, a disturbance) creates the pool file
 * and its lock, and only a writer, holding the lock, sweeps what a writer
 * killed before its rename left. Opening and observing write nothing: a
 * read-only command (show, plan, sim show) on a pool with no file yet
 * sees the pool it would create, the declared Hosts, empty.
 *
 * A file is the pool of every host it holds (sim_open), shared by their
 * agents, or one host's (sim_open_host): an agent with the pool view
 * sees its own host only, as on Xen, and learns of the others through
 * etcd; each host then has a file of its own.
 *
 * A migrate moves a running domain between two hosts of the one pool file
 * (XDC_DRV_MIGRATE): the sim can move a domain only to a host whose state
 * it holds. A file of every host (sim_open) claims the capability; one
 * host's (sim_open_host) cannot reach the others' files and does not.
 */
#ifndef XDC_SIM_H
#define XDC_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/driver.h"

/*
 * Open the pool at path and read it: the file, with the Hosts cfg declares
 * added and their declared capacities updated; or, when there is no file,
 * the Hosts cfg declares (with their declared capacity; 64GiB and 16 CPUs
 * when undeclared), or one host "local" with 64GiB and 16 CPUs when cfg is
 * NULL or declares none. That pool is written by the first change, or when
 * the loop asks for the watch fd (it watches the file). The caller owns
 * *out and frees it with its free(); cfg is not kept.
 */
int sim_open(
    const char *path, const struct xdc_config *cfg, struct xdc_driver **out);
/*
 * Open the pool at path as one host's, as an agent with the pool view
 * (SPEC §8) sees its host on Xen: host alone, with its declared capacity
 * (64GiB and 16 CPUs when cfg, which may be NULL, declares none). A new
 * pool file holds that host only; other hosts a file holds are neither
 * observed nor acted on (an action for one is refused), and no other
 * host is added. Its watchdog (driver.h) is host's, kept in the file:
 * any process that reads the file once the watchdog's deadline has passed
 * sees host rebooted (every domain but Domain-0 gone, the watchdog
 * disarmed), and a writer writes that back, so that a stopped or killed
 * agent's host reboots though nothing runs for it. Otherwise as sim_open.
 */
int sim_open_host(const char *path, const struct xdc_config *cfg,
    const char *host, struct xdc_driver **out);

/*
 * Disturbances for `xdc sim`, tests and demos. Each changes the pool file
 * at once (or at end() inside a batch) and returns 0 or a negative code
 * with the reason in xdc_error_last(); a domain the pool lacks is
 * XDC_ENOTFOUND.
 */

/* The domain named crashes: it keeps its memory until it is destroyed. */
int sim_crash(struct xdc_driver *, const char *name);
/*
 * The next `times` applies of op to the object named fail with XDC_EDRIVER
 * "injected fault: OP NAME"; times 0 removes the fault.
 */
int sim_fail(
    struct xdc_driver *, enum xdc_op, const char *name, unsigned times);
/*
 * The next `times` actions op on the object named take ms each (at most
 * 24 hours); ms or times 0 removes the delay. Through submit, a delayed
 * action returns at once and completes when a timer of the loop attach()
 * gave fires (before attach, a loop of the sim's own, run by reap): it
 * then takes the lock, reads the pool again, is applied and written. The
 * lock is not held while it waits, so other processes (xdc sim crash)
 * may change the pool meanwhile. Through apply, the synchronous way, the
 * call sleeps that long, without the lock. Freeing the driver abandons a
 * delayed action still waiting: the pool is as if it never ran.
 */
int sim_delay(struct xdc_driver *, enum xdc_op, const char *name, uint64_t ms,
    unsigned times);
/*
 * A running domain xdc does not own; host NULL is the first host (one
 * host's pool: its host).
 */
int sim_add_unmanaged(
    struct xdc_driver *, const char *name, uint64_t memory, const char *host);
/*
 * Cut the power of host, as a fence does: every domain of host in the pool
 * file is gone, and host boots again with Domain-0 alone. *gone (when
 * gone is not NULL) gets the names of the domains that went, sorted, in a
 * NULL-terminated array the caller frees with one free(). A host the pool
 * file does not hold, or no pool file at all, is XDC_ENOTFOUND: a fence
 * that cannot reach its host has failed.
 */
int sim_power_off(struct xdc_driver *, const char *host, char ***gone);

/*
 * Read len bytes of text as the pool file named name: 0 when it is one,
 * and then, when out is not NULL, *out is the pool as the driver would
 * write it back (a string the caller frees); otherwise a negative code
 * with the reason in xdc_error_last(). For the fuzzer and tests: a file
 * that reads must write back as a file that reads the same.
 */
int sim_parse_pool(const char *name, const char *text, size_t len, char **out);

/* How many times this driver has written the pool file, for tests. */
unsigned long sim_write_count(const struct xdc_driver *);

#endif /* XDC_SIM_H */
