/* moat-runtime spec [--bundle DIR] [--rootless]: write Moat's default config.json. */
#include "cli.h"

#include <fcntl.h>

int cmd_spec(struct cli *c, int argc, char **argv)
{
        (void) c;
        enum { O_ROOTLESS = 256 };
        static const struct option opts[] = {
                { "bundle", required_argument, NULL, 'b' },
                { "rootless", no_argument, NULL, O_ROOTLESS },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        const char *bundle = ".";
        bool rootless = false;
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+b:h", opts, NULL)) != -1) {
                if (o == 'b')
                        bundle = optarg;
                else if (o == O_ROOTLESS)
                        rootless = true;
                else if (o == 'h') {
                        printf("usage: moat-runtime spec [--bundle DIR] [--rootless]\n");
                        return 0;
                } else
                        return cli_usage_error("spec", "unknown option \"%s\"", argv[optind - 1]);
        }
        if (optind < argc)
                return cli_usage_error("spec", "takes no arguments");
        json_t *doc = moat_spec_default(rootless);
        char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(doc);
        _cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
        struct moat_error err;
        moat_error_clear(&err);
        int r = moat_write_file_at(AT_FDCWD, path, s, strlen(s), O_CREAT | O_EXCL, 0644, &err);
        if (r == 0)
                r = moat_write_file_at(AT_FDCWD, path, "\n", 1, O_APPEND, 0644, &err);
        free(s);
        if (r == -EEXIST) {
                fprintf(stderr, "moat-runtime spec: File %s exists. Remove it first\n", path);
                return 1;
        }
        if (r < 0)
                return cli_fail(&err);
        return 0;
}
