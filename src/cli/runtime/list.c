/* moat-runtime list [-q] [--format table|json]: every container under the state root. */
#include "cli.h"

int cmd_list(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        bool quiet = false, json = false;
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+qf:h", opts, NULL)) != -1) {
                if (o == 'q')
                        quiet = true;
                else if (o == 'f') {
                        if (streq(optarg, "json"))
                                json = true;
                        else if (!streq(optarg, "table"))
                                return cli_usage_error("list", "--format: \"%s\" is not table or json", optarg);
                } else if (o == 'h') {
                        printf("usage: moat-runtime list [-q] [--format table|json]\n");
                        return 0;
                } else
                        return cli_usage_error("list", "unknown option \"%s\"", argv[optind - 1]);
        }
        if (optind < argc)
                return cli_usage_error("list", "takes no arguments");
        struct moat_error err;
        moat_error_clear(&err);
        json_t *list;
        if (moat_runtime_list(&c->rt, &list, &err) < 0)
                return cli_fail(&err);
        size_t i;
        json_t *s;
        if (json) {
                char *out = json_dumps(list, JSON_COMPACT | JSON_PRESERVE_ORDER);
                printf("%s\n", out);
                free(out);
        } else if (quiet) {
                json_array_foreach(list, i, s) printf("%s\n", json_string_value(json_object_get(s, "id")));
        } else {
                printf("%-12s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
                json_array_foreach(list, i, s)
                {
                        printf("%-12s %-8lld %-10s %-40s %-32s %s\n", json_string_value(json_object_get(s, "id")),
                               (long long) json_integer_value(json_object_get(s, "pid")),
                               json_string_value(json_object_get(s, "status")),
                               json_string_value(json_object_get(s, "bundle")),
                               json_string_value(json_object_get(s, "created")),
                               json_string_value(json_object_get(s, "owner")));
                }
        }
        json_decref(list);
        return 0;
}
