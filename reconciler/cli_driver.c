/*
 * Which driver a command talks to: --driver, or xen where the machine runs
 * Xen and the simulated pool everywhere else, so that every command works
 * on any Linux machine (SPEC §5, §7).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/driver.h"
#include "drivers/sim.h"
#include "reconciler/cli.h"
#include "schema/error.h"

#define CLI_SIM_DIR ".xdc"
#define CLI_SIM_PATH CLI_SIM_DIR "/sim.json"

/* The first of Xen's device files that exists, or NULL. */
static const char *
xen_present(void)
{
	static const char *const paths[] = { "/proc/xen", "/dev/xen" };
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], F_OK) == 0)
			return paths[i];
	return NULL;
}

int
cli_open_driver(struct cli *cli, const struct xdc_config *cfg,
    struct xdc_driver **out)
{
	/* A loop opens the driver every cycle; say the choice only once. */
	static int said;
	const char *driver = cli->cl_driver, *path = cli->cl_state;

	*out = NULL;
	if (driver == NULL) {
		driver = xen_present() != NULL ? "xen" : "sim";
		if (!strcmp(driver, "sim") && !said) {
			cli_log(cli, "no Xen here (no /proc/xen): using the "
				     "simulated pool %s",
			    path != NULL ? path : CLI_SIM_PATH);
			said = 1;
		}
	}
	if (!strcmp(driver, "xen"))
		return xdc_error(XDC_ERR, "the xen driver is not built yet "
					  "(--driver sim uses the simulated "
					  "pool)");
	if (path == NULL) {
		path = CLI_SIM_PATH;
		if (mkdir(CLI_SIM_DIR, 0755) < 0 && errno != EEXIST)
			return xdc_error_sys(XDC_ERR, "cannot create %s",
			    CLI_SIM_DIR);
	}
	return sim_open(path, cfg, out);
}
