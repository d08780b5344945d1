/* moat logout SERVER */
#include "moat.h"

int cmd_logout(int argc, char **argv)
{
        int r0 = cli_no_options(&argc, argv, "logout SERVER");
        if (r0 >= 0)
                return r0;
        if (argc != 2)
                return cli_args("logout SERVER", "requires 1 argument");
        struct moat_registry_opts o;
        cli_registry_opts(&o);
        _cleanup_free_ char *auth = cli.auth_file ? NULL : xasprintf("%s/auth.json", cli.root);
        if (auth)
                o.auth_file = auth;
        struct moat_error err;
        if (moat_image_logout(argv[1], &o, &err) < 0)
                return cli_fail(&err);
        printf("Removed login credentials for %s\n", argv[1]);
        return 0;
}
