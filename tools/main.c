/* main — the cimsim command: dispatches to subcommands (tools/cli.h). */
#include "cli.h"

int main(int argc, char **argv)
{
    return cs_cli_main(argc, argv);
}
