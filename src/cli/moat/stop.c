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
        int timeout = -1, c;
        while ((c = cli_getopt(argc, argv, "t:", opts, NULL)) != -1) {
                long long v;
                if (c == 't' && moat_parse_int64(optarg, &v) == 0 && v >= 0 && v <= 86400)
                        timeout = (int) v;
                else
                        return c == 'h' ? cli_help("stop [-t SECONDS] CONTAINER...")
                                        : cli_usage("stop [-t SECONDS] CONTAINER...");
        }
        return cli_each_container(argc, argv, "stop [-t SECONDS] CONTAINER...", stop_one, &timeout);
}
