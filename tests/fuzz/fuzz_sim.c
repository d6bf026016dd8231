/*
 * libFuzzer target for the sim driver's pool file reader: any bytes, as the
 * pool file. The reader must never crash, leak or read out of bounds; it
 * may only refuse. What it accepts must write back as a file it accepts
 * again and writes back to the same bytes, or the next apply would read a
 * different pool from the one the last one wrote.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *once = NULL, *twice = NULL;

	if (sim_parse_pool("fuzz.json", (const char *)data, size, &once) != 0)
		return 0;
	if (sim_parse_pool("fuzz.json", once, strlen(once), &twice) != 0 ||
	    strcmp(once, twice) != 0)
		abort();
	free(once);
	free(twice);
	return 0;
}
