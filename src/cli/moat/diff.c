/* moat diff CONTAINER: docker's "A|C|D /path" lines, the container's filesystem against its image. */
#include "container.h"

int cmd_diff(int argc, char **argv)
{
        static const char usage[] = "diff CONTAINER";
        static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, {} };
        int c;
        while ((c = cli_getopt(argc, argv, "h", opts, NULL)) != -1)
                return c == 'h' ? (printf("Usage: moat %s\n\nInspect changes to files or directories on a container's "
                                          "filesystem\n", usage), 0)
                                : cli_usage(usage);
        if (argc - optind != 1)
                return cli_args(usage, "requires 1 argument");
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        struct moat_change *v;
        size_t n;
        if (moat_engine_diff(e, argv[optind], &v, &n, &err) < 0)
                return cli_fail(&err);
        static const char kind[] = { [MOAT_CHANGE_MODIFIED] = 'C', [MOAT_CHANGE_ADDED] = 'A',
                                     [MOAT_CHANGE_DELETED] = 'D' };
        for (size_t i = 0; i < n; i++)
                printf("%c %s\n", kind[v[i].kind], v[i].path);
        moat_change_free(v, n);
        return 0;
}
