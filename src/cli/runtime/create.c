/* moat-runtime create [options] ID: set the container up and leave it waiting for start. */
#include "create_run.h"

#include <limits.h>

int cli_parse_create_opts(const char *cmd, bool run, int argc, char **argv, struct moat_create_opts *o,
                          char **bundle_buf)
{
        enum { O_PIDFILE = 256, O_CONSOLE, O_PRESERVE, O_NOPIVOT, O_NOKEYRING, O_KEEP, O_NOSUBREAPER };
        static const struct option opts[] = {
                { "bundle", required_argument, NULL, 'b' },
                { "pid-file", required_argument, NULL, O_PIDFILE },
                { "console-socket", required_argument, NULL, O_CONSOLE },
                { "preserve-fds", required_argument, NULL, O_PRESERVE },
                { "no-pivot", no_argument, NULL, O_NOPIVOT },
                { "no-new-keyring", no_argument, NULL, O_NOKEYRING },
                { "detach", no_argument, NULL, 'd' },
                { "keep", no_argument, NULL, O_KEEP },
                { "no-subreaper", no_argument, NULL, O_NOSUBREAPER },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        const char *bundle = ".";
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, run ? "+b:dh" : "+b:h", opts, NULL)) != -1) {
                switch (c) {
                case 'b': bundle = optarg; break;
                case O_PIDFILE: o->pid_file = optarg; break;
                case O_CONSOLE: o->console_socket = optarg; break;
                case O_PRESERVE: {
                        long long n;
                        if (moat_parse_int64(optarg, &n) < 0 || n < 0 || n > 1024)
                                return cli_usage_error(cmd, "--preserve-fds: \"%s\" is not a number of fds", optarg);
                        o->preserve_fds = (int) n;
                        break;
                }
                case O_NOPIVOT: o->no_pivot = true; break;
                case O_NOKEYRING: o->no_new_keyring = true; break;
                case O_NOSUBREAPER: break; /* we never become a subreaper; the flag asks for that */
                case 'd':
                        if (!run)
                                return cli_usage_error(cmd, "unknown option \"-d\"");
                        o->detach = true;
                        break;
                case O_KEEP:
                        if (!run)
                                return cli_usage_error(cmd, "unknown option \"--keep\"");
                        o->keep = true;
                        break;
                case 'h':
                        printf("usage: moat-runtime %s [--bundle DIR] [--pid-file FILE] [--console-socket SOCK]\n"
                               "       [--preserve-fds N] [--no-new-keyring]%s ID\n",
                               cmd, run ? " [--detach] [--keep]" : "");
                        return -1;
                default: return cli_usage_error(cmd, "unknown option \"%s\"", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return cli_usage_error(cmd, "requires exactly 1 argument: the container id");
        if (argc - optind > 1)
                return cli_usage_error(cmd, "requires exactly 1 argument, got %d", argc - optind);
        o->id = argv[optind];
        char *abs = realpath(bundle, NULL);
        if (!abs) {
                fprintf(stderr, "moat-runtime %s: bundle %s: %s\n", cmd, bundle, strerror(errno));
                return 1;
        }
        *bundle_buf = abs;
        o->bundle = abs;
        if (o->pid_file && o->pid_file[0] != '/') {
                /* relative pid files are relative to where we were started */
                char cwd[PATH_MAX];
                if (getcwd(cwd, sizeof cwd))
                        o->pid_file = xasprintf("%s/%s", cwd, o->pid_file);
        }
        return 0;
}

int cmd_create(struct cli *c, int argc, char **argv)
{
        struct moat_create_opts o = { 0 };
        _cleanup_free_ char *bundle = NULL;
        int r = cli_parse_create_opts("create", false, argc, argv, &o, &bundle);
        if (r != 0)
                return r < 0 ? 0 : r;
        /* joining a pid namespace by path makes us visible to its processes, as exec is: the
         * library re-executes sealed then (it knows after its one parse of the config) */
        o.reexec_argc = c->argc;
        o.reexec_argv = c->argv;
        struct moat_error err;
        moat_error_clear(&err);
        if (moat_runtime_create(&c->rt, &o, &err) < 0)
                return cli_fail(&err);
        return 0;
}
