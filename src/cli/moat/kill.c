/* moat kill [-s SIGNAL] CONTAINER... */
#include "container.h"


static int kill_one(struct moat_engine *e, const char *name, const void *arg, struct moat_error *err)
{
        return moat_engine_kill(e, name, *(const int *) arg, err);
}

int cmd_kill(int argc, char **argv)
{
        static const struct option opts[] = {
                { "signal", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' }, {},
        };
        int sig = 9, c;
        while ((c = cli_getopt(argc, argv, "s:", opts, NULL)) != -1) {
                if (c == 's' && (sig = moat_signal_parse(optarg)) > 0)
                        continue;
                if (c == 's') {
                        fprintf(stderr, "moat: invalid signal: %s\n", optarg);
                        return 1;
                }
                return c == 'h' ? cli_help("kill [-s SIGNAL] CONTAINER...") : cli_usage("kill [-s SIGNAL] CONTAINER...");
        }
        return cli_each_container(argc, argv, "kill [-s SIGNAL] CONTAINER...", kill_one, &sig);
}
