/*
 * libFuzzer target for the loader: any bytes, as one configuration file.
 * The loader must never crash, leak or read out of bounds, whatever it is
 * given; it may only report diagnostics.
 */
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "schema/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xdc_diags *diags = xdc_diags_new();
	struct schema_loader *sl = schema_loader_new("fuzz", diags);
	struct xdc_config *cfg = NULL;

	schema_loader_add(sl, "fuzz.yaml", (const char *)data, size);
	if (schema_loader_finish(sl, &cfg) == 0)
		xdc_config_free(cfg);
	xdc_diags_free(diags);
	return 0;
}
