/*
 * Cutting a large JSON document into pieces (json_split.h): a scan of
 * brackets and strings, nothing parsed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "drivers/json_split.h"

#define NOWHERE SIZE_MAX

static size_t
skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n &&
	       (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* What a scan stops at outside strings: all else is skipped. */
static const unsigned char stop[256] = {
	['"'] = 1,
	['{'] = 1,
	['['] = 1,
	['}'] = 1,
	[']'] = 1,
};

/* Past the closing quote of the string whose text starts at s[i]. */
static size_t
string_end(const char *s, size_t i, size_t n)
{
	const char *q;
	size_t j, k;

	/* A quote after an odd run of backslashes is escaped. */
	for (; (q = memchr(s + i, '"', n - i)) != NULL; i = j + 1) {
		j = (size_t)(q - s);
		for (k = j; k > i && s[k - 1] == '\\'; k--)
			;
		if ((j - k) % 2 == 0)
			return j + 1;
	}
	return NOWHERE;
}

/*
 * Where the value at s[i] ends: past its closing bracket or quote, or at
 * the first byte that cannot be in a number or literal. NOWHERE when it
 * does not end before n.
 */
static size_t
value_end(const char *s, size_t i, size_t n)
{
	size_t depth = 0;

	if (i >= n)
		return NOWHERE;
	if (s[i] == '"')
		return string_end(s, i + 1, n);
	if (s[i] != '{' && s[i] != '[') {
		while (i < n && s[i] != ',' && s[i] != ']' && s[i] != '}' &&
		       s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
		       s[i] != '\r')
			i++;
		return i;
	}
	while (i < n) {
		if (!stop[(unsigned char)s[i]]) {
			i++;
		} else if (s[i] == '"') {
			if ((i = string_end(s, i + 1, n)) == NOWHERE)
				return NOWHERE;
		} else if (s[i] == '{' || s[i] == '[') {
			depth++;
			i++;
		} else {
			if (depth == 0)
				return NOWHERE;
			if (--depth == 0)
				return i + 1;
			i++;
		}
	}
	return NOWHERE;
}

int
json_split_member(const char *text, size_t len, const char *key, char **rest,
    size_t *restlen, size_t *start, size_t *end)
{
	size_t i, ks, ke, vs = NOWHERE, ve = 0, klen = strlen(key), e;
	char *r;

	*rest = NULL;
	i = skip_ws(text, 0, len);
	if (i >= len || text[i] != '{')
		return -1;
	i = skip_ws(text, i + 1, len);
	if (i < len && text[i] == '}')
		return -1; /* no members: not the key's */
	for (;;) {
		/* A key, ':', a value, then ',' or '}'. */
		if (i >= len || text[i] != '"' ||
		    (ke = value_end(text, i, len)) == NOWHERE)
			return -1;
		ks = i + 1;
		if (memchr(text + ks, '\\', ke - 1 - ks) != NULL)
			return -1; /* escapes: jansson's to compare */
		i = skip_ws(text, ke, len);
		if (i >= len || text[i] != ':')
			return -1;
		i = skip_ws(text, i + 1, len);
		if ((e = value_end(text, i, len)) == NOWHERE || e == i)
			return -1;
		if (ke - 1 - ks == klen && !memcmp(text + ks, key, klen)) {
			if (vs != NOWHERE || text[i] != '[')
				return -1; /* twice, or not an array */
			vs = i;
			ve = e;
		}
		i = skip_ws(text, e, len);
		if (i < len && text[i] == '}')
			break;
		if (i >= len || text[i] != ',')
			return -1;
		i = skip_ws(text, i + 1, len);
	}
	if (vs == NOWHERE || skip_ws(text, i + 1, len) != len)
		return -1;
	*restlen = vs + 2 + (len - ve);
	r = xdc_malloc(*restlen + 1);
	memcpy(r, text, vs);
	memcpy(r + vs, "[]", 2);
	memcpy(r + vs + 2, text + ve, len - ve);
	r[*restlen] = '\0';
	*rest = r;
	*start = vs;
	*end = ve;
	return 0;
}

void
json_split_begin(
    struct json_split_it *it, const char *text, size_t start, size_t end)
{
	memset(it, 0, sizeof(*it));
	it->js_text = text;
	it->js_pos = start + 1; /* past the '[' */
	it->js_end = end;
	it->js_first = 1;
}

int
json_split_next(struct json_split_it *it, size_t *start, size_t *end)
{
	const char *s = it->js_text;
	size_t i = skip_ws(s, it->js_pos, it->js_end), e;

	if (it->js_done)
		return 0;
	/* ']' closes the array after '[' or an element, never after ','. */
	if (i < it->js_end && s[i] == ']') {
		it->js_done = 1;
		return i + 1 == it->js_end ? 0 : -1;
	}
	if (!it->js_first) {
		if (i >= it->js_end || s[i] != ',')
			return -1;
		i = skip_ws(s, i + 1, it->js_end);
	}
	it->js_first = 0;
	if ((e = value_end(s, i, it->js_end)) == NOWHERE || e == i)
		return -1;
	*start = i;
	*end = e;
	it->js_pos = e;
	return 1;
}
