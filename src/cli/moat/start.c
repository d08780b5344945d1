/* moat start [-a] [-i] CONTAINER... | start --all [--filter KEY=VALUE]...: start created or stopped
 * containers (-a: attach to one; --all: every one not running that the filters select, podman's form). */
#include "container.h"

#define START_USAGE "start [-a] [-i] CONTAINER... | start --all [-f|--filter KEY=VALUE]..."

/* Every container that is not running and that the filters select; the names of those started. */
static int start_all(struct moat_engine *e, char **filters)
{
        struct moat_container_info *v = NULL;
        size_t n = 0;
        struct moat_error err;
        if (moat_engine_list_filtered(e, true, filters, &v, &n, &err) < 0)
                return cli_fail125(&err);
        int rc = 0;
        for (size_t i = n; i-- > 0;) { /* oldest first */
                if (!streq(v[i].state, "created") && !streq(v[i].state, "exited"))
                        continue;
                if (moat_engine_start(e, v[i].id, NULL, &err) < 0) {
                        fprintf(stderr, "moat: %s: %s\n", v[i].name, err.msg);
                        rc = 1;
                        continue;
                }
                printf("%s\n", v[i].name);
        }
        moat_container_info_free(v, n);
        return rc;
}

int cmd_start(int argc, char **argv)
{
        static const struct option opts[] = {
                { "attach", no_argument, NULL, 'a' }, { "interactive", no_argument, NULL, 'i' },
                { "all", no_argument, NULL, 'A' },    { "filter", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },   {},
        };
        bool attach = false, in = false, all = false;
        _cleanup_strv_ char **filters = NULL;
        size_t nf = 0;
        int c;
        while ((c = cli_getopt(argc, argv, "aif:", opts, NULL)) != -1) {
                switch (c) {
                case 'a': attach = true; break;
                case 'i': in = true; break;
                case 'A': all = true; break;
                case 'f': cli_strv_add(&filters, &nf, optarg); break;
                case 'h': return cli_help(START_USAGE);
                default: return cli_usage(START_USAGE);
                }
        }
        if (all || filters) {
                const char *why = !all ? "--filter needs --all"
                                  : optind < argc ? "--all and container names cannot be used together"
                                  : attach || in  ? "--all cannot attach (-a, -i)"
                                                  : NULL;
                if (why) {
                        fprintf(stderr, "moat: start: %s\n", why);
                        return 125;
                }
        } else if (optind >= argc)
                return cli_args(START_USAGE, "requires at least 1 argument");
        else if (attach && argc - optind != 1) {
                fprintf(stderr, "moat: you cannot start and attach multiple containers at once\n");
                return 1;
        }
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        if (all)
                return start_all(e, filters);
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
                int code = cli_attach_stdio(afd, in, tty);
                close(afd);
                return code < 0 ? 1 : code;
        }
        return rc;
}
