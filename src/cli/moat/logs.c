/* moat logs [-f] [--tail N] [-t] CONTAINER */
#include "container.h"

int cmd_logs(int argc, char **argv)
{
        static const struct option opts[] = {
                { "follow", no_argument, NULL, 'f' }, { "tail", required_argument, NULL, 'n' },
                { "timestamps", no_argument, NULL, 't' }, { "since", required_argument, NULL, 's' },
                { "until", required_argument, NULL, 'u' }, { "help", no_argument, NULL, 'h' }, {},
        };
        static const char usage[] = "logs [-f] [-n|--tail N|all] [-t] CONTAINER";
        bool follow = false, ts = false;
        long tail = -1;
        int c;
        while ((c = getopt_long(argc, argv, "+fn:t", opts, NULL)) != -1) {
                long long v;
                switch (c) {
                case 'f': follow = true; break;
                case 't': ts = true; break;
                case 'n':
                        if (streq(optarg, "all"))
                                tail = -1;
                        else if (moat_parse_int64(optarg, &v) == 0 && v >= 0)
                                tail = (long) v;
                        else
                                return cli_usage(usage);
                        break;
                case 's': case 'u':
                        fprintf(stderr, "moat: logs --since/--until are not supported yet\n");
                        return 1;
                case 'h': return printf("Usage: moat %s\n", usage), 0;
                default: return cli_usage(usage);
                }
        }
        if (argc - optind != 1)
                return cli_usage(usage);
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        if (moat_engine_logs(e, argv[optind], tail, follow, ts, &err) < 0)
                return cli_fail(&err);
        return 0;
}
