/* moat push [-q] [--chunk-size BYTES] IMAGE [DESTINATION] */
#include "moat.h"

int cmd_push(int argc, char **argv)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' }, { "chunk-size", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' }, {},
        };
        static const char usage[] = "push [-q] [--chunk-size BYTES] IMAGE [DESTINATION]";
        bool quiet = false;
        unsigned long long chunk = 0;
        int c;
        while ((c = cli_getopt(argc, argv, "qh", opts, NULL)) != -1) {
                if (c == 'q')
                        quiet = true;
                else if (c == 'c') {
                        if (moat_parse_uint64(optarg, &chunk) < 0)
                                return cli_usage(usage);
                } else
                        return c == 'h' ? cli_help(usage) : cli_usage(usage);
        }
        if (optind >= argc || argc - optind > 2)
                return cli_args(usage, "requires at least 1 and at most 2 arguments");
        _cleanup_store_ struct moat_image_store *s = NULL;
        if (cli_open_store(&s))
                return 1;
        struct moat_registry_opts o;
        cli_registry_opts(&o);
        o.chunk_size = (size_t) chunk;
        struct cli_progress *p = cli_progress_new(quiet);
        cli_progress_attach(p, &o);
        struct moat_error err;
        int r = moat_image_push(s, argv[optind], argc - optind == 2 ? argv[optind + 1] : NULL, &o, &err);
        cli_progress_free(p);
        if (r < 0)
                return cli_fail(&err);
        if (!quiet)
                printf("Pushed %s\n", argc - optind == 2 ? argv[optind + 1] : argv[optind]);
        return 0;
}
