/*
 * The sim driver's pool file: the JSON text of a pool and back, the file
 * read and replaced whole, and the lock beside it ("<file>.lock") that
 * processes sharing the pool take: exclusive to change it, shared to read
 * it. path names the pool file in every message.
 */
#ifndef XDC_SIM_FILE_H
#define XDC_SIM_FILE_H

#include <stddef.h>
#include <sys/stat.h>

struct sim_pool;

#define SIM_FILE_FORMAT 1 /* "format_version" of the pool file */

/*
 * The pool in len bytes of text: 0 and *out (the caller frees it), or a
 * negative code with the reason, naming path, in xdc_error_last().
 */
int sim_file_parse(
    const char *path, const char *text, size_t len, struct sim_pool **out);
/*
 * The pool's text, in a string the caller frees; *len its length. It ends
 * with a newline and, past len, a NUL. Keys come in a fixed order and
 * arrays are sorted, so the same pool is the same bytes.
 */
int sim_file_text(
    const char *path, const struct sim_pool *, char **out, size_t *len);

/*
 * Read the file (a regular file only; in pieces by the event reader, or
 * whole, xdc_file_read, when it gives up): 0 with *out
 * NULL when it does not exist. *st is the file read, its identity for
 * sim_file_unchanged(); zeroes when there is none.
 */
int sim_file_read(const char *path, struct sim_pool **out, struct stat *st);
/* Whether path is still the file st describes. */
int sim_file_unchanged(const char *path, const struct stat *st);
/*
 * Replace the file whole, mode 0644 (xdc_file_replace): a reader, or a
 * kill at any instant, sees the old pool or the new one, never half of
 * one. What a writer killed before its rename leaves is xdc_file_sweep's.
 * The bytes are sim_file_text's; a host's text is kept in the pool
 * (sh_text) and encoded again only once the host changed
 * (sim_host_touch), so a write after one action encodes one host.
 */
int sim_file_write(const char *path, struct sim_pool *);

/*
 * Open the lock file into *fd: created (0644) when create, for a writer;
 * otherwise *fd is -1 when there is none, for a reader, who creates none.
 * Never through a symbolic link, and never anything but a regular file: a
 * link, a FIFO or a directory at lock_path is refused, saying what it is.
 * The file is never written, nor truncated.
 */
int sim_file_lock_open(const char *lock_path, int create, int *fd);
/* flock(2) the lock file fd, LOCK_EX or LOCK_SH; lock_path for messages. */
int sim_file_lock(int fd, const char *lock_path, int how);
/* LOCK_EX if it is free now: 1 when another process holds the lock. */
int sim_file_trylock(int fd, const char *lock_path);
void sim_file_unlock(int fd);

#endif /* XDC_SIM_FILE_H */
