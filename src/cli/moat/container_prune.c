/* moat container prune [-f]: remove every stopped container (exited, created, dead). */
#include "container.h"

int cmd_container(int argc, char **argv)
{
        if (argc >= 2 && streq(argv[1], "prune")) {
                /* -f is accepted (Moat does not prompt); --help must not prune */
                for (int i = 2; i < argc; i++) {
                        if (streq(argv[i], "--help") || streq(argv[i], "-h"))
                                return cli_help("container prune [-f|--force]");
                        if (!streq(argv[i], "-f") && !streq(argv[i], "--force")) {
                                fprintf(stderr, "moat: unknown flag: %s\n", argv[i]);
                                return cli_usage("container prune [-f|--force]");
                        }
                }
                _cleanup_engine_ struct moat_engine *e = NULL;
                if (cli_open_engine(&e))
                        return 1;
                struct moat_error err;
                _cleanup_strv_ char **removed = NULL;
                uint64_t freed;
                if (moat_engine_container_prune(e, &removed, &freed, &err) < 0)
                        return cli_fail(&err);
                printf("Deleted Containers:\n");
                for (size_t i = 0; removed[i]; i++)
                        printf("%s\n", removed[i]);
                _cleanup_free_ char *h = cli_human_size((int64_t) freed);
                printf("\nTotal reclaimed space: %s\n", h);
                return 0;
        }
        /* docker's "container VERB" spellings of the top-level verbs */
        static const struct { const char *name; int (*fn)(int, char **); } sub[] = {
                { "run", cmd_run }, { "create", cmd_create }, { "start", cmd_start }, { "stop", cmd_stop },
                { "restart", cmd_restart }, { "kill", cmd_kill }, { "rm", cmd_rm }, { "ls", cmd_ps },
                { "ps", cmd_ps }, { "logs", cmd_logs }, { "exec", cmd_exec }, { "wait", cmd_wait },
                { "inspect", cmd_inspect_any }, { "pause", cmd_pause }, { "unpause", cmd_unpause },
                { "rename", cmd_rename }, { "top", cmd_top }, { "stats", cmd_stats }, { "attach", cmd_attach },
                { "update", cmd_update },
        };
        for (size_t i = 0; argc >= 2 && i < ARRAY_SIZE(sub); i++)
                if (streq(argv[1], sub[i].name)) {
                        optind = 0;
                        return sub[i].fn(argc - 1, argv + 1);
                }
        static const char usage[] = "container prune | container VERB ... (run, ls, rm, logs, ...)";
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                fprintf(argc < 2 ? stderr : stdout, "Usage: moat %s\n", usage);
                return 0; /* docker shows a command group's help, without a subcommand too */
        }
        fprintf(stderr, "moat: unknown command: moat container %s\n\nSee 'moat container --help'.\n", argv[1]);
        return 1;
}
