/*
 * yamlfloor: the cost of merely reading a configuration with libyaml.
 *
 *	yamlfloor FILE|DIR ...
 *
 * Every file named, and every *.yaml and *.yml below a directory named
 * (sorted by path, hidden entries skipped, as xdc reads a configuration),
 * is read whole into memory and run through libyaml's event parser, and
 * the events are counted.  Nothing is built from them: this is the floor
 * that `xdc validate` is measured against by bench/run, so it does the
 * same I/O a loader does and nothing more.
 *
 * Prints "EVENTS events, FILES files, BYTES bytes" on stdout; exits 1 with
 * FILE:LINE:COL on a parse error.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

struct paths {
	char **p_v;
	size_t p_n;
	size_t p_cap;
};

struct totals {
	uint64_t t_events;
	uint64_t t_bytes;
	uint64_t t_files;
};

static int paths_add(struct paths *, const char *);
static int has_yaml_suffix(const char *);
static int walk_dir(struct paths *, const char *);
static int cmp_path(const void *, const void *);
static int read_whole(const char *, unsigned char **, size_t *);
static int parse_file(const char *, struct totals *);

static int
paths_add(struct paths *ps, const char *path)
{
	char **nv;
	size_t ncap;

	if (ps->p_n == ps->p_cap) {
		ncap = ps->p_cap ? ps->p_cap * 2 : 64;
		nv = realloc(ps->p_v, ncap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		ps->p_v = nv;
		ps->p_cap = ncap;
	}
	if ((ps->p_v[ps->p_n] = strdup(path)) == NULL)
		return -1;
	ps->p_n++;
	return 0;
}

static int
has_yaml_suffix(const char *name)
{
	size_t len = strlen(name);

	return (len > 5 && strcmp(name + len - 5, ".yaml") == 0) ||
	       (len > 4 && strcmp(name + len - 4, ".yml") == 0);
}

/*
 * Collect the configuration files below dir.  Order does not matter here:
 * the caller sorts the whole list by path, as the loader does, so the floor
 * parses the files in the same sequence.
 */
static int
walk_dir(struct paths *ps, const char *dir)
{
	DIR *d = NULL;
	struct dirent *de;
	struct stat st;
	char *path = NULL;
	int rc = -1;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "yamlfloor: %s: %s\n", dir, strerror(errno));
		goto out;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		free(path);
		path = NULL;
		if (asprintf(&path, "%s/%s", dir, de->d_name) == -1) {
			path = NULL;
			fprintf(stderr, "yamlfloor: out of memory\n");
			goto out;
		}
		/*
		 * lstat, so a symlinked directory cannot send the walk
		 * round a loop; a symlink to a file still counts.
		 */
		if (lstat(path, &st) == -1 ||
		    (S_ISLNK(st.st_mode) && stat(path, &st) == -1)) {
			fprintf(stderr, "yamlfloor: %s: %s\n", path,
			    strerror(errno));
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			if (walk_dir(ps, path) == -1)
				goto out;
		} else if (S_ISREG(st.st_mode) && has_yaml_suffix(de->d_name)) {
			if (paths_add(ps, path) == -1) {
				fprintf(stderr, "yamlfloor: out of memory\n");
				goto out;
			}
		}
	}
	if (errno != 0) {
		fprintf(stderr, "yamlfloor: %s: %s\n", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(path);
	if (d != NULL)
		closedir(d);
	return rc;
}

static int
cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The whole file in one buffer, as a loader that keeps marks would have it. */
static int
read_whole(const char *path, unsigned char **bufp, size_t *lenp)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t cap, len = 0;
	ssize_t n;
	int fd = -1, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		fprintf(stderr, "yamlfloor: %s: %s\n", path, strerror(errno));
		goto out;
	}
	/* One spare byte so an empty file still gets a buffer. */
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap)) == NULL) {
		fprintf(stderr, "yamlfloor: %s: out of memory\n", path);
		goto out;
	}
	for (;;) {
		if (len == cap) {
			/* The file grew under us; keep up with it. */
			unsigned char *nbuf = realloc(buf, cap * 2);

			if (nbuf == NULL) {
				fprintf(stderr,
				    "yamlfloor: %s: out of memory\n", path);
				goto out;
			}
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "yamlfloor: %s: %s\n", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*bufp = buf;
	buf = NULL;
	*lenp = len;
	rc = 0;
out:
	free(buf);
	if (fd != -1)
		close(fd);
	return rc;
}

static int
parse_file(const char *path, struct totals *t)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	unsigned char *buf = NULL;
	size_t len;
	int inited = 0, done = 0, rc = -1;

	if (read_whole(path, &buf, &len) == -1)
		goto out;
	if (!yaml_parser_initialize(&parser)) {
		fprintf(stderr, "yamlfloor: out of memory\n");
		goto out;
	}
	inited = 1;
	yaml_parser_set_input_string(&parser, buf, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			fprintf(stderr, "%s:%zu:%zu: error: %s\n", path,
			    parser.problem_mark.line + 1,
			    parser.problem_mark.column + 1,
			    parser.problem ? parser.problem : "parse error");
			goto out;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		t->t_events++;
	}
	t->t_bytes += len;
	t->t_files++;
	rc = 0;
out:
	if (inited)
		yaml_parser_delete(&parser);
	free(buf);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct paths ps = { NULL, 0, 0 };
	struct totals t = { 0, 0, 0 };
	struct stat st;
	size_t i, first;
	int a, rc = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: yamlfloor FILE|DIR ...\n");
		goto out;
	}
	for (a = 1; a < argc; a++) {
		if (stat(argv[a], &st) == -1) {
			fprintf(stderr, "yamlfloor: %s: %s\n", argv[a],
			    strerror(errno));
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (paths_add(&ps, argv[a]) == -1) {
				fprintf(stderr, "yamlfloor: out of memory\n");
				goto out;
			}
			continue;
		}
		/* Each directory sorted on its own, as if loaded alone. */
		first = ps.p_n;
		if (walk_dir(&ps, argv[a]) == -1)
			goto out;
		qsort(
		    ps.p_v + first, ps.p_n - first, sizeof(*ps.p_v), cmp_path);
	}
	for (i = 0; i < ps.p_n; i++)
		if (parse_file(ps.p_v[i], &t) == -1)
			goto out;
	printf("%llu events, %llu files, %llu bytes\n",
	    (unsigned long long)t.t_events, (unsigned long long)t.t_files,
	    (unsigned long long)t.t_bytes);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "yamlfloor: stdout: %s\n", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < ps.p_n; i++)
		free(ps.p_v[i]);
	free(ps.p_v);
	return rc;
}
