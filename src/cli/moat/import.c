/* moat import FILE|- [REFERENCE] : a rootfs tarball as a one-layer image. */
#include <fcntl.h>

#include "moat.h"

int cmd_import(int argc, char **argv)
{
        int r0 = cli_no_options(&argc, argv, "import FILE|- [REPOSITORY[:TAG]]");
        if (r0 >= 0)
                return r0;
        if (argc < 2 || argc > 3)
                return cli_args("import FILE|- [REPOSITORY[:TAG]]", "requires at least 1 and at most 2 arguments");
        _cleanup_store_ struct moat_image_store *s = NULL;
        if (cli_open_store(&s))
                return 1;
        _cleanup_close_ int fd = streq(argv[1], "-") ? dup(STDIN_FILENO) : open(argv[1], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "moat: open %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        struct moat_error err;
        char id[MOAT_DIGEST_LEN + 1];
        if (moat_image_import(s, fd, argc == 3 ? argv[2] : NULL, id, &err) < 0)
                return cli_fail(&err);
        printf("%s\n", id);
        return 0;
}
