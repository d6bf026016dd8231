/*
 * The state directory (reconciler/statedir.c): its lock, which a link
 * planted in its place cannot turn against another file, and the checks
 * that refuse a directory someone else could write.
 */
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
#include "reconciler/statedir.h"

struct fx {
	char dir[64];    /* the test's */
	char state[96];  /* the state directory */
	char lock[128];  /* its lock */
	char target[96]; /* a file a planted link points to */
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/xdc-statedir-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	snprintf(f->lock, sizeof(f->lock), "%s/lock", f->state);
	snprintf(f->target, sizeof(f->target), "%s/precious", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static const char *
read_text(const char *path, char *buf, size_t size)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, size - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
test_lock_says_who_holds_it(void **state)
{
	struct fx *f = *state;
	char buf[64], want[64];
	struct stat st;
	int fd = -1, fd2 = -1;

	/* A state directory that is not there is said so. */
	assert_int_equal(statedir_lock(f->state, "apply", &fd), XDC_ERR);
	assert_non_null(strstr(xdc_error_last(), "does not exist"));
	assert_int_equal(mkdir(f->state, 0755), 0);
	assert_int_equal(statedir_lock(f->state, "apply", &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(stat(f->lock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	snprintf(want, sizeof(want), "%ld apply\n", (long)getpid());
	assert_string_equal(read_text(f->lock, buf, sizeof(buf)), want);
	/* Another open of it (another xdc) finds it held, and by whom. */
	assert_int_equal(statedir_lock(f->state, "run", &fd2), XDC_ERR);
	assert_int_equal(fd2, -1);
	snprintf(
	    want, sizeof(want), "held by xdc apply (pid %ld)", (long)getpid());
	assert_non_null(strstr(xdc_error_last(), want));
	close(fd);
	/* Released: the next one takes it and says so. */
	assert_int_equal(statedir_lock(f->state, "run", &fd2), 0);
	snprintf(want, sizeof(want), "%ld run\n", (long)getpid());
	assert_string_equal(read_text(f->lock, buf, sizeof(buf)), want);
	close(fd2);
}

static void
test_lock_never_follows_a_symlink(void **state)
{
	struct fx *f = *state;
	char buf[64];
	int fd = -1;

	assert_int_equal(mkdir(f->state, 0755), 0);
	write_text(f->target, "precious\n");
	assert_int_equal(symlink(f->target, f->lock), 0);
	assert_int_equal(statedir_lock(f->state, "run", &fd), XDC_ERR);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(xdc_error_last(), "is a symbolic link"));
	assert_string_equal(
	    read_text(f->target, buf, sizeof(buf)), "precious\n");
}

static void
test_lock_never_writes_a_hard_link(void **state)
{
	struct fx *f = *state;
	char buf[64];
	int fd = -1;

	assert_int_equal(mkdir(f->state, 0755), 0);
	write_text(f->target, "precious\n");
	assert_int_equal(link(f->target, f->lock), 0);
	assert_int_equal(statedir_lock(f->state, "run", &fd), XDC_ERR);
	assert_non_null(strstr(xdc_error_last(), "one link"));
	assert_string_equal(
	    read_text(f->target, buf, sizeof(buf)), "precious\n");
}

static void
test_lock_refuses_what_is_not_a_file(void **state)
{
	struct fx *f = *state;
	int fd = -1;

	assert_int_equal(mkdir(f->state, 0755), 0);
	assert_int_equal(mkfifo(f->lock, 0644), 0);
	assert_int_equal(statedir_lock(f->state, "run", &fd), XDC_ERR);
	assert_non_null(strstr(xdc_error_last(), "not a regular file"));
}

static void
test_directory_writable_by_others_is_refused(void **state)
{
	struct fx *f = *state;
	int fd = -1;

	assert_int_equal(mkdir(f->state, 0755), 0);
	assert_int_equal(chmod(f->state, 0775), 0);
	assert_int_equal(statedir_lock(f->state, "run", &fd), XDC_ERR);
	assert_non_null(
	    strstr(xdc_error_last(), "writable by its group (mode 0775)"));
	assert_non_null(strstr(xdc_error_last(), "chmod go-w"));
	/* Nothing was created in it. */
	assert_int_not_equal(access(f->lock, F_OK), 0);
	assert_int_equal(chmod(f->state, 01777), 0);
	assert_int_equal(statedir_check(f->state), XDC_ERR);
	assert_non_null(strstr(xdc_error_last(), "writable by every user"));
	assert_int_equal(chmod(f->state, 0700), 0);
	assert_int_equal(statedir_check(f->state), 0);
}

static void
test_directory_of_another_user_is_refused(void **state)
{
	struct fx *f = *state;

	if (geteuid() != 0)
		skip(); /* only root can give a directory away */
	assert_int_equal(mkdir(f->state, 0755), 0);
	assert_int_equal(chown(f->state, 65534, 65534), 0);
	assert_int_equal(statedir_check(f->state), XDC_ERR);
	assert_non_null(strstr(xdc_error_last(), "belongs to uid 65534"));
}

static void
test_not_a_directory_is_refused(void **state)
{
	struct fx *f = *state;

	write_text(f->target, "x\n");
	assert_int_not_equal(statedir_check(f->target), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_lock_says_who_holds_it, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_lock_never_follows_a_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_lock_never_writes_a_hard_link, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_lock_refuses_what_is_not_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_directory_writable_by_others_is_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_directory_of_another_user_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_not_a_directory_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
