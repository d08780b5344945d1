/* moat _sync ID: run by moat-monitor when its container's process ends, to record the outcome in
 * the state DB (and remove an --rm container). Not for users. */
#include "container.h"

int cmd_sync(int argc, char **argv)
{
        if (argc != 2)
                return cli_usage("_sync ID");
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        if (moat_engine_sync(e, argv[1], &err) < 0)
                return cli_fail(&err);
        return 0;
}
