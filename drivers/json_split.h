/*
 * A JSON document too large to hold as one tree, cut into pieces that
 * jansson parses one at a time: the root object without one member's
 * array, then that array's elements. Only brackets, strings and the
 * punctuation between the pieces are looked at here; what the pieces
 * hold, jansson checks. Every piece valid means the whole is valid, and
 * read the same. A document not cut this way (the member absent or twice,
 * a key with escapes, punctuation out of place) is refused, for the
 * caller to parse whole.
 */
#ifndef XDC_JSON_SPLIT_H
#define XDC_JSON_SPLIT_H

#include <stddef.h>

/*
 * In the len bytes of text, a root object: the span [*start, *end) of its
 * member key's value, which must be an array, and in *rest (the caller
 * frees it; *restlen bytes) the document with that value replaced by [].
 * 0, or -1 when the text is not cut so (nothing allocated then).
 */
int json_split_member(const char *text, size_t len, const char *key,
    char **rest, size_t *restlen, size_t *start, size_t *end);

/* The elements of the array text[start, end), one after the other. */
struct json_split_it {
	const char *js_text;
	size_t js_pos;
	size_t js_end;
	int js_first;
	int js_done;
};

void json_split_begin(
    struct json_split_it *, const char *text, size_t start, size_t end);
/* 1 and the next element's span [*start, *end); 0 past the last; -1 when
 * the punctuation between elements is not JSON's. */
int json_split_next(struct json_split_it *, size_t *start, size_t *end);

#endif /* XDC_JSON_SPLIT_H */
