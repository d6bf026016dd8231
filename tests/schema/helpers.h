/*
 * What the schema tests share: loading YAML held in strings through the
 * in-memory loader (schema_loader_new/add/finish), and assertions on the
 * diagnostics it reports. A failed assertion prints every diagnostic of the
 * load and points at the test's line, not at this file.
 *
 * Every load also checks the loader's contract: it returns 0 with a
 * configuration exactly when it reported nothing, and XDC_EINVALID with no
 * configuration otherwise.
 */
#ifndef XDC_TESTS_SCHEMA_HELPERS_H
#define XDC_TESTS_SCHEMA_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "schema/schema.h"

/* The name every single-string load gives its file. */
#define TEST_FILE "test.yaml"

static inline void
dump_diags(const struct xdc_diags *d)
{
	const struct xdc_diag *g;
	size_t i;

	for (i = 0; (g = xdc_diags_get(d, i)) != NULL; i++)
		print_error("  %s:%u:%u: %s\n", g->dg_file, g->dg_line,
		    g->dg_col, g->dg_msg);
}

/*
 * Load n in-memory files. Returns the diagnostics (free them with
 * xdc_diags_free); *cfg is the configuration when there were none, NULL
 * otherwise.
 */
static inline struct xdc_diags *
load_buffers(const char *const *names, const char *const *bufs,
    const size_t *lens, size_t n, struct xdc_config **cfg)
{
	struct xdc_diags *d = xdc_diags_new();
	struct schema_loader *sl = schema_loader_new("test", d);
	size_t i;
	int rc;

	*cfg = NULL;
	for (i = 0; i < n; i++)
		schema_loader_add(sl, names[i], bufs[i],
		    lens != NULL ? lens[i] : strlen(bufs[i]));
	rc = schema_loader_finish(sl, cfg);
	if (xdc_diags_count(d) == 0) {
		assert_int_equal(rc, 0);
		assert_non_null(*cfg);
	} else {
		assert_int_equal(rc, XDC_EINVALID);
		assert_null(*cfg);
	}
	return d;
}

static inline struct xdc_diags *
load_string(const char *yaml, struct xdc_config **cfg)
{
	const char *name = TEST_FILE;

	return load_buffers(&name, &yaml, NULL, 1, cfg);
}

static inline int
diag_is(const struct xdc_diag *g, const char *file, unsigned line, unsigned col,
    const char *substr)
{
	return g != NULL && !strcmp(g->dg_file, file) && g->dg_line == line &&
	       g->dg_col == col && strstr(g->dg_msg, substr) != NULL;
}

static inline void
check_no_diags(const struct xdc_diags *d, const char *file, int line)
{
	if (xdc_diags_count(d) == 0)
		return;
	print_error("expected no diagnostics, got %zu:\n", xdc_diags_count(d));
	dump_diags(d);
	_fail(file, line);
}

/* Diagnostic i is FILE:LINE:COL and its message contains substr. */
static inline void
check_diag(const struct xdc_diags *d, size_t i, const char *dfile,
    unsigned dline, unsigned dcol, const char *substr, const char *file,
    int line)
{
	if (diag_is(xdc_diags_get(d, i), dfile, dline, dcol, substr))
		return;
	print_error("expected diagnostic %zu to be %s:%u:%u: ...%s..., got:\n",
	    i, dfile, dline, dcol, substr);
	dump_diags(d);
	_fail(file, line);
}

/* Some diagnostic is FILE:LINE:COL with substr in its message. */
static inline void
check_has_diag(const struct xdc_diags *d, const char *dfile, unsigned dline,
    unsigned dcol, const char *substr, const char *file, int line)
{
	size_t i;

	for (i = 0; i < xdc_diags_count(d); i++)
		if (diag_is(xdc_diags_get(d, i), dfile, dline, dcol, substr))
			return;
	print_error("expected a diagnostic %s:%u:%u: ...%s..., got:\n", dfile,
	    dline, dcol, substr);
	dump_diags(d);
	_fail(file, line);
}

static inline void
check_diag_count(
    const struct xdc_diags *d, size_t n, const char *file, int line)
{
	if (xdc_diags_count(d) == n)
		return;
	print_error(
	    "expected %zu diagnostics, got %zu:\n", n, xdc_diags_count(d));
	dump_diags(d);
	_fail(file, line);
}

/* yaml loads without a diagnostic. */
static inline void
check_loads(const char *yaml, const char *file, int line)
{
	struct xdc_config *cfg;
	struct xdc_diags *d = load_string(yaml, &cfg);

	check_no_diags(d, file, line);
	xdc_config_free(cfg);
	xdc_diags_free(d);
}

/* yaml is rejected with exactly one diagnostic, at LINE:COL of test.yaml. */
static inline void
check_rejects(const char *yaml, unsigned dline, unsigned dcol,
    const char *substr, const char *file, int line)
{
	struct xdc_config *cfg;
	struct xdc_diags *d = load_string(yaml, &cfg);

	check_diag_count(d, 1, file, line);
	check_diag(d, 0, TEST_FILE, dline, dcol, substr, file, line);
	xdc_config_free(cfg);
	xdc_diags_free(d);
}

#define assert_no_diags(d) check_no_diags(d, __FILE__, __LINE__)
#define assert_diag(d, i, f, l, c, s)                                          \
	check_diag(d, i, f, l, c, s, __FILE__, __LINE__)
#define assert_has_diag(d, f, l, c, s)                                         \
	check_has_diag(d, f, l, c, s, __FILE__, __LINE__)
#define assert_diag_count(d, n) check_diag_count(d, n, __FILE__, __LINE__)
#define assert_loads(yaml)      check_loads(yaml, __FILE__, __LINE__)
#define assert_rejects(yaml, l, c, s)                                          \
	check_rejects(yaml, l, c, s, __FILE__, __LINE__)

#endif /* XDC_TESTS_SCHEMA_HELPERS_H */
