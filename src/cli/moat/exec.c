/* moat exec [-i] [-t] [-d] [-u USER] [-e K=V] [-w DIR] CONTAINER COMMAND [ARG...] */
#include "container.h"

int cmd_exec(int argc, char **argv)
{
        static const struct option opts[] = {
                { "interactive", no_argument, NULL, 'i' }, { "tty", no_argument, NULL, 't' },
                { "detach", no_argument, NULL, 'd' }, { "user", required_argument, NULL, 'u' },
                { "env", required_argument, NULL, 'e' }, { "workdir", required_argument, NULL, 'w' },
                { "privileged", no_argument, NULL, 'P' }, { "help", no_argument, NULL, 'h' }, {},
        };
        static const char usage[] = "exec [-i] [-t] [-d] [-u USER[:GROUP]] [-e K=V] [-w DIR] CONTAINER COMMAND [ARG...]";
        struct moat_engine_exec_opts o = { 0 };
        _cleanup_strv_ char **env = NULL;
        size_t n_env = 0;
        int c;
        while ((c = getopt_long(argc, argv, "+itdu:e:w:", opts, NULL)) != -1) {
                switch (c) {
                case 'i': o.interactive = true; break;
                case 't': o.tty = true; break;
                case 'd': o.detach = true; break;
                case 'u': o.user = optarg; break;
                case 'w': o.workdir = optarg; break;
                case 'e':
                        env = xrealloc(env, sizeof(char *) * (n_env + 2));
                        env[n_env++] = xstrdup(optarg);
                        env[n_env] = NULL;
                        break;
                case 'P':
                        fprintf(stderr, "moat: exec --privileged is not supported\n");
                        return 125;
                case 'h': return printf("Usage: moat %s\n", usage), 0;
                default: cli_usage(usage); return 125;
                }
        }
        if (argc - optind < 2) {
                cli_usage(usage);
                return 125;
        }
        o.env = env;
        o.args = argv + optind + 1;
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 125;
        struct moat_error err;
        int code = 0;
        if (moat_engine_exec(e, argv[optind], &o, &code, &err) < 0) {
                fprintf(stderr, "moat: %s\n", err.msg);
                return strstr(err.msg, "not found") || strstr(err.msg, "No such file") ? 127 : 126;
        }
        return code;
}
