/* moat attach [--no-stdin] CONTAINER: the container's output (and our stdin, when it was started
 * with -i) through its monitor, until it exits; exits with its code. */
#include "container.h"

int cmd_attach(int argc, char **argv)
{
        static const struct option opts[] = {
                { "no-stdin", no_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' }, {},
        };
        bool no_stdin = false;
        int c;
        while ((c = cli_getopt(argc, argv, "", opts, NULL)) != -1) {
                if (c == 'n')
                        no_stdin = true;
                else
                        return c == 'h' ? cli_help("attach [--no-stdin] CONTAINER") : cli_usage("attach [--no-stdin] CONTAINER");
        }
        if (argc - optind != 1)
                return cli_args("attach [--no-stdin] CONTAINER", "requires 1 argument");
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        struct moat_container_info info;
        if (moat_engine_get(e, argv[optind], &info, &err) < 0)
                return cli_fail(&err);
        bool tty = json_is_true(json_object_get(info.config, "Tty"));
        bool in = !no_stdin && json_is_true(json_object_get(info.config, "OpenStdin"));
        moat_container_info_clear(&info);
        int fd;
        if (moat_engine_attach(e, argv[optind], &fd, &err) < 0)
                return cli_fail(&err);
        moat_engine_close(STEAL(e));
        int code = cli_attach_stdio(fd, in, tty);
        close(fd);
        return code < 0 ? 1 : code;
}
