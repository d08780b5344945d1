/* moat restart [-t SECONDS] CONTAINER... */
#include "container.h"

int cmd_restart(int argc, char **argv)
{
        static const struct option opts[] = {
                { "time", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' }, {},
        };
        int timeout = -1, c;
        while ((c = getopt_long(argc, argv, "+t:", opts, NULL)) != -1) {
                long long v;
                if (c == 't' && moat_parse_int64(optarg, &v) == 0 && v >= 0 && v <= 86400)
                        timeout = (int) v;
                else
                        return c == 'h' ? (printf("Usage: moat restart [-t SECONDS] CONTAINER...\n"), 0)
                                        : cli_usage("restart [-t SECONDS] CONTAINER...");
        }
        if (optind >= argc)
                return cli_usage("restart [-t SECONDS] CONTAINER...");
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        int rc = 0;
        for (int i = optind; i < argc; i++) {
                struct moat_error err;
                if (moat_engine_restart(e, argv[i], timeout, &err) < 0) {
                        fprintf(stderr, "moat: %s\n", err.msg);
                        rc = 1;
                } else
                        printf("%s\n", argv[i]);
        }
        return rc;
}
