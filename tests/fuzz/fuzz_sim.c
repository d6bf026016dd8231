/*
 * libFuzzer target for the sim driver's pool file reader: any bytes, as the
 * pool file. The reader must never crash, leak or read out of bounds; it
 * may only refuse. What it accepts must write back as a file it accepts
 * again and writes back to the same bytes, or the next apply would read a
 * different pool from the one the last one wrote.
 *
 * And the event reader (drivers/obs_read.h) against jansson's, on the same
 * bytes: the pool file read with it and without it gives the same pool or
 * the same message; the bytes read as a pool's host record by it
 * (pool_record_read) are taken only when jansson takes them, and read the
 * same, every field. And the file read in pieces (obs_read_parse_fd, of
 * one to 64 bytes) against the same reader on the whole text: both take
 * it, to the same pool, or both give up.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/error.h"
#include "drivers/obs_json.h"
#include "drivers/obs_read.h"
#include "drivers/sim.h"
#include "drivers/sim_file.h"
#include "drivers/sim_file_int.h"
#include "drivers/sim_pool.h"
#include "pool/record.h"
#include "tests/drivers/obs_eq.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The pool file with the event reader and without: the same outcome. */
static void
sim_both(const char *text, size_t size)
{
	char *out[2], *msg[2] = { NULL, NULL };
	int rc[2], on;

	for (on = 0; on < 2; on++) {
		obs_read_enable(on);
		rc[on] = sim_parse_pool("fuzz.json", text, size, &out[on]);
		if (rc[on] != 0)
			msg[on] = strdup(xdc_error_last());
	}
	obs_read_enable(1);
	if (rc[0] != rc[1] || (rc[0] == 0 && strcmp(out[0], out[1]) != 0) ||
	    (rc[0] != 0 && strcmp(msg[0], msg[1]) != 0))
		abort();
	for (on = 0; on < 2; on++) {
		free(out[on]);
		free(msg[on]);
	}
}

static const char *
source_of(json_t *root, const char *key)
{
	json_t *v = json_object_get(json_object_get(root, "source"), key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The bytes as a record: what the event reader takes, jansson reads so. */
static void
record_both(const char *text, size_t size)
{
	struct xdc_arena *a = xdc_arena_new();
	struct xdc_obs_host ev, js;
	const char *path, *commit;
	char why[OBS_EQ_WHY];
	int64_t wd, jwd = 0;
	json_t *root, *v;

	if (pool_record_read(text, size, a, &ev, &path, &commit, &wd) != 0) {
		xdc_arena_free(a);
		return;
	}
	root = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
	if (root == NULL || obs_json_read_host(root, "fuzz", a, &js) != 0 ||
	    obs_host_diff(&ev, &js, why) != 0)
		abort();
	v = json_object_get(root, "watchdog_ms");
	if (json_is_integer(v) && json_integer_value(v) > 0)
		jwd = json_integer_value(v);
	if (!obs_eq_str(path, source_of(root, "path")) ||
	    !obs_eq_str(commit, source_of(root, "commit")) || wd != jwd)
		abort();
	json_decref(root);
	xdc_arena_free(a);
}

/* The pool's text, or NULL when there is none. */
static char *
pool_text(int rc, struct sim_pool *p)
{
	char *text = NULL;
	size_t len;

	if (rc == 0 && sim_file_text("fuzz.json", p, &text, &len) != 0)
		abort();
	sim_pool_free(p);
	return text;
}

/* The bytes as a file read in pieces, and whole: the same. */
static void
pieces_both(const char *text, size_t size)
{
	struct sim_pool *p = NULL;
	char *whole, *pieces;
	int fd, rc;

	if ((fd = memfd_create("fuzz.json", MFD_CLOEXEC)) < 0)
		abort();
	if (size > 0 && write(fd, text, size) != (ssize_t)size)
		abort();
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	rc = sim_file_events(text, size, &p);
	whole = pool_text(rc, p);
	p = NULL;
	obs_read_piece_size(1 + (size * 2654435761U) % 64);
	rc = sim_file_events_fd(fd, SIZE_MAX, &p);
	obs_read_piece_size(0);
	pieces = pool_text(rc, p);
	close(fd);
	if ((whole == NULL) != (pieces == NULL) ||
	    (whole != NULL && strcmp(whole, pieces) != 0))
		abort();
	free(whole);
	free(pieces);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char *once = NULL, *twice = NULL;

	sim_both(text, size);
	record_both(text, size);
	pieces_both(text, size);
	if (sim_parse_pool("fuzz.json", text, size, &once) != 0)
		return 0;
	if (sim_parse_pool("fuzz.json", once, strlen(once), &twice) != 0 ||
	    strcmp(once, twice) != 0)
		abort();
	free(once);
	free(twice);
	return 0;
}
