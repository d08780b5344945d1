/* moat load [-i FILE|DIR] : docker-archive or OCI layout tarball from FILE or stdin, or an OCI
 * image layout directory. */
#include <fcntl.h>

#include "moat.h"

int cmd_load(int argc, char **argv)
{
        static const struct option opts[] = { { "input", required_argument, NULL, 'i' }, { "quiet", no_argument, NULL, 'q' },
                                              { "help", no_argument, NULL, 'h' }, {} };
        const char *input = NULL;
        bool quiet = false;
        int c;
        while ((c = cli_getopt(argc, argv, "i:qh", opts, NULL)) != -1) {
                if (c == 'i')
                        input = optarg;
                else if (c == 'q')
                        quiet = true;
                else
                        return c == 'h' ? cli_help("load [-i|--input FILE|OCI-LAYOUT-DIR] [-q]")
                                        : cli_usage("load [-i|--input FILE|OCI-LAYOUT-DIR] [-q]");
        }
        _cleanup_store_ struct moat_image_store *s = NULL;
        if (cli_open_store(&s))
                return 1;
        _cleanup_close_ int fd = input ? open(input, O_RDONLY | O_CLOEXEC) : dup(STDIN_FILENO);
        if (fd < 0) {
                fprintf(stderr, "moat: open %s: %s\n", input, strerror(errno));
                return 1;
        }
        struct moat_error err;
        _cleanup_strv_ char **names = NULL;
        if (moat_image_load(s, fd, &names, &err) < 0)
                return cli_fail(&err);
        for (char **p = names; !quiet && p && *p; p++)
                printf("Loaded image: %s\n", *p);
        return 0;
}
