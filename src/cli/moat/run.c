/* moat run [OPTIONS] IMAGE [COMMAND] [ARG...]: create, start under a monitor, and (without -d)
 * stay attached to the container's stdio through the monitor until it exits. */
#include "container.h"

static const char usage[] =
        "run [-d] [-i] [-t] [--rm] [--name NAME] [-e K=V] [--env-file F] [-w DIR] [-u USER[:GROUP]]\n"
        "          [--entrypoint CMD] [--read-only] [--tmpfs DEST[:OPTS]] [-v [SRC:]DEST[:ro]] [-m BYTES] [--cpus N]\n"
        "          [--mount type=bind|volume|tmpfs,...] [--volumes-from C[:ro|:rw]] [--device HOST[:CONT][:rwm]]\n"
        "          [--init] [--cpu-shares N] [--cpuset-cpus LIST] [--cpuset-mems LIST] [--memory-swap BYTES]\n"
        "          [--ulimit NAME=SOFT[:HARD]] [--pids-limit N] [--cap-add CAP] [--cap-drop CAP] [--security-opt OPT] [--privileged]\n"
        "          [--hostname H] [--network none|host] [--label K=V] [--restart POLICY] [--stop-signal SIG]\n"
        "          [--stop-timeout S] [--health-cmd CMD] [--health-interval D] [--health-timeout D]\n"
        "          [--health-retries N] [--health-start-period D] [--health-start-interval D] [--no-healthcheck]\n"
        "          IMAGE [COMMAND] [ARG...]";

int cmd_run(int argc, char **argv)
{
        struct cli_run r;
        _cleanup_engine_ struct moat_engine *e = NULL;
        _cleanup_free_ char *id = NULL;
        int rc = cli_create_container(argc, argv, true, usage, &r, &e, &id);
        if (rc >= 0)
                return rc;
        struct moat_error err;
        bool detach = r.detach, in = r.o.interactive, tty = r.o.tty, rm = r.o.auto_remove;
        cli_run_free(&r);
        int afd = -1;
        if (moat_engine_start(e, id, detach ? NULL : &afd, &err) < 0) {
                fprintf(stderr, "moat: %s\n", err.msg);
                /* --rm: gone when we return, as after a run that worked */
                struct moat_error e2;
                if (rm)
                        moat_engine_remove(e, id, true, &e2);
                /* the command could not be run: docker's 127 (not found) or 126 (not executable) */
                if (strstr(err.msg, "No such file") || strstr(err.msg, "not found"))
                        return 127;
                if (strstr(err.msg, "Permission denied"))
                        return 126;
                return 125;
        }
        if (detach) {
                printf("%s\n", id);
                return 0;
        }
        /* nothing of the engine may stay open while we wait: the container's end is recorded by
         * other processes */
        moat_engine_close(STEAL(e));
        int code = cli_attach_stdio(afd, in, tty);
        close(afd);
        if (code < 0) {
                fprintf(stderr, "moat: lost the connection to the container's monitor\n");
                return 125;
        }
        return code;
}
