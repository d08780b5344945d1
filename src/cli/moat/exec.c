/* moat exec [-i] [-t] [-d] [-u USER] [-e K=V] [-w DIR] CONTAINER COMMAND [ARG...] */
#include <fcntl.h>

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
        bool interactive = false;
        _cleanup_strv_ char **env = NULL;
        size_t n_env = 0;
        int c;
        /* "+": the flags end at CONTAINER, what follows is the command's (docker's SetInterspersed(false)) */
        while ((c = getopt_long(argc, argv, "+itdu:e:w:", opts, NULL)) != -1) {
                switch (c) {
                case 'i': interactive = true; break;
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
                case 'h': return cli_help(usage);
                default: return cli_usage(usage);
                }
        }
        if (argc - optind < 2)
                return cli_args(usage, "requires at least 2 arguments");
        o.env = env;
        o.args = argv + optind + 1;
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        int code = 0;
        /* an unknown or stopped container is docker's 1; 126/127 are for a command that cannot run */
        struct moat_container_info info;
        if (moat_engine_get(e, argv[optind], &info, &err) < 0)
                return cli_fail(&err);
        bool running = streq(info.state, "running");
        moat_container_info_clear(&info);
        if (!running) {
                fprintf(stderr, "moat: container %s is not running\n", argv[optind]);
                return 1;
        }
        if (!interactive) {
                /* no input for the process, as docker's exec without -i */
                int dn = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (dn >= 0) {
                        dup2(dn, 0);
                        close(dn);
                }
        }
        if (moat_engine_exec(e, argv[optind], &o, &code, &err) < 0) {
                fprintf(stderr, "moat: %s\n", err.msg);
                return strstr(err.msg, "not found") || strstr(err.msg, "No such file") ? 127 : 126;
        }
        return code;
}
