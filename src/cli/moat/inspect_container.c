/* moat inspect [-f FORMAT] NAME|ID...: containers first (docker-compatible JSON), then images. */
#include "container.h"
#include "format.h"

int cmd_inspect_any(int argc, char **argv)
{
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' }, { "type", required_argument, NULL, 't' },
                { "size", no_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' }, {},
        };
        static const char usage[] = "inspect [-f|--format FORMAT] CONTAINER|IMAGE...";
        const char *format = NULL;
        int c;
        while ((c = cli_getopt(argc, argv, "f:s", opts, NULL)) != -1) {
                switch (c) {
                case 'f': format = optarg; break;
                case 't': case 's':
                        fprintf(stderr, "moat: inspect --type and --size are not supported yet\n");
                        return 125;
                case 'h': return cli_help(usage);
                default: return cli_usage(usage);
                }
        }
        if (optind >= argc)
                return cli_args(usage, "requires at least 1 argument");
        struct moat_error err;
        struct cli_format *fmt = NULL;
        if (format && cli_format_parse(format, NULL, &fmt, &err) < 0)
                return cli_fail125(&err);
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e)) {
                cli_format_free(fmt);
                return 1;
        }
        _cleanup_store_ struct moat_image_store *s = NULL;
        json_t *all = json_array();
        int rc = 0;
        for (int i = optind; i < argc; i++) {
                json_t *doc = NULL;
                if (moat_engine_inspect(e, argv[i], &doc, &err) == 0) {
                        json_array_append_new(all, doc);
                        continue;
                }
                if (!s && cli_open_store(&s)) {
                        cli_format_free(fmt);
                        json_decref(all);
                        return 1;
                }
                _cleanup_free_ char *txt = NULL;
                struct moat_error ierr;
                if (moat_image_inspect(s, argv[i], &txt, &ierr) == 0 && (doc = json_loads(txt, 0, NULL))) {
                        json_array_append_new(all, doc);
                        continue;
                }
                fprintf(stderr, "moat: Error: No such object: %s\n", argv[i]);
                rc = 1;
        }
        if (fmt) {
                /* one line per object, as docker; a template error stops at that object */
                size_t i;
                json_t *doc;
                json_array_foreach(all, i, doc)
                {
                        if (cli_format_add(fmt, doc, NULL, &err) < 0) {
                                cli_format_flush(fmt);
                                cli_format_free(fmt);
                                json_decref(all);
                                fprintf(stderr, "moat: %s\n", err.msg);
                                return 1;
                        }
                }
                cli_format_flush(fmt);
                cli_format_free(fmt);
        } else {
                char *out = json_dumps(all, JSON_INDENT(4));
                printf("%s\n", out);
                free(out);
        }
        json_decref(all);
        return rc;
}
