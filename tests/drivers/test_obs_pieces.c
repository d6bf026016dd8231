/*
 * The sim's pool file read in pieces (obs_read_parse_fd through
 * sim_file_read): a file far longer than a piece, and random ones, read
 * the same in pieces of any size (one byte to 64 KiB) as by jansson alone;
 * a give-up in a late piece leaves no pool and reads the file again, with
 * jansson's result or message, word for word.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/arena.h"
#include "base/error.h"
#include "drivers/obs_read.h"
#include "drivers/sim_file.h"
#include "drivers/sim_file_int.h"
#include "drivers/sim_pool.h"
#include "tests/drivers/obs_gen.h"
#include "tests/drivers/pool_gen.h"

#define ROUNDS 400

#define PIECES_PATH "test_obs_read.pool.json"

/* A pool file of many hosts, far longer than a piece of 64 KiB. */
static char *
big_pool_text(size_t *len)
{
	struct obs_gen g = { 0x5eed5eed5eed5eedULL, NULL, 0 };
	struct sim_pool *p;
	char *text;

	g.g_arena = xdc_arena_new();
	p = gen_pool_n(&g, 120);
	assert_int_equal(sim_file_text(PIECES_PATH, p, &text, len), 0);
	assert_true(*len > 4 * 64 * 1024);
	sim_pool_free(p);
	xdc_arena_free(g.g_arena);
	return text;
}

static void
write_file(const char *text, size_t len)
{
	FILE *f = fopen(PIECES_PATH, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The event reader alone on the file, in pieces: 0 and the pool's text. */
static int
events_fd_text(char **text)
{
	struct sim_pool *p = NULL;
	size_t len;
	int fd = open(PIECES_PATH, O_RDONLY), rc;

	assert_true(fd >= 0);
	rc = sim_file_events_fd(fd, SIZE_MAX, &p);
	close(fd);
	*text = NULL;
	if (rc == 0)
		assert_int_equal(sim_file_text(PIECES_PATH, p, text, &len), 0);
	else
		assert_null(p); /* nothing half read */
	sim_pool_free(p);
	return rc;
}

/* sim_file_read's result: the pool's text, or the message. */
static int
file_read(char **out)
{
	struct sim_pool *p = NULL;
	struct stat st;
	size_t len;
	int rc = sim_file_read(PIECES_PATH, &p, &st);

	if (rc == 0) {
		assert_non_null(p);
		assert_int_equal(sim_file_text(PIECES_PATH, p, out, &len), 0);
	} else {
		*out = strdup(xdc_error_last());
	}
	sim_pool_free(p);
	return rc;
}

static void
test_a_pool_file_read_in_pieces_reads_the_same(void **state)
{
	static const size_t sizes[] = { 1, 2, 3, 4, 5, 6, 7, 64, 4093, 0 };
	char *text, *slow, *fast;
	size_t len, i;

	(void)state;
	text = big_pool_text(&len);
	write_file(text, len);
	obs_read_enable(0);
	assert_int_equal(file_read(&slow), 0);
	obs_read_enable(1);
	assert_string_equal(slow, text);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		obs_read_piece_size(sizes[i]);
		/* The event reader takes it whole, every piece size... */
		assert_int_equal(events_fd_text(&fast), 0);
		assert_string_equal(fast, slow);
		free(fast);
		/* ...and so sim_file_read. */
		assert_int_equal(file_read(&fast), 0);
		assert_string_equal(fast, slow);
		free(fast);
	}
	obs_read_piece_size(0);
	free(slow);
	free(text);
	unlink(PIECES_PATH);
}

/*
 * A give-up in the last host, pieces after the first: no pool from the
 * event reader, and sim_file_read reads the file again with jansson,
 * which takes it the same (an unknown key) or says the same (a byte past
 * ASCII, an escape) as with the event reader off.
 */
static void
test_a_late_give_up_reads_the_file_again(void **state)
{
	static const char *const tails[] = {
		"\"colour\": \"red\", ",
		"\"colour\": \"r\\u00e9d\", ",
		"\"colour\": \"r\xc3\xa9"
		"d\", ",
		"\"colour\": \"r\xe9"
		"d\", ",
		"\"name\": \"x\", ",
	};
	static const size_t sizes[] = { 1, 7, 4096, 0 };
	char *text, *bad, *slow, *fast;
	size_t len, at, i, k, n;
	int rc;

	(void)state;
	text = big_pool_text(&len);
	/* The last host's first key, its name (xen-N). */
	for (at = len; at > 0 && strncmp(text + at, "\"name\": \"xen-", 13);
	     at--)
		;
	assert_true(at > 3 * 64 * 1024);
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		n = strlen(tails[i]);
		bad = malloc(len + n + 1);
		memcpy(bad, text, at);
		memcpy(bad + at, tails[i], n);
		memcpy(bad + at + n, text + at, len - at + 1);
		write_file(bad, len + n);
		obs_read_enable(0);
		rc = file_read(&slow);
		obs_read_enable(1);
		for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			obs_read_piece_size(sizes[k]);
			assert_int_equal(events_fd_text(&fast), -1);
			assert_int_equal(file_read(&fast), rc);
			assert_string_equal(fast, slow);
			free(fast);
		}
		obs_read_piece_size(0);
		/* Unknown keys are jansson's to ignore; the rest, refused. */
		if (i >= 3)
			assert_int_not_equal(rc, 0);
		else
			assert_int_equal(rc, 0);
		free(slow);
		free(bad);
	}
	free(text);
	unlink(PIECES_PATH);
}

/* A file broken at random: the same read, or message, in any pieces. */
static void
test_broken_files_read_the_same_in_pieces(void **state)
{
	struct obs_gen g = { 0xabad1deaabad1deaULL, NULL, 0 };
	struct sim_pool *p;
	char *text, *slow, *fast;
	size_t i, len;
	int rc;

	(void)state;
	g.g_arena = xdc_arena_new();
	for (i = 0; i < ROUNDS; i++) {
		p = gen_pool(&g);
		assert_int_equal(sim_file_text(PIECES_PATH, p, &text, &len), 0);
		if (i % 2)
			len = gen_mutate(&g, text, len);
		write_file(text, len);
		obs_read_enable(0);
		rc = file_read(&slow);
		obs_read_enable(1);
		obs_read_piece_size(1 + i % 7);
		assert_int_equal(file_read(&fast), rc);
		assert_string_equal(fast, slow);
		obs_read_piece_size(0);
		/* The writer's file: the event reader's alone. */
		if (i % 2 == 0) {
			free(fast);
			assert_int_equal(events_fd_text(&fast), 0);
			assert_string_equal(fast, slow);
		}
		free(fast);
		free(slow);
		free(text);
		sim_pool_free(p);
	}
	xdc_arena_free(g.g_arena);
	unlink(PIECES_PATH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_a_pool_file_read_in_pieces_reads_the_same),
		cmocka_unit_test(test_a_late_give_up_reads_the_file_again),
		cmocka_unit_test(test_broken_files_read_the_same_in_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
