/*
 * libFuzzer target for the status file's reader, what `xdc status` prints:
 * any bytes, as status.json, summarised and printed as JSON. Whatever the
 * file holds (it may be from another version, or edited), the reader must
 * never crash, leak or read out of bounds; it may only refuse.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "reconciler/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;

	if (sink == NULL && (sink = fopen("/dev/null", "w")) == NULL)
		abort();
	status_print(sink, (const char *)data, size, "/fuzz", 1, 0);
	status_print(sink, (const char *)data, size, "/fuzz", -1, 1);
	return 0;
}
