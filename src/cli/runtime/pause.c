/* moat-runtime pause ID / resume ID: freeze and thaw every process of a container. */
#include "cli.h"

static int freeze_cmd(struct cli *c, int argc, char **argv, const char *cmd, bool pause)
{
        static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
                if (o == 'h') {
                        printf("usage: moat-runtime %s ID\n", cmd);
                        return 0;
                }
                return cli_usage_error(cmd, "unknown option \"%s\"", argv[optind - 1]);
        }
        const char *id;
        if (cli_one_id(argc, argv, cmd, &id))
                return 1;
        struct moat_error err;
        moat_error_clear(&err);
        if ((pause ? moat_runtime_pause(&c->rt, id, &err) : moat_runtime_resume(&c->rt, id, &err)) < 0)
                return cli_fail(&err);
        return 0;
}

int cmd_pause(struct cli *c, int argc, char **argv)
{
        return freeze_cmd(c, argc, argv, "pause", true);
}

int cmd_resume(struct cli *c, int argc, char **argv)
{
        return freeze_cmd(c, argc, argv, "resume", false);
}
