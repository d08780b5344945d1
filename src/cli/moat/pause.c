/* moat pause|unpause CONTAINER...: freeze or thaw all processes of containers. */
#include "container.h"

static int each(int argc, char **argv, bool pause)
{
        const char *usage = pause ? "pause CONTAINER..." : "unpause CONTAINER...";
        int r0 = cli_no_options(&argc, argv, usage);
        if (r0 >= 0)
                return r0;
        if (argc < 2)
                return cli_args(usage, "requires at least 1 argument");
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
