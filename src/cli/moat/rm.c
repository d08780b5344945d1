/* moat rm [-f] CONTAINER...: remove containers, their root filesystems, logs and state. */
#include "container.h"

static int rm_one(struct moat_engine *e, const char *name, const void *arg, struct moat_error *err)
{
        return moat_engine_remove(e, name, *(const bool *) arg, err);
}

int cmd_rm(int argc, char **argv)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' }, { "volumes", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' }, {},
        };
        bool force = false;
        int c;
        while ((c = getopt_long(argc, argv, "+fv", opts, NULL)) != -1) {
                if (c == 'f')
                        force = true;
                else if (c == 'v')
                        continue; /* no anonymous volumes exist yet: nothing to remove */
                else
                        return c == 'h' ? (printf("Usage: moat rm [-f] CONTAINER...\n"), 0)
                                        : cli_usage("rm [-f] CONTAINER...");
        }
        return cli_each_container(argc, argv, "rm [-f] CONTAINER...", rm_one, &force);
}
