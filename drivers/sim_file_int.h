/*
 * What the sim's two readers of the pool file share: sim_file.c's, by
 * jansson, which says what is wrong, and sim_file_events.c's, by the
 * event reader, which is fast and gives up on anything unusual for
 * sim_file.c's to read.
 */
#ifndef XDC_SIM_FILE_INT_H
#define XDC_SIM_FILE_INT_H

#include <stddef.h>
#include <stdint.h>

struct obs_read;
struct sim_dom;
struct sim_host;
struct sim_pool;
struct xdc_obs_domain;

/*
 * Domain-0 is the domain with id 0: whether od is right about that (one by
 * that name and another id would meet the Domain-0 every host is given).
 */
int sim_file_dom0_right(const struct xdc_obs_domain *od);
/* A domain read joins its host, the pool's next domid past its own. */
void sim_file_take_dom(
    struct sim_pool *, struct sim_host *, const struct sim_dom *);

/*
 * The pool in len bytes of text into *out (the caller frees it): 0, or -1
 * when the event reader gave up, nothing said.
 */
int sim_file_events(const char *text, size_t len, struct sim_pool **out);
/*
 * Likewise, the file open at fd read in pieces (obs_read_parse_fd), at
 * most max bytes; -1 may have read some of it.
 */
int sim_file_events_fd(int fd, uint64_t max, struct sim_pool **out);
/*
 * One host's text (an element of "hosts") into p, ev the reader to use:
 * 0, or -1 when the reader gave up, p as it was but for its arena.
 */
int sim_file_host_events(
    struct sim_pool *p, struct obs_read *ev, const char *text, size_t len);

#endif /* XDC_SIM_FILE_INT_H */
