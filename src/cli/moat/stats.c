/* moat stats [-a] [--no-stream] [--no-trunc] [CONTAINER...]: CPU, memory, pids and block IO from the
 * cgroups. CPU % is the CPU time used between two samples over the time between them (100% = one
 * CPU, docker's scale). Live, the screen is cleared and redrawn every second, as docker does;
 * without names the running containers (all with -a) are listed anew for every frame. */
#include <signal.h>
#include <time.h>

#include "container.h"

struct sample {
        char *id, *name;
        bool ok;
        struct moat_container_stats st;
        uint64_t at; /* monotonic ns */
};

static void samples_free(struct sample *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(v[i].id);
                free(v[i].name);
        }
        free(v);
}

/* The containers to show now: the named ones, or every running one (every one with all). A name
 * that does not resolve makes the result 1 (and is printed when report). */
static int take(struct moat_engine *e, char **names, size_t nn, bool all, bool report, struct sample **out, size_t *n)
{
        struct moat_error err;
        struct moat_container_info *v = NULL;
        size_t nv = 0;
        int rc = 0;
        if (nn) {
                v = XNEW(struct moat_container_info, nn);
                for (size_t i = 0; i < nn; i++) {
                        if (moat_engine_get(e, names[i], &v[nv], &err) < 0) {
                                if (report)
                                        fprintf(stderr, "moat: %s\n", err.msg);
                                rc = 1;
                        } else
                                nv++;
                }
        } else if (moat_engine_list(e, all, &v, &nv, &err) < 0) {
                fprintf(stderr, "moat: %s\n", err.msg);
                return 1;
        }
        struct sample *s = XNEW(struct sample, nv + 1);
        for (size_t i = 0; i < nv; i++) {
                s[i].id = xstrdup(v[i].id);
                s[i].name = xstrdup(v[i].name);
                /* a stopped container shows zeros, as docker shows it with -a */
                s[i].ok = moat_engine_stats(e, v[i].id, &s[i].st, &err) == 0;
                s[i].at = moat_now_ns();
        }
        moat_container_info_free(v, nv);
        *out = s;
        *n = nv;
        return rc;
}

static void render(const struct sample *b, size_t nb, const struct sample *a, size_t na, bool notrunc)
{
        printf("%-*s %-24s %-8s %-24s %-8s %-22s %s\n", notrunc ? 66 : 14, "CONTAINER ID", "NAME", "CPU %",
               "MEM USAGE / LIMIT", "MEM %", "BLOCK I/O", "PIDS");
        for (size_t i = 0; i < nb; i++) {
                const struct sample *prev = NULL;
                for (size_t k = 0; k < na && !prev; k++)
                        if (streq(a[k].id, b[i].id))
                                prev = &a[k];
                struct moat_container_stats st = b[i].ok ? b[i].st : (struct moat_container_stats){ 0 };
                double cpu = 0;
                if (b[i].ok && prev && prev->ok && b[i].at > prev->at && st.cpu_ns >= prev->st.cpu_ns)
                        cpu = (double) (st.cpu_ns - prev->st.cpu_ns) / (double) (b[i].at - prev->at) * 100.0;
                bool limited = st.mem_limit && st.mem_limit < (1ull << 62);
                _cleanup_free_ char *mu = cli_human_size((int64_t) st.mem_usage);
                _cleanup_free_ char *ml = limited ? cli_human_size((int64_t) st.mem_limit)
                                                  : xstrdup(b[i].ok ? "unlimited" : "0B");
                _cleanup_free_ char *ir = cli_human_size((int64_t) st.io_read), *iw = cli_human_size((int64_t) st.io_write);
                char mem[64], io[64], pct[16], cpus[16];
                snprintf(cpus, sizeof cpus, "%.2f%%", cpu);
                snprintf(mem, sizeof mem, "%s / %s", mu, ml);
                snprintf(io, sizeof io, "%s / %s", ir, iw);
                if (limited)
                        snprintf(pct, sizeof pct, "%.2f%%", (double) st.mem_usage * 100.0 / (double) st.mem_limit);
                else
                        snprintf(pct, sizeof pct, b[i].ok ? "--" : "0.00%%");
                printf("%-*.*s %-24s %-8s %-24s %-8s %-22s %llu\n", notrunc ? 66 : 14, notrunc ? 64 : 12, b[i].id,
                       b[i].name, cpus, mem, pct, io, (unsigned long long) st.pids);
        }
}

static void sleep_ns(uint64_t ns)
{
        struct timespec ts = { (time_t) (ns / 1000000000), (long) (ns % 1000000000) };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int cmd_stats(int argc, char **argv)
{
        enum { O_NOSTREAM = 256, O_NOTRUNC, O_FORMAT };
        static const struct option opts[] = {
                { "no-stream", no_argument, NULL, O_NOSTREAM }, { "all", no_argument, NULL, 'a' },
                { "no-trunc", no_argument, NULL, O_NOTRUNC }, { "format", required_argument, NULL, O_FORMAT },
                { "help", no_argument, NULL, 'h' }, {},
        };
        static const char usage[] = "stats [-a|--all] [--no-stream] [--no-trunc] [CONTAINER...]";
        bool no_stream = false, all = false, notrunc = false;
        int c;
        while ((c = cli_getopt(argc, argv, "ah", opts, NULL)) != -1) {
                switch (c) {
                case O_NOSTREAM: no_stream = true; break;
                case 'a': all = true; break;
                case O_NOTRUNC: notrunc = true; break;
                case O_FORMAT:
                        fprintf(stderr, "moat: stats --format is not supported yet\n");
                        return 125;
                case 'h': return cli_help(usage);
                default: return cli_usage(usage);
                }
        }
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        char **names = argv + optind;
        size_t nn = (size_t) (argc - optind);
        struct sample *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        int rc = take(e, names, nn, all, true, &a, &na);
        if (no_stream) {
                /* two samples, as docker's one-shot view takes: CPU % needs an interval */
                sleep_ns(500000000);
                take(e, names, nn, all, false, &b, &nb);
                render(b, nb, a, na, notrunc);
                samples_free(a, na);
                samples_free(b, nb);
                return rc;
        }
        if (nn && na == 0)
                return rc;
        signal(SIGPIPE, SIG_IGN);
        for (;;) {
                sleep_ns(1000000000);
                take(e, names, nn, all, false, &b, &nb);
                /* docker's redraw: clear the screen, cursor home */
                printf("\033[2J\033[H");
                render(b, nb, a, na, notrunc);
                samples_free(a, na);
                a = b;
                na = nb;
                if (fflush(stdout) != 0)
                        break;
        }
        samples_free(a, na);
        return 0;
}
