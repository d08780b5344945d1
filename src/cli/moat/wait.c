/* moat wait CONTAINER...: block until each stops; print its exit code. */
#include "container.h"

int cmd_wait(int argc, char **argv)
{
        int r0 = cli_no_options(&argc, argv, "wait CONTAINER...");
        if (r0 >= 0)
                return r0;
        if (argc < 2)
                return cli_args("wait CONTAINER...", "requires at least 1 argument");
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        int rc = 0;
        for (int i = 1; i < argc; i++) {
                struct moat_error err;
                int code;
                if (moat_engine_wait(e, argv[i], &code, &err) < 0) {
                        fprintf(stderr, "moat: %s\n", err.msg);
                        rc = 1;
                } else
                        printf("%d\n", code);
        }
        return rc;
}
