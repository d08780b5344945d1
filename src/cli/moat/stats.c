/* moat stats --no-stream [CONTAINER...]: CPU, memory, pids and block IO from the cgroups. */
#include <time.h>

#include "container.h"

int cmd_stats(int argc, char **argv)
{
        static const struct option opts[] = {
                { "no-stream", no_argument, NULL, 'n' }, { "all", no_argument, NULL, 'a' },
                { "help", no_argument, NULL, 'h' }, {},
        };
        bool no_stream = false;
        int c;
        while ((c = getopt_long(argc, argv, "+a", opts, NULL)) != -1) {
                if (c == 'n')
                        no_stream = true;
                else if (c != 'a')
                        return c == 'h' ? (printf("Usage: moat stats --no-stream [CONTAINER...]\n"), 0)
                                        : cli_usage("stats --no-stream [CONTAINER...]");
        }
        if (!no_stream) {
                fprintf(stderr, "moat: stats without --no-stream (a live view) is not supported yet\n");
                return 1;
        }
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        char **names = NULL;
        size_t n = 0;
        struct moat_container_info *all = NULL;
        size_t n_all = 0;
        if (optind < argc) {
                names = argv + optind;
                n = (size_t) (argc - optind);
        } else {
                if (moat_engine_list(e, false, &all, &n_all, &err) < 0)
                        return cli_fail(&err);
                names = XNEW(char *, n_all + 1);
                for (size_t i = 0; i < n_all; i++)
                        names[i] = all[i].id;
                n = n_all;
        }
        struct moat_container_stats *a = XNEW(struct moat_container_stats, n + 1);
        bool *ok = XNEW(bool, n + 1);
        for (size_t i = 0; i < n; i++)
                ok[i] = moat_engine_stats(e, names[i], &a[i], &err) == 0;
        /* CPU %: usage over a short window, as a share of one CPU (docker's convention) */
        struct timespec ts = { 0, 200000000 };
        nanosleep(&ts, NULL);
        int rc = 0;
        printf("%-14s %-24s %-8s %-24s %-8s %-22s %s\n", "CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %",
               "BLOCK I/O", "PIDS");
        for (size_t i = 0; i < n; i++) {
                struct moat_container_stats b;
                struct moat_container_info info;
                if (!ok[i] || moat_engine_stats(e, names[i], &b, &err) < 0 ||
                    moat_engine_get(e, names[i], &info, &err) < 0) {
                        fprintf(stderr, "moat: %s\n", err.msg);
                        rc = 1;
                        continue;
                }
                double cpu = (double) (b.cpu_ns - a[i].cpu_ns) / 2e8 * 100.0;
                bool limited = b.mem_limit && b.mem_limit < (1ull << 62);
                _cleanup_free_ char *mu = cli_human_size((int64_t) b.mem_usage);
                _cleanup_free_ char *ml = limited ? cli_human_size((int64_t) b.mem_limit) : xstrdup("unlimited");
                _cleanup_free_ char *ir = cli_human_size((int64_t) b.io_read), *iw = cli_human_size((int64_t) b.io_write);
                char mem[64], io[64], pct[16], cpus[16];
                snprintf(cpus, sizeof cpus, "%.2f%%", cpu);
                snprintf(mem, sizeof mem, "%s / %s", mu, ml);
                snprintf(io, sizeof io, "%s / %s", ir, iw);
                snprintf(pct, sizeof pct, limited ? "%.2f%%" : "--", (double) b.mem_usage * 100.0 / (double) b.mem_limit);
                printf("%-14.12s %-24s %-8s %-24s %-8s %-22s %llu\n", info.id, info.name,
                       cpus, mem, pct, io, (unsigned long long) b.pids);
                moat_container_info_clear(&info);
        }
        free(a);
        free(ok);
        if (all) {
                free(names);
                moat_container_info_free(all, n_all);
        }
        return rc;
}
