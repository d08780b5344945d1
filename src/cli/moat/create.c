/* moat create [OPTIONS] IMAGE [COMMAND] [ARG...]: record a container and its root filesystem. */
#include "container.h"

int cmd_create(int argc, char **argv)
{
        struct cli_run r;
        _cleanup_engine_ struct moat_engine *e = NULL;
        _cleanup_free_ char *id = NULL;
        int rc = cli_create_container(argc, argv, false,
                                      "create [OPTIONS] IMAGE [COMMAND] [ARG...] (the options of run, without -d)", &r,
                                      &e, &id);
        if (rc >= 0)
                return rc;
        cli_run_free(&r);
        printf("%s\n", id);
        return 0;
}
