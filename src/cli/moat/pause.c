/* moat pause|unpause CONTAINER...: freeze or thaw all processes of containers. */
#include "container.h"

static int pause_one(struct moat_engine *e, const char *name, const void *arg, struct moat_error *err)
{
        (void) arg;
        return moat_engine_pause(e, name, err);
}

static int unpause_one(struct moat_engine *e, const char *name, const void *arg, struct moat_error *err)
{
        (void) arg;
        return moat_engine_unpause(e, name, err);
}

static int each(int argc, char **argv, const char *usage, cli_container_op op)
{
        int r0 = cli_no_options(&argc, argv, usage);
        return r0 >= 0 ? r0 : cli_each_container(argc, argv, usage, op, NULL);
}

int cmd_pause(int argc, char **argv)
{
        return each(argc, argv, "pause CONTAINER...", pause_one);
}

int cmd_unpause(int argc, char **argv)
{
        return each(argc, argv, "unpause CONTAINER...", unpause_one);
}
