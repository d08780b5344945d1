/* moat cp CONTAINER:SRC DEST | moat cp SRC CONTAINER:DEST */
#include "container.h"

int cmd_cp(int argc, char **argv)
{
        static const char usage[] = "cp CONTAINER:SRC_PATH DEST_PATH | cp SRC_PATH CONTAINER:DEST_PATH";
        int r0 = cli_no_options(&argc, argv, usage);
        if (r0 >= 0)
                return r0;
        if (argc != 3)
                return cli_args(usage, "requires 2 arguments");
        char *a = strchr(argv[1], ':'), *b = strchr(argv[2], ':');
        /* a path with a ':' must start with / or . to be taken as local (as docker does) */
        if (argv[1][0] == '/' || argv[1][0] == '.')
                a = NULL;
        if (argv[2][0] == '/' || argv[2][0] == '.')
                b = NULL;
        if ((a != NULL) == (b != NULL)) {
                fprintf(stderr, "moat: %s\n", a ? "copying between containers is not supported"
                                                 : "must specify at least one container source");
                return 1;
        }
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        _cleanup_free_ char *name = xstrndup(a ? argv[1] : argv[2], (size_t) ((a ? a : b) - (a ? argv[1] : argv[2])));
        const char *cpath = (a ? a : b) + 1;
        int r = a ? moat_engine_cp(e, name, cpath, argv[2], false, &err)
                  : moat_engine_cp(e, name, argv[1], cpath, true, &err);
        if (r < 0)
                return cli_fail(&err);
        return 0;
}
