/* moat-runtime exec [options] ID [COMMAND [ARGS...]]: run a process in a running container. */
#include "cli.h"

int cmd_exec(struct cli *c, int argc, char **argv)
{
        enum { O_PIDFILE = 256, O_CONSOLE, O_PRESERVE, O_NNP, O_PROC_LABEL, O_APPARMOR, O_IGNORE_PAUSED, O_CGROUP };
        static const struct option opts[] = {
                { "process", required_argument, NULL, 'p' },
                { "env", required_argument, NULL, 'e' },
                { "cwd", required_argument, NULL, 'w' },
                { "user", required_argument, NULL, 'u' },
                { "additional-gids", required_argument, NULL, 'g' },
                { "cap", required_argument, NULL, 'c' },
                { "tty", no_argument, NULL, 't' },
                { "detach", no_argument, NULL, 'd' },
                { "pid-file", required_argument, NULL, O_PIDFILE },
                { "console-socket", required_argument, NULL, O_CONSOLE },
                { "preserve-fds", required_argument, NULL, O_PRESERVE },
                { "no-new-privs", no_argument, NULL, O_NNP },
                { "process-label", required_argument, NULL, O_PROC_LABEL },
                { "apparmor", required_argument, NULL, O_APPARMOR },
                { "ignore-paused", no_argument, NULL, O_IGNORE_PAUSED },
                { "cgroup", required_argument, NULL, O_CGROUP },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        struct moat_exec_opts o = { .tty = -1 };
        const char *process_file = NULL;
        _cleanup_free_ char **env = NULL, **caps = NULL;
        size_t ne = 0, nc = 0;
        int opt;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, "+p:e:w:u:g:c:tdh", opts, NULL)) != -1) {
                switch (opt) {
                case 'p': process_file = optarg; break;
                case 'e':
                        env = xrealloc(env, (ne + 2) * sizeof *env);
                        env[ne++] = optarg;
                        env[ne] = NULL;
                        break;
                case 'w': o.cwd = optarg; break;
                case 'u': o.user = optarg; break;
                case 'c':
                        caps = xrealloc(caps, (nc + 2) * sizeof *caps);
                        caps[nc++] = optarg;
                        caps[nc] = NULL;
                        break;
                case 't': o.tty = 1; break;
                case 'd': o.detach = true; break;
                case O_PIDFILE: o.pid_file = optarg; break;
                case O_CONSOLE: o.console_socket = optarg; break;
                case O_PRESERVE: {
                        long long n;
                        if (moat_parse_int64(optarg, &n) < 0 || n < 0 || n > 1024)
                                return cli_usage_error("exec", "--preserve-fds: \"%s\" is not a number of fds", optarg);
                        o.preserve_fds = (int) n;
                        break;
                }
                case O_NNP:
                        o.no_new_privs_set = true;
                        o.no_new_privs = true;
                        break;
                case 'g':
                        return cli_usage_error("exec", "--additional-gids: not supported yet; use --process");
                case O_PROC_LABEL:
                        return cli_usage_error("exec", "--process-label: SELinux is not enabled on this host");
                case O_APPARMOR:
                        return cli_usage_error("exec", "--apparmor: AppArmor is not enabled on this host");
                case O_IGNORE_PAUSED:
                        return cli_usage_error("exec", "--ignore-paused: not supported");
                case O_CGROUP:
                        return cli_usage_error("exec", "--cgroup: sub-cgroups are not supported");
                case 'h':
                        printf("usage: moat-runtime exec [--process FILE] [-e NAME=VALUE] [--cwd DIR] [--user UID[:GID]]\n"
                               "       [--cap CAP] [--tty] [--detach] [--pid-file FILE] [--console-socket SOCK]\n"
                               "       [--preserve-fds N] [--no-new-privs] ID [COMMAND [ARGS...]]\n");
                        return 0;
                default: return cli_usage_error("exec", "unknown option \"%s\"", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return cli_usage_error("exec", "requires the container id");
        o.id = argv[optind];
        o.args = argv + optind + 1;
        o.env = env;
        o.add_caps = caps;
        struct moat_error err;
        moat_error_clear(&err);
        json_t *proc = NULL;
        if (process_file) {
                if (argc - optind > 1)
                        return cli_usage_error("exec", "--process and a command cannot be combined");
                if (cli_read_json(process_file, &proc, &err) < 0)
                        return cli_fail(&err);
                o.process = proc;
        }
        int status = 0;
        int r = moat_runtime_exec(&c->rt, &o, &status, &err);
        json_decref(proc);
        if (r < 0)
                return cli_fail(&err);
        return status;
}
