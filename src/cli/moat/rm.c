/* moat rm [-f] [-v] CONTAINER...: remove containers, their root filesystems, logs and state (and,
 * with -v, the anonymous volumes they made). */
#include "container.h"

struct rm_args {
        bool force, volumes;
};

static int rm_one(struct moat_engine *e, const char *name, const void *arg, struct moat_error *err)
{
        const struct rm_args *a = arg;
        return a->volumes ? moat_engine_remove_with_volumes(e, name, a->force, err)
                          : moat_engine_remove(e, name, a->force, err);
}

int cmd_rm(int argc, char **argv)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' }, { "volumes", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' }, {},
        };
        struct rm_args a = { 0 };
        int c;
        while ((c = cli_getopt(argc, argv, "fv", opts, NULL)) != -1) {
                if (c == 'f')
                        a.force = true;
                else if (c == 'v')
                        a.volumes = true; /* its anonymous volumes too; named ones stay */
                else
                        return c == 'h' ? cli_help("rm [-f] [-v] CONTAINER...") : cli_usage("rm [-f] [-v] CONTAINER...");
        }
        return cli_each_container(argc, argv, "rm [-f] [-v] CONTAINER...", rm_one, &a);
}
