/* moat rmi [-f] IMAGE... */
#include "moat.h"

int cmd_rmi(int argc, char **argv)
{
        static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' }, {} };
        bool force = false;
        int c;
        while ((c = cli_getopt(argc, argv, "fh", opts, NULL)) != -1) {
                if (c == 'f')
                        force = true;
                else
                        return c == 'h' ? cli_help("rmi [-f|--force] IMAGE...") : cli_usage("rmi [-f|--force] IMAGE...");
        }
        if (optind >= argc)
                return cli_args("rmi [-f|--force] IMAGE...", "requires at least 1 argument");
        _cleanup_store_ struct moat_image_store *s = NULL;
        if (cli_open_store(&s))
                return 1;
        int rc = 0;
        for (int i = optind; i < argc; i++) {
                struct moat_error err;
                if (moat_image_remove(s, argv[i], force, &err) < 0)
                        rc = cli_fail(&err);
                else
                        printf("Untagged: %s\n", argv[i]);
        }
        return rc;
}
