/* moat-runtime run [options] ID: create and start; in the foreground unless --detach, with the
 * container's exit status as ours. */
#include "create_run.h"

int cmd_run(struct cli *c, int argc, char **argv)
{
        struct moat_create_opts o = { 0 };
        _cleanup_free_ char *bundle = NULL;
        int r = cli_parse_create_opts("run", true, argc, argv, &o, &bundle);
        if (r != 0)
                return r < 0 ? 0 : r;
        /* joining a pid namespace by path makes us visible to its processes, as exec is: the
         * library re-executes sealed then (it knows after its one parse of the config) */
        o.reexec_argc = c->argc;
        o.reexec_argv = c->argv;
        struct moat_error err;
        moat_error_clear(&err);
        int status = 0;
        if (moat_runtime_run(&c->rt, &o, &status, &err) < 0)
                return cli_fail(&err);
        return status;
}
