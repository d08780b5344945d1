/* moat-runtime kill [--all] ID [SIGNAL]: signal the init (or every process) of a container. */
#include "cli.h"

#include <signal.h>

int cmd_kill(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' }, { "help", no_argument, NULL, 'h' }, { 0 },
        };
        bool all = false;
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+ah", opts, NULL)) != -1) {
                if (o == 'a')
                        all = true;
                else if (o == 'h') {
                        printf("usage: moat-runtime kill [--all] ID [SIGNAL]\n");
                        return 0;
                } else
                        return cli_usage_error("kill", "unknown option \"%s\"", argv[optind - 1]);
        }
        int n = argc - optind;
        if (n < 1 || n > 2)
                return cli_usage_error("kill", "requires 1 or 2 arguments: ID [SIGNAL]");
        int sig = SIGTERM;
        if (n == 2 && (sig = moat_signal_parse(argv[optind + 1])) < 0)
                return cli_usage_error("kill", "unknown signal \"%s\"", argv[optind + 1]);
        struct moat_error err;
        moat_error_clear(&err);
        if (moat_runtime_kill(&c->rt, argv[optind], sig, all, &err) < 0)
                return cli_fail(&err);
        return 0;
}
