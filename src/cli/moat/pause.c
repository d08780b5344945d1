/* moat pause|unpause CONTAINER...: freeze or thaw all processes of containers. */
#include "container.h"

static int each(int argc, char **argv, bool pause)
{
        if (argc < 2 || streq(argv[1], "--help"))
                return cli_usage(pause ? "pause CONTAINER..." : "unpause CONTAINER...");
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        int rc = 0;
        for (int i = 1; i < argc; i++) {
                struct moat_error err;
                int r = pause ? moat_engine_pause(e, argv[i], &err) : moat_engine_unpause(e, argv[i], &err);
                if (r < 0) {
                        fprintf(stderr, "moat: %s\n", err.msg);
                        rc = 1;
                } else
                        printf("%s\n", argv[i]);
        }
        return rc;
}

int cmd_pause(int argc, char **argv)
{
        return each(argc, argv, true);
}

int cmd_unpause(int argc, char **argv)
{
        return each(argc, argv, false);
}
