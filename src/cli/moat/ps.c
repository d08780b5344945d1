/* moat ps [-a] [-q] [--no-trunc]: docker's container table. */
#include <time.h>

#include "container.h"

void cli_status_text(const struct moat_container_info *c, int64_t now, char *buf, size_t len)
{
        char h[64];
        if (streq(c->state, "running")) {
                cli_humanize((now - c->started) / 1000000000, h, sizeof h);
                snprintf(buf, len, "Up %s", h);
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

int cmd_ps(int argc, char **argv)
{
        static const struct option opts[] = {
                { "all", no_argument, NULL, 'a' }, { "quiet", no_argument, NULL, 'q' },
                { "no-trunc", no_argument, NULL, 'n' }, { "filter", required_argument, NULL, 'f' },
                { "format", required_argument, NULL, 'F' }, { "help", no_argument, NULL, 'h' }, {},
        };
        static const char usage[] = "ps [-a] [-q] [--no-trunc]";
        bool all = false, quiet = false, notrunc = false;
        int c;
        while ((c = getopt_long(argc, argv, "+aqf:", opts, NULL)) != -1) {
                switch (c) {
                case 'a': all = true; break;
                case 'q': quiet = true; break;
                case 'n': notrunc = true; break;
                case 'f': case 'F':
                        fprintf(stderr, "moat: ps --filter/--format are not supported yet\n");
                        return 1;
                case 'h': return printf("Usage: moat %s\n", usage), 0;
                default: return cli_usage(usage);
                }
        }
        if (optind != argc)
                return cli_usage(usage);
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        struct moat_container_info *v;
        size_t n;
        if (moat_engine_list(e, all, &v, &n, &err) < 0)
                return cli_fail(&err);
        if (quiet) {
                for (size_t i = 0; i < n; i++)
                        printf("%.*s\n", notrunc ? 64 : 12, v[i].id);
                moat_container_info_free(v, n);
                return 0;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now = (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
        char ***rows = XNEW(char **, n + 1);
        static const char *const head[] = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES" };
        size_t w[7];
        for (size_t k = 0; k < 7; k++)
                w[k] = strlen(head[k]);
        for (size_t i = 0; i < n; i++) {
                char **r = XNEW(char *, 7);
                char created[64], status[96];
                cli_humanize((now - v[i].created) / 1000000000, created, sizeof created);
                cli_status_text(&v[i], now, status, sizeof status);
                r[0] = xstrndup(v[i].id, notrunc ? 64 : 12);
                r[1] = xstrdup(v[i].image);
                if (!notrunc && strlen(v[i].command) > 19)
                        r[2] = xasprintf("\"%.19s…\"", v[i].command);
                else
                        r[2] = xasprintf("\"%s\"", v[i].command);
                r[3] = xasprintf("%s ago", created);
                r[4] = xstrdup(status);
                r[5] = xstrdup("");
                r[6] = xstrdup(v[i].name);
                rows[i] = r;
                for (size_t k = 0; k < 7; k++) {
                        size_t l = strlen(r[k]);
                        if (k == 2 && strstr(r[k], "…"))
                                l -= 2; /* one column on the screen, three bytes */
                        if (l > w[k])
                                w[k] = l;
                }
        }
        for (size_t k = 0; k < 7; k++)
                printf(k < 6 ? "%-*s   " : "%-*s", k < 6 ? (int) w[k] : 0, head[k]);
        printf("\n");
        for (size_t i = 0; i < n; i++) {
                for (size_t k = 0; k < 7; k++) {
                        int pad = (int) w[k] + ((k == 2 && strstr(rows[i][k], "…")) ? 2 : 0);
                        if (k < 6)
                                printf("%-*s   ", pad, rows[i][k]);
                        else
                                printf("%s", rows[i][k]);
                        free(rows[i][k]);
                }
                printf("\n");
                free(rows[i]);
        }
        free(rows);
        moat_container_info_free(v, n);
        return 0;
}
