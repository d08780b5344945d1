/* moat image inspect IMAGE... : a JSON array of docker-style image documents. */
#include "moat.h"

int cmd_inspect(int argc, char **argv)
{
        int r0 = cli_no_options(&argc, argv, "image inspect IMAGE...");
        if (r0 >= 0)
                return r0;
        if (argc < 2)
                return cli_args("image inspect IMAGE...", "requires at least 1 argument");
        _cleanup_store_ struct moat_image_store *s = NULL;
        if (cli_open_store(&s))
                return 1;
        int rc = 0;
        printf("[");
        for (int i = 1; i < argc; i++) {
                struct moat_error err;
                _cleanup_free_ char *json = NULL;
                if (moat_image_inspect(s, argv[i], &json, &err) < 0) {
                        cli_fail(&err);
                        rc = 1;
                        continue;
                }
                printf("%s%s", i > 1 && !rc ? ",\n" : "\n", json);
        }
        printf("\n]\n");
        return rc;
}
