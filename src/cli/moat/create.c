/* moat create [OPTIONS] IMAGE [COMMAND] [ARG...]: record a container and its root filesystem. */
#include "container.h"

int cmd_create(int argc, char **argv)
{
        struct cli_run r;
        int p = cli_run_parse(&r, argc, argv, false);
        if (p == 1)
                return printf("Usage: moat create [OPTIONS] IMAGE [COMMAND] [ARG...] (the options of run, without -d)\n"), 0;
        if (p == 2) {
                cli_run_free(&r);
                return 1;
        }
        if (p < 0) {
                cli_run_free(&r);
                return 125;
        }
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e)) {
                cli_run_free(&r);
                return 125;
        }
        struct moat_error err;
        _cleanup_free_ char *id = NULL;
        int rc = moat_engine_create(e, &r.o, &id, &err);
        cli_run_free(&r);
        if (rc < 0)
                return cli_fail125(&err);
        printf("%s\n", id);
        return 0;
}
