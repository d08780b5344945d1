/* moat-runtime features: the OCI features document. */
#include "cli.h"

int cmd_features(struct cli *c, int argc, char **argv)
{
        (void) c;
        (void) argv;
        if (argc > 1 && !streq(argv[1], "--help") && !streq(argv[1], "-h"))
                return cli_usage_error("features", "takes no arguments");
        if (argc > 1) {
                printf("usage: moat-runtime features\n");
                return 0;
        }
        json_t *f = moat_runtime_features();
        char *s = json_dumps(f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        json_decref(f);
        return 0;
}
