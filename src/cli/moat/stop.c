/* moat stop [-t SECONDS] CONTAINER...: the stop signal, then SIGKILL after the timeout. */
#include "container.h"

static int stop_one(struct moat_engine *e, const char *name, const void *arg, struct moat_error *err)
{
        return moat_engine_stop(e, name, *(const int *) arg, err);
}

int cmd_stop(int argc, char **argv)
{
        static const struct option opts[] = {
                { "time", required_argument, NULL, 't' }, { "timeout", required_argument, NULL, 't' },
                { "help", no_argument, NULL, 'h' }, {},
        };
        return cli_each_container_timeout(argc, argv, "stop [-t SECONDS] CONTAINER...", opts, stop_one);
}
