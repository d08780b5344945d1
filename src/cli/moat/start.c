/* moat start [-a] CONTAINER...: start created or stopped containers (-a: attach to one). */
#include "container.h"

int cmd_start(int argc, char **argv)
{
        static const struct option opts[] = {
                { "attach", no_argument, NULL, 'a' }, { "interactive", no_argument, NULL, 'i' },
                { "help", no_argument, NULL, 'h' }, {},
        };
        bool attach = false, in = false;
        int c;
        while ((c = getopt_long(argc, argv, "+ai", opts, NULL)) != -1) {
                if (c == 'a')
                        attach = true;
                else if (c == 'i')
                        in = true;
                else
                        return c == 'h' ? cli_help("start [-a] [-i] CONTAINER...") : cli_usage("start [-a] [-i] CONTAINER...");
        }
        if (optind >= argc)
                return cli_args("start [-a] [-i] CONTAINER...", "requires at least 1 argument");
        if (attach && argc - optind != 1) {
                fprintf(stderr, "moat: you cannot start and attach multiple containers at once\n");
                return 1;
        }
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        int rc = 0;
        for (int i = optind; i < argc; i++) {
                struct moat_error err;
                int afd = -1;
                if (moat_engine_start(e, argv[i], attach ? &afd : NULL, &err) < 0) {
                        fprintf(stderr, "moat: %s\n", err.msg);
                        rc = 1;
                        continue;
                }
                if (!attach) {
                        printf("%s\n", argv[i]);
                        continue;
                }
                struct moat_container_info info;
                bool tty = false;
                if (moat_engine_get(e, argv[i], &info, &err) == 0) {
                        tty = json_is_true(json_object_get(info.config, "Tty"));
                        moat_container_info_clear(&info);
                }
                moat_engine_close(STEAL(e));
                int code = moat_engine_attach_stream(afd, in, tty);
                close(afd);
                return code < 0 ? 1 : code;
        }
        return rc;
}
