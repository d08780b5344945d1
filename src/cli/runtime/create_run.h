/* Options shared by create and run. */
#ifndef MOAT_CLI_CREATE_RUN_H
#define MOAT_CLI_CREATE_RUN_H
#include "cli.h"
/* Parses create/run options into o (bundle made absolute in *bundle_buf). Returns 0, or the exit code. */
int cli_parse_create_opts(const char *cmd, bool run, int argc, char **argv, struct moat_create_opts *o,
                          char **bundle_buf);
#endif
