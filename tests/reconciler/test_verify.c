/*
 * Signed commits and tags (reconciler/verify.c): what is parsed here
 * rather than by libgit2 or the tools (the armor's kind, where a tag's
 * signature starts, the key inside an SSH signature), and the refusals
 * that need no key: no signature, a signature of no known kind, X.509.
 * tests/verify/run checks real signatures, made with ssh-keygen and gpg.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <git2.h>

#include "reconciler/verify.h"
#include "base/error.h"

#define PGP_SIG                                                                \
	"-----BEGIN PGP SIGNATURE-----\n\niQ==\n-----END PGP SIGNATURE-----\n"

/* ssh-keygen -Y sign -n git of "payload\n" with the key below. */
#define SSH_SIG                                                                \
	"-----BEGIN SSH SIGNATURE-----\n"                                      \
	"U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAgr4Zxw/q2zRMkhFhxrtLl+"    \
	"hDeOh\n"                                                              \
	"uRlEazLYfDBLQDEcYAAAADZ2l0AAAAAAAAAAZzaGE1MTIAAABTAAAAC3NzaC1lZDI1"   \
	"NTE5\n"                                                               \
	"AAAAQN/pbbOMPNADY9oZleSuFJ9Pa949nKD1UjIA5IhIzTCQmsK3uDWZyqnoTqy/"     \
	"bi5kzb\n"                                                             \
	"XI1sXt5T0RWVjAR+RKaA8=\n"                                             \
	"-----END SSH SIGNATURE-----\n"
#define SSH_KEY                                                                \
	"ssh-ed25519 "                                                         \
	"AAAAC3NzaC1lZDI1NTE5AAAAIK+GccP6ts0TJIRYca7S5foQ3jobkZRGsy2HwwS0AxHG"

struct fx {
	char dir[64];
	char signers[96]; /* an allowed_signers file, empty */
	git_repository *r;
	struct verify *v;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	FILE *fp;

