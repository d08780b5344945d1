/* moat login [-u USER] [-p PASS | --password-stdin] SERVER */
#include "moat.h"

int cmd_login(int argc, char **argv)
{
        static const struct option opts[] = {
                { "username", required_argument, NULL, 'u' }, { "password", required_argument, NULL, 'p' },
                { "password-stdin", no_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' }, {},
        };
        static const char usage[] = "login -u USER (-p PASSWORD | --password-stdin) SERVER";
        const char *user = NULL, *pass = NULL;
        bool from_stdin = false;
        int c;
        while ((c = cli_getopt(argc, argv, "u:p:h", opts, NULL)) != -1) {
                if (c == 'u')
                        user = optarg;
                else if (c == 'p')
                        pass = optarg;
                else if (c == 's')
                        from_stdin = true;
                else
                        return c == 'h' ? cli_help(usage) : cli_usage(usage);
        }
        if (optind + 1 != argc)
                return cli_args(usage, "requires 1 argument");
        if (!user || (!pass && !from_stdin))
                return cli_usage(usage);
        char buf[4096];
        if (from_stdin) {
                if (!fgets(buf, sizeof buf, stdin)) {
                        fprintf(stderr, "moat: no password on stdin\n");
                        return 1;
                }
                buf[strcspn(buf, "\r\n")] = '\0';
                pass = buf;
        }
        struct moat_registry_opts o;
        cli_registry_opts(&o);
        _cleanup_free_ char *auth = cli.auth_file ? NULL : xasprintf("%s/auth.json", cli.root);
        if (auth)
                o.auth_file = auth;
        struct moat_error err;
        int r = moat_image_login(argv[optind], user, pass, &o, &err);
        explicit_bzero(buf, sizeof buf);
        if (r < 0)
                return cli_fail(&err);
        printf("Login Succeeded\n");
        return 0;
}
