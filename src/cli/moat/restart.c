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
        int timeout = -1, c;
        while ((c = cli_getopt(argc, argv, "t:", opts, NULL)) != -1) {
                long long v;
                if (c == 't' && moat_parse_int64(optarg, &v) == 0 && v >= 0 && v <= 86400)
                        timeout = (int) v;
                else
                        return c == 'h' ? cli_help("restart [-t SECONDS] CONTAINER...")
                                        : cli_usage("restart [-t SECONDS] CONTAINER...");
        }
        return cli_each_container(argc, argv, "restart [-t SECONDS] CONTAINER...", restart_one, &timeout);
}
