/* moat pull [-q] [--platform OS/ARCH[/VARIANT]] NAME[:TAG|@DIGEST] */
#include "moat.h"

int cmd_pull(int argc, char **argv)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' }, { "platform", required_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' }, {},
        };
        static const char usage[] = "pull [-q|--quiet] [--platform OS/ARCH[/VARIANT]] NAME[:TAG|@DIGEST]";
        bool quiet = false;
        const char *platform = NULL;
        int c;
        while ((c = cli_getopt(argc, argv, "qh", opts, NULL)) != -1) {
                if (c == 'q')
                        quiet = true;
                else if (c == 'p')
                        platform = optarg;
                else
                        return c == 'h' ? cli_help(usage) : cli_usage(usage);
        }
        if (optind + 1 != argc)
                return cli_args(usage, "requires 1 argument");
        _cleanup_store_ struct moat_image_store *s = NULL;
        if (cli_open_store(&s))
                return 1;
        struct moat_registry_opts o;
        cli_registry_opts(&o);
        o.platform = platform;
        struct cli_progress *p = cli_progress_new(quiet);
        cli_progress_attach(p, &o);
        struct moat_error err;
        char id[MOAT_DIGEST_LEN + 1];
        int r = moat_image_pull(s, argv[optind], &o, id, &err);
        cli_progress_free(p);
        if (r < 0)
                return cli_fail(&err);
        if (quiet) {
                struct moat_image_ref ref;
                if (moat_image_ref_parse(argv[optind], &ref, &err) == 0) {
                        _cleanup_free_ char *full = moat_image_ref_string(&ref);
                        printf("%s\n", full);
                        moat_image_ref_free(&ref);
                }
        } else {
                struct moat_image_info info;
                if (moat_image_get(s, id, &info, &err) == 0) {
                        printf("Digest: %s\n", info.manifest_digest);
                        moat_image_info_clear(&info);
                }
                printf("Pulled %s\nImage ID: %s\n", argv[optind], id);
        }
        return 0;
}
