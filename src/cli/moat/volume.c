/* moat volume create|ls|inspect|rm|prune: named and anonymous volumes. */
#include <sys/random.h>

#include "container.h"
#include "format.h"

#define VOLUME_TABLE "table {{.Driver}}\t{{.Name}}"

/* docker's fields for a volume listing */
static json_t *volume_item(json_t *v)
{
        json_t *labels = json_object_get(v, "Labels");
        char *joined = xstrdup("");
        const char *k;
        json_t *val;
        json_object_foreach(labels, k, val)
        {
                char *n = xasprintf("%s%s%s=%s", joined, *joined ? "," : "", k, json_string_value(val));
                free(joined);
                joined = n;
        }
        json_t *item = json_pack("{s:O,s:O,s:O,s:O,s:O,s:s,s:O,s:s}", "Name", json_object_get(v, "Name"), "Driver",
                                 json_object_get(v, "Driver"), "Scope", json_object_get(v, "Scope"), "Mountpoint",
                                 json_object_get(v, "Mountpoint"), "CreatedAt", json_object_get(v, "CreatedAt"),
                                 "Labels", joined, "Links", json_object_get(v, "Links"), "Size", "N/A");
        free(joined);
        return item;
}

static int volume_ls(struct moat_engine *e, int argc, char **argv, const char *usage)
{
        static const struct option lopts[] = { { "quiet", no_argument, NULL, 'q' },
                                               { "filter", required_argument, NULL, 'f' },
                                               { "format", required_argument, NULL, 'F' },
                                               {} };
        bool quiet = false;
        const char *format = NULL;
        _cleanup_strv_ char **filters = XNEW(char *, 1);
        size_t nf = 0;
        int c;
        optind = 0;
        while ((c = cli_getopt(argc, argv, "qf:", lopts, NULL)) != -1) {
                if (c == 'q')
                        quiet = true;
                else if (c == 'f')
                        cli_strv_add(&filters, &nf, optarg);
                else if (c == 'F')
                        format = optarg;
                else
                        return cli_usage(usage);
        }
        if (optind < argc)
                return cli_usage(usage);
        struct moat_error err;
        struct cli_format *fmt = NULL;
        if (!quiet && cli_format_parse(format ? format : VOLUME_TABLE, VOLUME_TABLE, &fmt, &err) < 0)
                return cli_fail125(&err);
        json_t *vols;
        if (moat_engine_volume_list_filtered(e, filters, &vols, &err) < 0) {
                cli_format_free(fmt);
                return cli_fail125(&err);
        }
        size_t i;
        json_t *v;
        int r = 0;
        if (quiet) {
                json_array_foreach(vols, i, v)
                        printf("%s\n", json_string_value(json_object_get(v, "Name")));
        } else {
                json_t *headers = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "Driver", "DRIVER", "Name",
                                            "VOLUME NAME", "Scope", "SCOPE", "Mountpoint", "MOUNTPOINT", "Labels",
                                            "LABELS", "Links", "LINKS", "Size", "SIZE", "CreatedAt", "CREATED");
                r = cli_format_header(fmt, headers, &err);
                json_decref(headers);
                json_array_foreach(vols, i, v)
                {
                        if (r < 0)
                                break;
                        json_t *item = volume_item(v);
                        json_t *methods = json_pack("{s:O}", "Label", json_object_get(v, "Labels"));
                        r = cli_format_add(fmt, item, methods, &err);
                        json_decref(methods);
                        json_decref(item);
                }
                if (r == 0)
                        cli_format_flush(fmt);
                cli_format_free(fmt);
        }
        json_decref(vols);
        return r < 0 ? cli_fail125(&err) : 0;
}

