/* moat image mount IMAGE ID [TARGET] / moat image unmount ID : an overlay snapshot of an image
 * (what the engine does per container), exposed for debugging and tests. */
#include "moat.h"

int cmd_mount(int argc, char **argv)
{
        int r0 = cli_no_options(&argc, argv, "image mount IMAGE SNAPSHOT-ID [TARGET]");
        if (r0 >= 0)
                return r0;
        if (argc < 3 || argc > 4)
                return cli_args("image mount IMAGE SNAPSHOT-ID [TARGET]", "requires at least 2 and at most 3 arguments");
        _cleanup_store_ struct moat_image_store *s = NULL;
        if (cli_open_store(&s))
                return 1;
        struct moat_error err;
        _cleanup_free_ char *mp = NULL;
        if (moat_image_snapshot_mount(s, argv[1], argv[2], argc == 4 ? argv[3] : NULL, NULL, &mp, &err) < 0)
                return cli_fail(&err);
        printf("%s\n", mp);
        return 0;
}

int cmd_unmount(int argc, char **argv)
{
        int r0 = cli_no_options(&argc, argv, "image unmount SNAPSHOT-ID");
        if (r0 >= 0)
                return r0;
        if (argc != 2)
                return cli_args("image unmount SNAPSHOT-ID", "requires 1 argument");
        _cleanup_store_ struct moat_image_store *s = NULL;
        if (cli_open_store(&s))
                return 1;
        struct moat_error err;
        if (moat_image_snapshot_remove(s, argv[1], &err) < 0)
                return cli_fail(&err);
        return 0;
}
