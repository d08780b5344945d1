/* moat tag SOURCE TARGET */
#include "moat.h"

int cmd_tag(int argc, char **argv)
{
        int r0 = cli_no_options(&argc, argv, "tag SOURCE[:TAG] TARGET[:TAG]");
        if (r0 >= 0)
                return r0;
        if (argc != 3)
                return cli_args("tag SOURCE[:TAG] TARGET[:TAG]", "requires 2 arguments");
        _cleanup_store_ struct moat_image_store *s = NULL;
        if (cli_open_store(&s))
                return 1;
        struct moat_error err;
        if (moat_image_tag(s, argv[1], argv[2], &err) < 0)
                return cli_fail(&err);
        return 0;
}
