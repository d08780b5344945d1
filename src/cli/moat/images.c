/* moat images [-q] [--format table|json] */
#include <jansson.h>
#include <time.h>

#include "moat.h"

int cmd_images(int argc, char **argv)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' }, { "format", required_argument, NULL, 'f' },
                { "no-trunc", no_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' }, {},
        };
        static const char usage[] = "images [-q] [--no-trunc] [--format table|json]";
        bool quiet = false, json = false, notrunc = false;
        int c;
        while ((c = cli_getopt(argc, argv, "qh", opts, NULL)) != -1) {
                if (c == 'q')
                        quiet = true;
                else if (c == 'n')
                        notrunc = true;
                else if (c == 'f' && (streq(optarg, "json") || streq(optarg, "table")))
                        json = streq(optarg, "json");
                else
                        return c == 'h' ? cli_help(usage) : cli_usage(usage);
        }
        if (optind != argc)
                return cli_args(usage, "accepts no arguments");
        _cleanup_store_ struct moat_image_store *s = NULL;
        if (cli_open_store(&s))
                return 1;
        struct moat_error err;
        struct moat_image_info *v;
        size_t n;
        if (moat_image_list(s, &v, &n, &err) < 0)
                return cli_fail(&err);
        if (json) {
                json_t *arr = json_array();
                for (size_t i = 0; i < n; i++) {
                        json_t *names = json_array();
                        for (char **p = v[i].names; p && *p; p++)
                                json_array_append_new(names, json_string(*p));
                        json_array_append_new(arr, json_pack("{s:s,s:o,s:s,s:s?,s:I,s:I,s:s?,s:s?,s:I}", "Id", v[i].id,
                                                             "Names", names, "Digest", v[i].manifest_digest,
                                                             "Created", v[i].created, "Size", (json_int_t) v[i].size,
                                                             "Added", (json_int_t) v[i].added, "Os", v[i].os,
                                                             "Architecture", v[i].arch, "Layers",
                                                             (json_int_t) v[i].n_layers));
                }
                char *t = json_dumps(arr, JSON_INDENT(2));
                printf("%s\n", t);
                free(t);
                json_decref(arr);
        } else {
                if (!quiet)
                        printf("%-40s %-20s %-14s %-22s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
                for (size_t i = 0; i < n; i++) {
                        if (quiet) {
                                printf("%.*s\n", notrunc ? 71 : 12, notrunc ? v[i].id : v[i].id + 7);
                                continue;
                        }
                        _cleanup_free_ char *size = cli_human_size(v[i].size);
                        char created[32];
                        snprintf(created, sizeof created, "%.19s", v[i].created ? v[i].created : "");
                        if (!v[i].names || !v[i].names[0]) {
                                printf("%-40s %-20s %-14.12s %-22s %s\n", "<none>", "<none>", v[i].id + 7, created, size);
                                continue;
                        }
                        for (char **p = v[i].names; *p; p++) {
                                const char *tag;
                                _cleanup_free_ char *fam = cli_repo_tag(*p, &tag);
                                printf("%-40s %-20s %-14.12s %-22s %s\n", fam, tag, v[i].id + 7, created, size);
                        }
                }
        }
        moat_image_info_free(v, n);
        return 0;
}