int cmd_volume(int argc, char **argv)
{
        static const char usage[] = "volume create [--label K=V]... [NAME] | ls [-q] [-f KEY=VALUE]... [--format FORMAT] | inspect NAME... | rm NAME... | "
                                    "prune [-a] [-f]";
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                fprintf(argc < 2 ? stderr : stdout, "Usage: moat %s\n", usage);
                return 0; /* docker shows a command group's help, without a subcommand too */
        }
        const char *sub = argv[1];
        for (int i = 2; i < argc; i++)
                if (streq(argv[i], "--help") || streq(argv[i], "-h"))
                        return cli_help(usage);
        if ((streq(sub, "inspect") || streq(sub, "rm") || streq(sub, "remove")) && argc < 3) {
                fprintf(stderr, "moat: 'volume %s' requires at least 1 argument\n\nUsage: moat %s\n", sub, usage);
                return 1;
        }
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        int rc = 0;
        if (streq(sub, "create")) {
                static const struct option copts[] = { { "driver", required_argument, NULL, 'd' },
                                                       { "label", required_argument, NULL, 'l' },
                                                       { "opt", required_argument, NULL, 'o' },
                                                       { "name", required_argument, NULL, 'n' },
                                                       {} };
                json_t *labels = json_object();
                const char *name = NULL;
                int c;
                optind = 0; /* a new scan: getopt re-reads the ordering flag */
                while ((c = cli_getopt(argc - 1, argv + 1, "d:o:", copts, NULL)) != -1) {
                        if (c == 'd' && streq(optarg, "local"))
                                continue;
                        if (c == 'l') {
                                const char *eq = strchr(optarg, '=');
                                _cleanup_free_ char *k = eq ? xstrndup(optarg, (size_t) (eq - optarg)) : xstrdup(optarg);
                                json_object_set_new(labels, k, json_string(eq ? eq + 1 : ""));
                                continue;
                        }
                        if (c == 'n') {
                                name = optarg;
                                continue;
                        }
                        json_decref(labels);
                        if (c == 'd' || c == 'o') {
                                fprintf(stderr, "moat: volume create %s: not supported: volumes are directories of "
                                                "the local driver, without options\n",
                                        c == 'd' ? "--driver other than local" : "-o/--opt");
                                return 125;
                        }
                        return cli_usage(usage);
                }
                if (optind + 1 < argc - 1 || (name && optind < argc - 1 && !streq(name, argv[1 + optind]))) {
                        json_decref(labels);
                        return cli_usage(usage);
                }
                if (!name && optind < argc - 1)
                        name = argv[1 + optind];
                char gen[65];
                if (!name) {
                        unsigned char r[32];
                        if (getrandom(r, sizeof r, 0) != sizeof r) {
                                json_decref(labels);
                                return 1;
                        }
                        for (size_t i = 0; i < 32; i++)
                                snprintf(gen + 2 * i, 3, "%02x", r[i]);
                        name = gen;
                }
                int cr = moat_engine_volume_create(e, name, labels, &err);
                json_decref(labels);
                if (cr < 0)
                        return cli_fail(&err);
                printf("%s\n", name);
                return 0;
        }
        if (streq(sub, "ls") || streq(sub, "list"))
                return volume_ls(e, argc - 1, argv + 1, usage);
        if (streq(sub, "inspect")) {
                json_t *all = json_array();
                for (int i = 2; i < argc; i++) {
                        json_t *d;
                        if (moat_engine_volume_inspect(e, argv[i], &d, &err) < 0) {
                                fprintf(stderr, "moat: %s\n", err.msg);
                                rc = 1;
                        } else
                                json_array_append_new(all, d);
                }
                char *s = json_dumps(all, JSON_INDENT(4));
                printf("%s\n", s);
                free(s);
                json_decref(all);
                return rc;
        }
        if (streq(sub, "rm") || streq(sub, "remove")) {
                for (int i = 2; i < argc; i++) {
                        if (streq(argv[i], "-f") || streq(argv[i], "--force"))
                                continue;
                        if (moat_engine_volume_remove(e, argv[i], &err) < 0) {
                                fprintf(stderr, "moat: %s\n", err.msg);
                                rc = 1;
                        } else
                                printf("%s\n", argv[i]);
                }
                return rc;
        }
        if (streq(sub, "prune")) {
                /* docker 23+: unused anonymous volumes only; -a/--all: every unused volume */
                bool all = false;
                for (int i = 2; i < argc; i++) {
                        if (streq(argv[i], "-a") || streq(argv[i], "--all"))
                                all = true;
                        else if (!streq(argv[i], "-f") && !streq(argv[i], "--force"))
                                return cli_usage(usage);
                }
                _cleanup_strv_ char **removed = NULL;
                uint64_t freed;
                if (moat_engine_volume_prune(e, all, &removed, &freed, &err) < 0)
                        return cli_fail(&err);
                printf("Deleted Volumes:\n");
                for (size_t i = 0; removed[i]; i++)
                        printf("%s\n", removed[i]);
                _cleanup_free_ char *h = cli_human_size((int64_t) freed);
                printf("\nTotal reclaimed space: %s\n", h);
                return 0;
        }
        fprintf(stderr, "moat: unknown command: moat volume %s\n\nSee 'moat volume --help'.\n", sub);
        return 1;
}
