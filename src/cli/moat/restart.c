/* moat restart [-t SECONDS] CONTAINER... */
#include "container.h"

static int restart_one(struct moat_engine *e, const char *name, const void *arg, struct moat_error *err)
{
        return moat_engine_restart(e, name, *(const int *) arg, err);
}

int cmd_restart(int argc, char **argv)
{
        static const struct option opts[] = {
                { "time", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' }, {},
        };
        return cli_each_container_timeout(argc, argv, "restart [-t SECONDS] CONTAINER...", opts, restart_one);
}
