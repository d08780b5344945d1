/* moat-runtime ps [--format table|json] ID [PS_ARGS...]: the processes in a container's cgroup. */
#include "cli.h"

#include <sys/wait.h>

int cmd_ps(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' }, { 0 },
        };
        bool json = false;
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
                if (o == 'f') {
                        if (streq(optarg, "json"))
                                json = true;
                        else if (!streq(optarg, "table"))
                                return cli_usage_error("ps", "--format: \"%s\" is not table or json", optarg);
                } else if (o == 'h') {
                        printf("usage: moat-runtime ps [--format table|json] ID [PS_OPTIONS...]\n");
                        return 0;
                } else
                        return cli_usage_error("ps", "unknown option \"%s\"", argv[optind - 1]);
        }
        if (optind >= argc)
                return cli_usage_error("ps", "requires the container id");
        const char *id = argv[optind];
        struct moat_error err;
        moat_error_clear(&err);
        pid_t *pids = NULL;
        size_t n = 0;
        if (moat_runtime_ps(&c->rt, id, &pids, &n, &err) < 0)
                return cli_fail(&err);
        if (json) {
                if (argc - optind > 1) {
                        free(pids);
                        return cli_usage_error("ps", "ps options cannot be used with --format json");
                }
                printf("[");
                for (size_t i = 0; i < n; i++)
                        printf("%s%d", i ? "," : "", (int) pids[i]);
                printf("]\n");
                free(pids);
                return 0;
        }
        /* table: the host's ps, filtered to the container's pids (as runc does) */
        _cleanup_free_ char *list = xstrdup("");
        for (size_t i = 0; i < n; i++) {
                char *next = xasprintf("%s%s%d", list, i ? "," : "", (int) pids[i]);
                free(list);
                list = next;
        }
        free(pids);
        if (n == 0)
                return 0;
        char **args = XNEW(char *, (size_t) (argc - optind) + 4);
        size_t k = 0;
        args[k++] = "ps";
        for (int i = optind + 1; i < argc; i++)
                args[k++] = argv[i];
        if (k == 1)
                args[k++] = "-f";
        args[k++] = "-p";
        args[k++] = list;
        args[k] = NULL;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
                execvp("ps", args);
                _exit(127);
        }
        free(args);
        int st = 0;
        waitpid(pid, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
