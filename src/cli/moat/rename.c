/* moat rename CONTAINER NEW_NAME */
#include "container.h"

int cmd_rename(int argc, char **argv)
{
        if (argc != 3)
                return cli_usage("rename CONTAINER NEW_NAME");
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        if (moat_engine_rename(e, argv[1], argv[2], &err) < 0)
                return cli_fail(&err);
        return 0;
}
