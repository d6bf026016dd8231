/*
 * xdc: a declarative data-centre reconciler for the Xen hypervisor.
 */
#include "reconciler/cli.h"

int
main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
