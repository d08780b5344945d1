/* moat image prune [-a] : remove untagged (with -a: all unused) images and unreferenced content. */
#include "moat.h"

int cmd_prune(int argc, char **argv)
{
        static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { "force", no_argument, NULL, 'f' },
                                              { "help", no_argument, NULL, 'h' }, {} };
        bool all = false;
        int c;
        while ((c = cli_getopt(argc, argv, "afh", opts, NULL)) != -1) {
                if (c == 'a')
                        all = true;
                else if (c != 'f')
                        return c == 'h' ? cli_help("image prune [-a|--all] [-f|--force]")
                                        : cli_usage("image prune [-a|--all] [-f|--force]");
        }
        _cleanup_store_ struct moat_image_store *s = NULL;
        if (cli_open_store(&s))
                return 1;
        struct moat_error err;
        uint64_t freed = 0;
        size_t removed = 0;
        if (moat_image_prune(s, all, &freed, &removed, &err) < 0)
                return cli_fail(&err);
        _cleanup_free_ char *h = cli_human_size((int64_t) freed);
        printf("Deleted images: %zu\nTotal reclaimed space: %s\n", removed, h);
        return 0;
}
