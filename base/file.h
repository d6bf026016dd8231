/*
 * Whole files: read one to its end, and replace one atomically. Every
 * reader and writer of xdc's own files and of configurations goes through
 * here, so that the rules hold everywhere: only regular files are read
 * (a FIFO or a device named *.yaml would block forever), unless the
 * caller asks for a stream (PATH given as /dev/stdin); a file is read to
 * EOF, never trusting st_size; and a file is replaced by renaming a
 * temporary file, named so exactly that only xdc's own leftovers are ever
 * swept.
 */
#ifndef XDC_FILE_H
#define XDC_FILE_H

#include <stdio.h>
#include <stddef.h>
#include <sys/types.h>

/* xdc_file_read's flags. */
#define XDC_FILE_STREAM 0x1 /* a pipe or character device is fine too */

/*
 * Read path whole into *buf (NUL-terminated; the caller frees it) and its
 * length into *len. A file longer than limit is not read: *buf is NULL
 * and *len a length over limit (its size, or limit + 1 for a stream), so
 * the caller can say how big it is. Returns 0, or a negative code with the
 * reason in xdc_error_last(): a missing file is XDC_ENOTFOUND; what is not
 * a regular file (without XDC_FILE_STREAM) is XDC_ERR, saying what it is.
 */
int xdc_file_read(
    const char *path, size_t limit, unsigned flags, char **buf, size_t *len);

/*
 * Replace path whole with what fn writes to the FILE (fn returns 0 or a
 * code with xdc_error_last() set), with mode whatever the umask: the data
 * and the directory are synced, so a reader or a kill at any instant sees
 * the old file or the new one. The temporary file is
 * "DIR/.BASE.tmp-XXXXXX".
 */
int xdc_file_replace(
    const char *path, mode_t mode, int (*fn)(void *arg, FILE *), void *arg);
/* The same, with len bytes of buf. */
int xdc_file_replace_buf(
    const char *path, mode_t mode, const void *buf, size_t len);

/*
 * Remove the temporary files a writer of path killed before its rename
 * left: exactly "DIR/.BASE.tmp-XXXXXX", nothing else. Only a writer that
 * holds the lock of path may sweep.
 */
void xdc_file_sweep(const char *path);

/* What kind of file st describes, for messages ("a FIFO", "a directory"). */
struct stat;
const char *xdc_file_kind(const struct stat *);

#endif /* XDC_FILE_H */
