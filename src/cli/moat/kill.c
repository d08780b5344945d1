/* moat kill [-s SIGNAL] CONTAINER... */
#include "container.h"

int moat_signal_parse(const char *s);

int cmd_kill(int argc, char **argv)
{
        static const struct option opts[] = {
                { "signal", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' }, {},
        };
        int sig = 9, c;
        while ((c = getopt_long(argc, argv, "+s:", opts, NULL)) != -1) {
                if (c == 's' && (sig = moat_signal_parse(optarg)) > 0)
                        continue;
                if (c == 's') {
                        fprintf(stderr, "moat: invalid signal: %s\n", optarg);
                        return 1;
                }
                return c == 'h' ? (printf("Usage: moat kill [-s SIGNAL] CONTAINER...\n"), 0)
                                : cli_usage("kill [-s SIGNAL] CONTAINER...");
        }
        if (optind >= argc)
                return cli_usage("kill [-s SIGNAL] CONTAINER...");
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        int rc = 0;
        for (int i = optind; i < argc; i++) {
                struct moat_error err;
                if (moat_engine_kill(e, argv[i], sig, &err) < 0) {
                        fprintf(stderr, "moat: %s\n", err.msg);
                        rc = 1;
                } else
                        printf("%s\n", argv[i]);
        }
        return rc;
}
