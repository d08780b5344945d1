/* moat save [-o FILE] IMAGE... : a docker-archive (loads into docker). */
#include <fcntl.h>
#include <sys/stat.h>

#include "moat.h"

int cmd_save(int argc, char **argv)
{
        static const struct option opts[] = { { "output", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' }, {} };
        const char *output = NULL;
        int c;
        while ((c = cli_getopt(argc, argv, "o:h", opts, NULL)) != -1) {
                if (c == 'o')
                        output = optarg;
                else
                        return c == 'h' ? cli_help("save [-o|--output FILE] IMAGE...")
                                        : cli_usage("save [-o|--output FILE] IMAGE...");
        }
        if (optind >= argc)
                return cli_args("save [-o|--output FILE] IMAGE...", "requires at least 1 argument");
        if (!output && isatty(STDOUT_FILENO)) {
                fprintf(stderr, "moat: refusing to write an archive to a terminal; use -o FILE\n");
                return 1;
        }
        _cleanup_store_ struct moat_image_store *s = NULL;
        if (cli_open_store(&s))
                return 1;
        _cleanup_free_ char *tmp = output ? xasprintf("%s.tmp-XXXXXX", output) : NULL;
        _cleanup_close_ int fd = output ? mkostemp(tmp, O_CLOEXEC) : dup(STDOUT_FILENO);
        if (fd < 0) {
                fprintf(stderr, "moat: create %s: %s\n", output, strerror(errno));
                return 1;
        }
        struct moat_error err;
        if (moat_image_save(s, argv + optind, (size_t) (argc - optind), fd, &err) < 0) {
                if (tmp)
                        unlink(tmp);
                return cli_fail(&err);
        }
        if (tmp && (fchmod(fd, 0644) < 0 || rename(tmp, output) < 0)) {
                fprintf(stderr, "moat: write %s: %s\n", output, strerror(errno));
                unlink(tmp);
                return 1;
        }
        return 0;
}
