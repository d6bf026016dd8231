/*
 * Whole files (base/file.c): read to EOF whatever st_size says, refuse a
 * FIFO without blocking, replace atomically, and sweep only xdc's own
 * temporary files.
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

#include "base/error.h"
#include "base/file.h"

static char dir[] = "/tmp/xdc-test-file-XXXXXX";

static char *
in_dir(const char *name)
{
	char *p = NULL;

	xdc_asprintf(&p, "%s/%s", dir, name);
	return p;
}

static void
touch(const char *name, const char *text)
{
	char *p = in_dir(name);
	FILE *fp = fopen(p, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	free(p);
}

static int
exists(const char *name)
{
	char *p = in_dir(name);
	int rc = access(p, F_OK) == 0;

	free(p);
	return rc;
}

static void
test_reads_a_regular_file(void **state)
{
	char *p = in_dir("a.yaml"), *buf;
	size_t len;

	(void)state;
	touch("a.yaml", "kind: VM\n");
	assert_int_equal(xdc_file_read(p, 100, 0, &buf, &len), 0);
	assert_int_equal(len, 9);
	assert_string_equal(buf, "kind: VM\n");
	free(buf);
	free(p);
}

static void
test_a_missing_file_is_not_found(void **state)
{
	char *p = in_dir("nothing.yaml"), *buf;
	size_t len;

	(void)state;
	assert_int_equal(xdc_file_read(p, 100, 0, &buf, &len), XDC_ENOTFOUND);
	assert_null(buf);
	free(p);
}

static void
test_a_fifo_is_refused_at_once(void **state)
{
	char *p = in_dir("fifo.yaml"), *buf;
	size_t len;

	(void)state;
	assert_int_equal(mkfifo(p, 0600), 0);
	/* No writer: a blocking open would never return. */
	assert_int_equal(xdc_file_read(p, 100, 0, &buf, &len), XDC_ERR);
	assert_non_null(strstr(xdc_error_last(), "a FIFO"));
	unlink(p);
	free(p);
}

static void
test_a_pipe_is_read_to_eof(void **state)
{
	char path[64], *buf;
	size_t len, i;
	int p[2];
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		/* More than a pipe buffer, in pieces. */
		for (i = 0; i < 20000; i++)
			if (write(p[1], "0123456789", 10) != 10)
				_exit(1);
		_exit(0);
	}
	close(p[1]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	assert_int_equal(
	    xdc_file_read(path, 1 << 20, XDC_FILE_STREAM, &buf, &len), 0);
	assert_int_equal(len, 200000);
	assert_int_equal(memcmp(buf + 199990, "0123456789", 10), 0);
	free(buf);
	close(p[0]);
}

static void
test_a_pipe_over_the_limit_is_not_kept(void **state)
{
	char path[64], *buf;
	size_t len;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "0123456789", 10), 10);
	close(p[1]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	assert_int_equal(
	    xdc_file_read(path, 4, XDC_FILE_STREAM, &buf, &len), 0);
	assert_null(buf);
	assert_true(len > 4);
	close(p[0]);
}

static void
test_a_file_over_the_limit_gives_its_size(void **state)
{
	char *p = in_dir("big.yaml"), *buf;
	size_t len;

	(void)state;
	touch("big.yaml", "0123456789");
	assert_int_equal(xdc_file_read(p, 4, 0, &buf, &len), 0);
	assert_null(buf);
	assert_int_equal(len, 10);
	free(p);
}

static void
test_replace_writes_with_the_mode_asked(void **state)
{
	char *p = in_dir("pool.json"), *buf;
	struct stat st;
	size_t len;
	mode_t old = umask(077);

	(void)state;
	assert_int_equal(xdc_file_replace_buf(p, 0644, "{}\n", 3), 0);
	umask(old);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(xdc_file_read(p, 100, 0, &buf, &len), 0);
	assert_string_equal(buf, "{}\n");
	free(buf);
	free(p);
}

static void
test_sweep_takes_only_its_own_leftovers(void **state)
{
	char *p = in_dir("k.json");

	(void)state;
	touch("k.json", "{}");
	touch(".k.json.tmp-AbC123", "half");
	/* The user's files, however close their names. */
	touch("k.json.backup", "mine");
	touch("k.json.orig01", "mine");
	touch(".k.json.tmp-AbC12", "mine");
	touch(".k.json.tmp-AbC1234", "mine");
	touch(".kk.json.tmp-AbC123", "mine");
	xdc_file_sweep(p);
	assert_false(exists(".k.json.tmp-AbC123"));
	assert_true(exists("k.json"));
	assert_true(exists("k.json.backup"));
	assert_true(exists("k.json.orig01"));
	assert_true(exists(".k.json.tmp-AbC12"));
	assert_true(exists(".k.json.tmp-AbC1234"));
	assert_true(exists(".kk.json.tmp-AbC123"));
	free(p);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL;
}

static int
teardown(void **state)
{
	char *cmd = NULL;
	int rc;

	(void)state;
	xdc_asprintf(&cmd, "rm -rf '%s'", dir);
	rc = system(cmd);
	free(cmd);
	return rc;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_a_regular_file),
		cmocka_unit_test(test_a_missing_file_is_not_found),
		cmocka_unit_test(test_a_fifo_is_refused_at_once),
		cmocka_unit_test(test_a_pipe_is_read_to_eof),
		cmocka_unit_test(test_a_pipe_over_the_limit_is_not_kept),
		cmocka_unit_test(test_a_file_over_the_limit_gives_its_size),
		cmocka_unit_test(test_replace_writes_with_the_mode_asked),
		cmocka_unit_test(test_sweep_takes_only_its_own_leftovers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
