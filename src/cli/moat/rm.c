/* moat rm [-f] CONTAINER...: remove containers, their root filesystems, logs and state. */
#include "container.h"

int cmd_rm(int argc, char **argv)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' }, { "volumes", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' }, {},
        };
        bool force = false;
        int c;
        while ((c = getopt_long(argc, argv, "+fv", opts, NULL)) != -1) {
                if (c == 'f')
                        force = true;
                else if (c == 'v')
                        continue; /* no anonymous volumes exist yet: nothing to remove */
                else
                        return c == 'h' ? (printf("Usage: moat rm [-f] CONTAINER...\n"), 0)
                                        : cli_usage("rm [-f] CONTAINER...");
        }
        if (optind >= argc)
                return cli_usage("rm [-f] CONTAINER...");
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        int rc = 0;
        for (int i = optind; i < argc; i++) {
                struct moat_error err;
                if (moat_engine_remove(e, argv[i], force, &err) < 0) {
                        fprintf(stderr, "moat: %s\n", err.msg);
                        rc = 1;
                } else
                        printf("%s\n", argv[i]);
        }
        return rc;
}