	git_libgit2_init();
	snprintf(f->dir, sizeof(f->dir), "/tmp/xdc-verify-test-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->signers, sizeof(f->signers), "%s/allowed", f->dir);
	if ((fp = fopen(f->signers, "w")) == NULL || fclose(fp) != 0)
		return -1;
	if (git_repository_init(&f->r, f->dir, 1) != 0)
		return -1;
	if (verify_new(NULL, f->signers, &f->v) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	verify_free(f->v);
	git_repository_free(f->r);
	git_libgit2_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* A commit of the empty tree, with gpgsig sig when not NULL. */
static void
commit(struct fx *f, const char *sig, git_oid *id)
{
	git_treebuilder *tb = NULL;
	git_signature *who = NULL;
	git_tree *tree = NULL;
	git_buf buf = { 0 };
	git_oid tid;

	assert_int_equal(git_treebuilder_new(&tb, f->r, NULL), 0);
	assert_int_equal(git_treebuilder_write(&tid, tb), 0);
	assert_int_equal(git_tree_lookup(&tree, f->r, &tid), 0);
	assert_int_equal(git_signature_new(&who, "t", "t@t", 1700000000, 0), 0);
	assert_int_equal(git_commit_create_buffer(&buf, f->r, who, who, NULL,
	                     "config\n", tree, 0, NULL),
	    0);
	/* NULL: no gpgsig header at all. */
	assert_int_equal(
	    git_commit_create_with_signature(id, f->r, buf.ptr, sig, NULL), 0);
	git_buf_dispose(&buf);
	git_signature_free(who);
	git_tree_free(tree);
	git_treebuilder_free(tb);
}

static int
check(struct fx *f, const git_oid *id, git_object_t type, const char *name,
    enum verify_reason *reason)
{
	git_object *obj = NULL;
	int rc;

	assert_int_equal(git_object_lookup(&obj, f->r, id, type), 0);
	rc = verify_object(f->v, f->r, obj, name, reason, NULL);
	git_object_free(obj);
	return rc;
}

static void
test_kind_is_told_by_the_armor(void **state)
{
	(void)state;
	assert_int_equal(
	    verify_kind_of(PGP_SIG, strlen(PGP_SIG)), VERIFY_KIND_OPENPGP);
	assert_int_equal(
	    verify_kind_of(SSH_SIG, strlen(SSH_SIG)), VERIFY_KIND_SSH);
	assert_int_equal(verify_kind_of("-----BEGIN SIGNED MESSAGE-----\n", 31),
	    VERIFY_KIND_X509);
	assert_int_equal(verify_kind_of("-----BEGIN PGP MESSAGE-----", 27),
	    VERIFY_KIND_OPENPGP);
	/* Cut short, or not at the start: nothing. */
	assert_int_equal(verify_kind_of(PGP_SIG, 20), VERIFY_KIND_NONE);
	assert_int_equal(
	    verify_kind_of(" " PGP_SIG, strlen(PGP_SIG) + 1), VERIFY_KIND_NONE);
}

static void
test_tag_split_finds_the_last_signature_line(void **state)
{
	const char *tag = "object 0123\ntype commit\ntag v1\n\nrelease\n";
	const char *quoted = "object 0123\ntype commit\ntag v1\n\n"
	                     "quoting: -----BEGIN PGP SIGNATURE-----\n"
	                     "-----BEGIN SSH SIGNATURE-----\nold\n"
	                     "-----BEGIN PGP SIGNATURE-----\nnew\n";
	char buf[256];
	size_t n;

	(void)state;
	/* Not signed: the whole of it is the payload. */
	assert_int_equal(verify_tag_split(tag, strlen(tag)), strlen(tag));
	snprintf(buf, sizeof(buf), "%s%s", tag, PGP_SIG);
	n = strlen(buf);
	assert_int_equal(verify_tag_split(buf, n), strlen(tag));
	/* The last line that opens one, and never one in mid-line. */
	assert_int_equal(verify_tag_split(quoted, strlen(quoted)),
	    strstr(quoted, "-----BEGIN PGP SIGNATURE-----\nnew") - quoted);
	/* Without a final newline, and empty. */
	assert_int_equal(verify_tag_split(buf, n - 1), strlen(tag));
	assert_int_equal(verify_tag_split("", 0), 0);
}

static void
test_ssh_signature_names_its_key(void **state)
{
	char *line = NULL;

	(void)state;
	assert_int_equal(
	    verify_ssh_sig_key(SSH_SIG, strlen(SSH_SIG), &line), 0);
	assert_string_equal(line, SSH_KEY);
	free(line);
}

static void
test_ssh_signature_garbage_is_refused(void **state)
{
	/* "SSHSIG", version 1, a key string claiming 0xff bytes. */
	const char *cut = "-----BEGIN SSH SIGNATURE-----\n"
	                  "U1NIU0lHAAAAAQAAAP8AAAAL\n"
	                  "-----END SSH SIGNATURE-----\n";
	/* "XXXXXX" where the magic is. */
	const char *magic = "-----BEGIN SSH SIGNATURE-----\n"
	                    "WFhYWFhYAAAAAQAAAAA=\n"
	                    "-----END SSH SIGNATURE-----\n";
	const char *unended = "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n";
	char *line = NULL;

	(void)state;
	assert_int_equal(
	    verify_ssh_sig_key(PGP_SIG, strlen(PGP_SIG), &line), XDC_ERR);
	assert_int_equal(verify_ssh_sig_key(cut, strlen(cut), &line), XDC_ERR);
	assert_int_equal(
	    verify_ssh_sig_key(magic, strlen(magic), &line), XDC_ERR);
	assert_int_equal(
	    verify_ssh_sig_key(unended, strlen(unended), &line), XDC_ERR);
	/* Cut inside the armor. */
	assert_int_equal(verify_ssh_sig_key(SSH_SIG, 60, &line), XDC_ERR);
	assert_null(line);
}

static void
test_unsigned_commit_is_refused(void **state)
{
	struct fx *f = *state;
	enum verify_reason why;
	git_oid id;

	commit(f, NULL, &id);
	assert_int_equal(
	    check(f, &id, GIT_OBJECT_COMMIT, NULL, &why), XDC_EUNVERIFIED);
	assert_int_equal(why, VERIFY_UNSIGNED);
	assert_string_equal(xdc_error_last(),
	    "the commit is not signed: only what a trusted key signed is "
	    "applied");
	assert_string_equal(verify_reason_name(why), "unsigned");
}

static void
test_signature_of_no_known_kind_is_bad(void **state)
{
	struct fx *f = *state;
	enum verify_reason why;
	git_oid id;

	commit(f, "not a signature\n", &id);
	assert_int_equal(
	    check(f, &id, GIT_OBJECT_COMMIT, NULL, &why), XDC_EUNVERIFIED);
	assert_int_equal(why, VERIFY_BAD_SIGNATURE);
	assert_string_equal(xdc_error_last(),
	    "bad signature: the commit carries a signature of no known kind");
}

static void
test_x509_signature_is_not_trusted(void **state)
{
	struct fx *f = *state;
	enum verify_reason why;
	git_oid id;

	commit(f,
	    "-----BEGIN SIGNED MESSAGE-----\nMII=\n"
	    "-----END SIGNED MESSAGE-----\n",
	    &id);
	assert_int_equal(
	    check(f, &id, GIT_OBJECT_COMMIT, NULL, &why), XDC_EUNVERIFIED);
	assert_int_equal(why, VERIFY_UNKNOWN_KEY);
	assert_non_null(strstr(xdc_error_last(), "X.509"));
}

static void
test_unsigned_tag_is_judged_by_its_commit(void **state)
{
	struct fx *f = *state;
	enum verify_reason why;
	git_signature *who = NULL;
	git_object *target = NULL;
	git_oid id, tag;

	commit(f, NULL, &id);
	assert_int_equal(
	    git_object_lookup(&target, f->r, &id, GIT_OBJECT_COMMIT), 0);
	assert_int_equal(git_signature_new(&who, "t", "t@t", 1700000000, 0), 0);
	assert_int_equal(
	    git_tag_create(&tag, f->r, "v1", target, who, "release\n", 0), 0);
	assert_int_equal(
	    check(f, &tag, GIT_OBJECT_TAG, "v1", &why), XDC_EUNVERIFIED);
	assert_int_equal(why, VERIFY_UNSIGNED);
	assert_string_equal(xdc_error_last(),
	    "neither tag v1 nor its commit is signed: only what a trusted key "
	    "signed is applied");
	git_signature_free(who);
	git_object_free(target);
}

static void
test_missing_trust_file_is_an_error(void **state)
{
	struct verify *v = NULL;

	(void)state;
	assert_int_equal(
	    verify_new(NULL, "/nonexistent/allowed_signers", &v), XDC_ERR);
	assert_null(v);
	assert_string_equal(xdc_error_last(),
	    "--trust-ssh /nonexistent/allowed_signers: No such file or "
	    "directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_is_told_by_the_armor),
		cmocka_unit_test(test_tag_split_finds_the_last_signature_line),
		cmocka_unit_test(test_ssh_signature_names_its_key),
		cmocka_unit_test(test_ssh_signature_garbage_is_refused),
		cmocka_unit_test_setup_teardown(
		    test_unsigned_commit_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_signature_of_no_known_kind_is_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_x509_signature_is_not_trusted, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_unsigned_tag_is_judged_by_its_commit, setup, teardown),
		cmocka_unit_test(test_missing_trust_file_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
