/* moat wait CONTAINER...: block until each stops; print its exit code. */
#include "container.h"

int cmd_wait(int argc, char **argv)
{
        if (argc < 2 || streq(argv[1], "--help"))
                return argc < 2 ? cli_usage("wait CONTAINER...") : (printf("Usage: moat wait CONTAINER...\n"), 0);
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
