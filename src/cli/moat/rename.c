/* moat rename CONTAINER NEW_NAME */
#include "container.h"

int cmd_rename(int argc, char **argv)
{
        int r0 = cli_no_options(&argc, argv, "rename CONTAINER NEW_NAME");
        if (r0 >= 0)
                return r0;
        if (argc != 3)
                return cli_args("rename CONTAINER NEW_NAME", "requires 2 arguments");
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        if (moat_engine_rename(e, argv[1], argv[2], &err) < 0)
                return cli_fail(&err);
        return 0;
}
