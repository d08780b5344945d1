/* moat-runtime state ID: the OCI state as JSON. */
#include "cli.h"

int cmd_state(struct cli *c, int argc, char **argv)
{
        static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
                if (o == 'h') {
                        printf("usage: moat-runtime state ID\n");
                        return 0;
                }
                return cli_usage_error("state", "unknown option \"%s\"", argv[optind - 1]);
        }
        const char *id;
        if (cli_one_id(argc, argv, "state", &id))
                return 1;
        struct moat_error err;
        moat_error_clear(&err);
        json_t *st;
        if (moat_runtime_state(&c->rt, id, &st, &err) < 0)
                return cli_fail(&err);
        char *s = json_dumps(st, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        json_decref(st);
        return 0;
}
