/* moat ps [-a] [-q] [--no-trunc] [-f KEY=VALUE]... [--format FORMAT]: docker's container table. */
#include <time.h>

#include "container.h"
#include "format.h"

#define PS_TABLE "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

void cli_status_text(const struct moat_container_info *c, int64_t now, char *buf, size_t len)
{
        char h[64];
        if (streq(c->state, "running")) {
                const char *hs = moat_container_health_status(c);
                cli_humanize((now - c->started) / 1000000000, h, sizeof h);
                snprintf(buf, len, "Up %s%s%s%s", h, streq(hs, "none") ? "" : " (",
                         streq(hs, "none") ? "" : streq(hs, "starting") ? "health: starting" : hs,
                         streq(hs, "none") ? "" : ")");
        } else if (streq(c->state, "paused")) {
                cli_humanize((now - c->started) / 1000000000, h, sizeof h);
                snprintf(buf, len, "Up %s (Paused)", h);
        } else if (streq(c->state, "exited")) {
                cli_humanize((now - c->finished) / 1000000000, h, sizeof h);
                snprintf(buf, len, "Exited (%d) %s ago", c->exit_code, h);
        } else if (streq(c->state, "restarting")) {
                cli_humanize((now - c->finished) / 1000000000, h, sizeof h);
                snprintf(buf, len, "Restarting (%d) %s ago", c->exit_code, h);
        } else if (streq(c->state, "created"))
                snprintf(buf, len, "Created");
        else if (streq(c->state, "dead"))
                snprintf(buf, len, "Dead");
        else
                snprintf(buf, len, "%s", c->state);
}

