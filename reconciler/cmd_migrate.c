/*
 * xdc migrate-receive NAME [--host H]: the receiving end of a live
 * migration, run by the sending host's xen driver over ssh on the
 * destination dom0, as `xl migrate` runs `xl migrate-receive`. It speaks
 * the handshake of drivers/xen_migrate.h on its stdin and stdout, so it
 * prints nothing there of its own; what people should read goes to
 * stderr, which ssh carries back to the sender. Not for people to run, so
 * not listed by `xdc --help`; `xdc migrate-receive --help` says what it is.
 */
#include <stdio.h>
#include <unistd.h>

#include "drivers/xen_migrate.h"
#include "reconciler/cli.h"
#include "schema/model.h"
#include "schema/values.h"

int
cmd_migrate_receive(struct cli *cli, int argc, char **argv)
{
	const char *args[1] = { NULL };
	int rc;

	if ((rc = cli_parse(
	         cli, argc, argv, NULL, NULL, NULL, NULL, args, 1)) != 0)
		return rc > 0 ? XDC_EXIT_OK : XDC_EXIT_ERROR;
	if (args[0] == NULL || !xdc_name_valid(args[0])) {
		fprintf(stderr, "%s migrate-receive: expected the VM's name\n",
		    cli->cl_prog);
		cli_usage(cli, stderr);
		return XDC_EXIT_ERROR;
	}
	/* The sender names this host as the pool does (--host). */
	return xen_mig_receive(cli_host_name(cli, NULL), args[0], STDIN_FILENO,
	           STDOUT_FILENO) == 0
	           ? XDC_EXIT_OK
	           : XDC_EXIT_ERROR;
}
