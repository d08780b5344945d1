/* moat-runtime delete [--force] ID: remove a stopped (or, forced, any) container. */
#include "cli.h"

int cmd_delete(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' }, { 0 },
        };
        bool force = false;
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
                if (o == 'f')
                        force = true;
                else if (o == 'h') {
                        printf("usage: moat-runtime delete [--force] ID\n");
                        return 0;
                } else
                        return cli_usage_error("delete", "unknown option \"%s\"", argv[optind - 1]);
        }
        const char *id;
        if (cli_one_id(argc, argv, "delete", &id))
                return 1;
        struct moat_error err;
        moat_error_clear(&err);
        if (moat_runtime_delete(&c->rt, id, force, &err) < 0) {
                /* runc: deleting a container that does not exist with --force succeeds */
                if (force && err.code == ENOENT)
                        return 0;
                return cli_fail(&err);
        }
        return 0;
}
