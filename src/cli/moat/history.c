/* moat history IMAGE : the config's history, newest first. */
#include "moat.h"

int cmd_history(int argc, char **argv)
{
        int r0 = cli_no_options(&argc, argv, "history IMAGE");
        if (r0 >= 0)
                return r0;
        if (argc != 2)
                return cli_args("history IMAGE", "requires 1 argument");
        _cleanup_store_ struct moat_image_store *s = NULL;
        if (cli_open_store(&s))
                return 1;
        struct moat_error err;
        struct moat_image_config cfg;
        if (moat_image_config_get(s, argv[1], &cfg, &err) < 0)
                return cli_fail(&err);
        printf("%-22s %-60s %s\n", "CREATED", "CREATED BY", "COMMENT");
        for (size_t i = cfg.n_history; i-- > 0;) {
                const struct moat_history *h = &cfg.history[i];
                printf("%-22.20s %-60.60s %s\n", h->created ? h->created : "", h->created_by ? h->created_by : "",
                       h->comment ? h->comment : "");
        }
        moat_image_config_free(&cfg);
        return 0;
}