/* docker's Ellipsis: at most max characters, the last one "…" when cut */
static char *ellipsis(const char *s, size_t max)
{
        size_t chars = 0, i = 0;
        for (; s[i]; i++)
                if (((unsigned char) s[i] & 0xc0) != 0x80 && ++chars == max)
                        break;
        if (!s[i] || !s[i + 1])
                return xstrdup(s);
        /* s[i] starts character number max; keep max - 1 and the ellipsis */
        return xasprintf("%.*s…", (int) i, s);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static void join(char **acc, const char *s)
{
        char *n = xasprintf("%s%s%s", *acc, **acc ? "," : "", s);
        free(*acc);
        *acc = n;
}

/* The item {{.Field}} sees: docker's container context, every value a string. */
static json_t *ps_item(const struct moat_container_info *c, int64_t now, bool trunc)
{
        char created[64], status[128], at[64];
        cli_humanize((now - c->created) / 1000000000, created, sizeof created);
        cli_status_text(c, now, status, sizeof status);
        time_t t = (time_t) (c->created / 1000000000);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(at, sizeof at, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
        _cleanup_free_ char *cmd = trunc ? ellipsis(c->command, 20) : xstrdup(c->command);
        /* labels as docker joins them, here in key order */
        size_t nk = json_object_size(c->labels), k = 0;
        char **pairs = XNEW(char *, nk + 1);
        const char *key;
        json_t *v;
        json_object_foreach(c->labels, key, v)
                if (k < nk)
                        pairs[k++] = xasprintf("%s=%s", key, json_string_value(v) ? json_string_value(v) : "");
        qsort(pairs, k, sizeof *pairs, cmp_str);
        _cleanup_free_ char *labels = xstrdup("");
        for (size_t i = 0; i < k; i++)
                join(&labels, pairs[i]);
        strv_free(pairs);
        /* mounts: the volume name or the host path of each -v */
        _cleanup_free_ char *mounts = xstrdup("");
        json_t *hc = json_object_get(c->config, "HostConfig");
        size_t i;
        json_array_foreach(json_object_get(hc, "Binds"), i, v)
        {
                const char *b = json_string_value(v) ? json_string_value(v) : "";
                const char *colon = strchr(b, ':');
                _cleanup_free_ char *src = colon ? xstrndup(b, (size_t) (colon - b)) : xstrdup(b);
                _cleanup_free_ char *shown = trunc ? ellipsis(src, 15) : xstrdup(src);
                join(&mounts, shown);
        }
        const char *net = json_string_value(json_object_get(hc, "NetworkMode"));
        json_t *o = json_object();
        json_object_set_new(o, "ID", json_stringn(c->id, trunc && strlen(c->id) > 12 ? 12 : strlen(c->id)));
        json_object_set_new(o, "Image", json_string(c->image));
        json_object_set_new(o, "Command", json_sprintf("\"%s\"", cmd));
        json_object_set_new(o, "CreatedAt", json_string(at));
        json_object_set_new(o, "RunningFor", json_sprintf("%s ago", created));
        json_object_set_new(o, "Status", json_string(status));
        json_object_set_new(o, "Names", json_string(c->name));
        json_object_set_new(o, "Labels", json_string(labels));
        json_object_set_new(o, "Ports", json_string(""));
        json_object_set_new(o, "Mounts", json_string(mounts));
        json_object_set_new(o, "State", json_string(streq(c->state, "creating") ? "created" : c->state));
        json_object_set_new(o, "Networks", json_string(net ? net : "none"));
        json_object_set_new(o, "LocalVolumes",
                            json_sprintf("%zu", json_array_size(json_object_get(c->config, "Volumes"))));
        /* no Size: ps -s is not supported, so {{.Size}} is refused rather than shown empty */
        return o;
}

static json_t *ps_headers(void)
{
        return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "ID", "CONTAINER ID", "Image",
                         "IMAGE", "Command", "COMMAND", "CreatedAt", "CREATED AT", "RunningFor", "CREATED", "Status",
                         "STATUS", "Names", "NAMES", "Labels", "LABELS", "Label", "LABEL", "Ports", "PORTS", "Mounts",
                         "MOUNTS", "State", "STATE", "Networks", "NETWORKS", "LocalVolumes", "LOCAL VOLUMES");
}

int cmd_ps(int argc, char **argv)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' }, { "quiet", no_argument, NULL, 'q' },
                { "no-trunc", no_argument, NULL, 'n' }, { "filter", required_argument, NULL, 'f' },
                { "format", required_argument, NULL, 'F' }, { "help", no_argument, NULL, 'h' },
                { "last", required_argument, NULL, 'N' }, { "latest", no_argument, NULL, 'l' },
                { "size", no_argument, NULL, 's' }, {},
        };
        static const char usage[] = "ps [-a] [-q] [--no-trunc] [-f|--filter KEY=VALUE]... [--format FORMAT]";
        bool all = false, quiet = false, notrunc = false;
        const char *format = NULL;
        _cleanup_strv_ char **filters = XNEW(char *, 1);
        size_t nf = 0;
        int c;
        while ((c = cli_getopt(argc, argv, "aqf:n:ls", opts, NULL)) != -1) {
                switch (c) {
                case 'a': all = true; break;
                case 'q': quiet = true; break;
                case 'n': notrunc = true; break;
                case 'f': cli_strv_add(&filters, &nf, optarg); break;
                case 'F': format = optarg; break;
                case 'N': case 'l': case 's':
                        fprintf(stderr, "moat: ps -n/--last, -l/--latest and -s/--size are not supported yet\n");
                        return 125;
                case 'h': return cli_help(usage);
                default: return cli_usage(usage);
                }
        }
        if (optind != argc)
                return cli_args(usage, "accepts no arguments");
        struct moat_error err;
        struct cli_format *fmt = NULL;
        /* a bad template is refused before anything is listed; -q wins over --format, as in docker */
        if (!quiet && cli_format_parse(format ? format : PS_TABLE, PS_TABLE, &fmt, &err) < 0)
                return cli_fail125(&err);
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e)) {
                cli_format_free(fmt);
                return 1;
        }
        struct moat_container_info *v;
        size_t n;
        if (moat_engine_list_filtered(e, all, filters, &v, &n, &err) < 0) {
                cli_format_free(fmt);
                return cli_fail125(&err);
        }
        if (quiet) {
                for (size_t i = 0; i < n; i++)
                        printf("%.*s\n", notrunc ? 64 : 12, v[i].id);
                moat_container_info_free(v, n);
                return 0;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now = (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
        json_t *headers = ps_headers();
        int r = cli_format_header(fmt, headers, &err);
        json_decref(headers);
        for (size_t i = 0; r == 0 && i < n; i++) {
                json_t *item = ps_item(&v[i], now, !notrunc);
                json_t *methods = json_pack("{s:O}", "Label", v[i].labels);
                r = cli_format_add(fmt, item, methods, &err);
                json_decref(methods);
                json_decref(item);
        }
        moat_container_info_free(v, n);
        if (r == 0)
                cli_format_flush(fmt);
        cli_format_free(fmt);
        return r < 0 ? cli_fail125(&err) : 0;
}
