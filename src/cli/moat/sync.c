/* moat _sync ID: run by moat-monitor when its container's process ends, to record the outcome in
 * the state DB (and remove an --rm container). Not for users. */
#include "container.h"

int cmd_sync(int argc, char **argv)
{
        int r0 = cli_no_options(&argc, argv, "_sync ID");
        if (r0 >= 0)
                return r0;
        if (argc != 2)
                return cli_args("_sync ID", "requires 1 argument");
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        if (moat_engine_sync(e, argv[1], &err) < 0)
                return cli_fail(&err);
        return 0;
}
