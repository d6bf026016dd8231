/* Placeholder until the xen driver lands (issue 4/8). */
#include "drivers/xen.h"
#include "schema/error.h"

int
xen_open(const char *host, struct xdc_driver **out)
{
	(void)host;
	*out = NULL;
	return xdc_error(XDC_ERR, "the xen driver is not built yet "
				  "(--driver sim uses the simulated pool)");
}
