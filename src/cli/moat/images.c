/* moat images [-q] [--no-trunc] [--format FORMAT] */
#include <jansson.h>
#include <time.h>

#include "format.h"
#include "moat.h"

#define IMAGES_TABLE "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"

/* docker's fields for one name of an image (or <none> for an untagged one) */
static json_t *image_item(const struct moat_image_info *im, const char *name, bool notrunc, int64_t now)
{
        const char *tag = "<none>";
        _cleanup_free_ char *repo = name ? cli_repo_tag(name, &tag) : xstrdup("<none>");
        _cleanup_free_ char *size = cli_human_size(im->size);
        int64_t created = 0;
        char since[64] = "N/A", at[64] = "";
        if (im->created && moat_parse_rfc3339(im->created, &created) == 0) {
                char h[48];
                cli_humanize((now - created) / 1000000000, h, sizeof h);
                snprintf(since, sizeof since, "%s ago", h);
                time_t t = (time_t) (created / 1000000000);
                struct tm tm;
                gmtime_r(&t, &tm);
                strftime(at, sizeof at, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
        }
        char id[80];
        snprintf(id, sizeof id, "%.*s", notrunc ? 71 : 12, notrunc ? im->id : im->id + 7);
        return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "ID", id, "Repository", repo, "Tag", tag,
                         "Digest", im->manifest_digest[0] ? im->manifest_digest : "<none>", "CreatedSince", since,
                         "CreatedAt", at, "Size", size, "VirtualSize", size, "SharedSize", "N/A", "UniqueSize", "N/A",
                         "Containers", "N/A");
}

static int images_table(const struct moat_image_info *v, size_t n, bool quiet, bool notrunc, const char *format,
                        struct moat_error *err)
{
        if (quiet) {
                for (size_t i = 0; i < n; i++)
                        printf("%.*s\n", notrunc ? 71 : 12, notrunc ? v[i].id : v[i].id + 7);
                return 0;
        }
        struct cli_format *fmt = NULL;
        int r = cli_format_parse(format ? format : IMAGES_TABLE, IMAGES_TABLE, &fmt, err);
        if (r < 0)
                return r;
        json_t *headers = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "ID", "IMAGE ID", "Repository",
                                    "REPOSITORY", "Tag", "TAG", "Digest", "DIGEST", "CreatedSince", "CREATED",
                                    "CreatedAt", "CREATED AT", "Size", "SIZE", "VirtualSize", "SIZE", "SharedSize",
                                    "SHARED SIZE", "UniqueSize", "UNIQUE SIZE", "Containers", "CONTAINERS");
        r = cli_format_header(fmt, headers, err);
        json_decref(headers);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now = (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
        for (size_t i = 0; r == 0 && i < n; i++) {
                /* one row per name, as docker lists an image under each of its tags */
                size_t k = 0;
                do {
                        const char *name = v[i].names ? v[i].names[k] : NULL;
                        json_t *item = image_item(&v[i], name, notrunc, now);
                        r = cli_format_add(fmt, item, NULL, err);
                        json_decref(item);
                } while (r == 0 && v[i].names && v[i].names[k] && v[i].names[++k]);
        }
        if (r == 0)
                cli_format_flush(fmt);
        cli_format_free(fmt);
        return r;
}

int cmd_images(int argc, char **argv)
{
        static const struct option opts[] = {
                { "quiet", no_argument, NULL, 'q' }, { "format", required_argument, NULL, 'f' },
                { "no-trunc", no_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' }, {},
        };
        static const char usage[] = "images [-q] [--no-trunc] [--format FORMAT]";
        bool quiet = false, json = false, notrunc = false;
        const char *format = NULL;
        int c;
        while ((c = cli_getopt(argc, argv, "qh", opts, NULL)) != -1) {
                if (c == 'q')
                        quiet = true;
                else if (c == 'n')
                        notrunc = true;
                else if (c == 'f') {
                        /* json: Moat's array of image records (as podman's); a template: docker's fields */
                        json = streq(optarg, "json");
                        format = optarg;
                }
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
        int r = 0;
        if (json && !quiet) {
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
                r = images_table(v, n, quiet, notrunc, format, &err);
        }
        moat_image_info_free(v, n);
        return r < 0 ? cli_fail125(&err) : 0;
}
