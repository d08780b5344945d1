/* moat-runtime start ID: let a created container exec its process. */
#include "cli.h"

int cmd_start(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
                if (o == 'h') {
                        printf("usage: moat-runtime start ID\n");
                        return 0;
                }
                return cli_usage_error("start", "unknown option \"%s\"", argv[optind - 1]);
        }
        const char *id;
        if (cli_one_id(argc, argv, "start", &id))
                return 1;
        struct moat_error err;
        moat_error_clear(&err);
        if (moat_runtime_start(&c->rt, id, &err) < 0)
                return cli_fail(&err);
        return 0;
}
