/* common: helpers every verb uses — opening the store under --root, showing errors, registry
 * options from the global flags, and the progress display. */
#include <sys/ioctl.h>

#include "moat.h"

int cli_open_store(struct moat_image_store **s)
{
        struct moat_error err;
        if (moat_image_store_open(cli.root, s, &err) < 0)
                return cli_fail(&err);
        return 0;
}

int cli_fail(const struct moat_error *err)
{
        fprintf(stderr, "moat: %s\n", err->msg[0] ? err->msg : "unknown error");
        return 1;
}

/* "image mount IMAGE ..." -> "image mount": the leading lower-case words */
static int verb_len(const char *usage)
{
        const char *p = usage, *end = usage;
        while (*p >= 'a' && *p <= 'z') {
                while ((*p >= 'a' && *p <= 'z') || *p == '_')
                        p++;
                end = p;
                if (*p != ' ')
                        break;
                p++;
        }
        return (int) (end - usage);
}

int cli_usage(const char *usage)
{
        fprintf(stderr, "Usage: moat %s\n\nSee 'moat %.*s --help'.\n", usage, verb_len(usage), usage);
        return 125;
}

int cli_args(const char *usage, const char *need)
{
        fprintf(stderr, "moat: '%.*s' %s\n\nUsage: moat %s\n\nSee 'moat %.*s --help'.\n", verb_len(usage), usage,
                need, usage, verb_len(usage), usage);
        return 1;
}

int cli_help(const char *usage)
{
        printf("Usage: moat %s\n", usage);
        return 0;
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts, int *longindex)
{
        /* getopt_long's "-" mode hands back each argument in place (as option 1) whatever
         * POSIXLY_CORRECT says; they are kept here and moved in front of those after "--" at the end */
        static char **args;
        static int nargs;
        char opts[64];
        snprintf(opts, sizeof opts, "-%s", shortopts);
        if (optind <= 1) /* a new scan: no argument can have been passed yet */
                nargs = 0;
        int c;
        while ((c = getopt_long(argc, argv, opts, longopts, longindex)) == 1) {
                args = xrealloc(args, sizeof *args * (size_t) (nargs + 1));
                args[nargs++] = optarg;
        }
        if (c == -1) {
                /* argv[1, optind) held the flags, the arguments and "--": room for the arguments */
                for (int i = 0; i < nargs; i++)
                        argv[optind - nargs + i] = args[i];
                optind -= nargs;
                nargs = 0;
        }
        return c;
}

int cli_no_options(int *argc, char **argv, const char *usage)
{
        optind = 1;
        for (int i = 1; i < *argc; i++) {
                if (streq(argv[i], "--")) { /* ends the flags, and is no argument */
                        memmove(argv + i, argv + i + 1, sizeof *argv * (size_t) (*argc - i));
                        (*argc)--;
                        break;
                }
                if (streq(argv[i], "--help") || streq(argv[i], "-h"))
                        return cli_help(usage);
                if (argv[i][0] == '-' && argv[i][1]) {
                        fprintf(stderr, "moat: unknown flag: %s\n", argv[i]);
                        return cli_usage(usage);
                }
        }
        return -1;
}

void cli_strv_add(char ***v, size_t *n, const char *s)
{
        *v = xrealloc(*v, sizeof(char *) * (*n + 2));
        (*v)[(*n)++] = xstrdup(s);
        (*v)[*n] = NULL;
}

void cli_registry_opts(struct moat_registry_opts *o)
{
        memset(o, 0, sizeof *o);
        o->insecure = cli.insecure;
        o->certs_dir = cli.certs_dir;
        o->auth_file = cli.auth_file;
}

static char *human(int64_t n, double base, const char *const *units, size_t nunits, int precision)
{
        double v = (double) n;
        size_t u = 0;
        while (v >= base && u + 1 < nunits) {
                v /= base;
                u++;
        }
        return u == 0 ? xasprintf("%lldB", (long long) n) : xasprintf("%.*g%s", precision, v, units[u]);
}

char *cli_human_size(int64_t n)
{
        static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
        return human(n, 1000, units, ARRAY_SIZE(units), 3);
}

char *cli_human_bytes(int64_t n)
{
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        return human(n, 1024, units, ARRAY_SIZE(units), 4);
}

char *cli_repo_tag(const char *name, const char **tag)
{
        char *fam = moat_image_ref_familiar(name);
        char *sep = strrchr(fam, '@');
        if (!sep) {
                char *slash = strrchr(fam, '/');
                sep = strrchr(slash ? slash : fam, ':');
        }
        *tag = "<none>";
        if (sep) {
                *tag = sep + 1;
                *sep = '\0';
        }
        return fam;
}

/* columns on the screen: UTF-8 continuation bytes take none ("…" is three bytes, one column) */
static size_t width(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                n += ((unsigned char) *s & 0xc0) != 0x80;
        return n;
}

void cli_table(char ***rows, size_t nrows, size_t ncols)
{
        size_t *w = XNEW(size_t, ncols);
        for (size_t k = 0; k < ncols; k++)
                w[k] = 10;
        for (size_t r = 0; r < nrows; r++)
                for (size_t k = 0; k < ncols; k++) {
                        size_t l = width(rows[r][k]) + 3;
                        if (l > w[k])
                                w[k] = l;
                }
        for (size_t r = 0; r < nrows; r++) {
                for (size_t k = 0; k < ncols; k++) {
                        if (k + 1 < ncols)
                                printf("%s%*s", rows[r][k], (int) (w[k] - width(rows[r][k])), "");
                        else
                                printf("%s\n", rows[r][k]);
                }
        }
        free(w);
}

void cli_table_free(char ***rows, size_t nrows, size_t ncols)
{
        for (size_t r = 0; r < nrows; r++) {
                for (size_t k = 0; k < ncols; k++)
                        free(rows[r][k]);
                free(rows[r]);
        }
        free(rows);
}

struct bar {
        char digest[MOAT_DIGEST_LEN + 1];
        enum moat_progress_state st;
        uint64_t done, total;
};

struct cli_progress {
        bool quiet, tty;
        struct bar *bars;
        size_t n, drawn;
        uint64_t last_draw;
};

struct cli_progress *cli_progress_new(bool quiet)
{
        struct cli_progress *p = XNEW(struct cli_progress, 1);
        p->quiet = quiet;
        p->tty = isatty(STDERR_FILENO);
        return p;
}

static const char *state_name(enum moat_progress_state st)
{
        switch (st) {
        case MOAT_PROGRESS_WAIT: return "Waiting";
        case MOAT_PROGRESS_RUN: return "Transferring";
        case MOAT_PROGRESS_EXISTS: return "Already exists";
        case MOAT_PROGRESS_DONE: return "Complete";
        case MOAT_PROGRESS_UNPACK: return "Unpacking";
        case MOAT_PROGRESS_RETRY: return "Retrying";
        }
        return "";
}

static void redraw(struct cli_progress *p)
{
        if (p->drawn)
                fprintf(stderr, "\033[%zuA", p->drawn);
        for (size_t i = 0; i < p->n; i++) {
                struct bar *b = &p->bars[i];
                char line[64] = "";
                if (b->st == MOAT_PROGRESS_RUN && b->total) {
                        int w = 30, f = (int) ((double) b->done / (double) b->total * w);
                        if (f > w)
                                f = w;
                        line[0] = '[';
                        for (int k = 0; k < w; k++)
                                line[1 + k] = k < f ? '=' : (k == f ? '>' : ' ');
                        line[1 + w] = ']';
                        line[2 + w] = '\0';
                }
                _cleanup_free_ char *d = cli_human_size((int64_t) b->done), *t = cli_human_size((int64_t) b->total);
                fprintf(stderr, "\033[2K%.12s: %-14s %s %s/%s\n", b->digest + 7, state_name(b->st), line,
                        b->st == MOAT_PROGRESS_RUN ? d : "", b->st == MOAT_PROGRESS_RUN ? t : "");
        }
        p->drawn = p->n;
}

static void on_progress(void *ud, const char *digest, enum moat_progress_state st, uint64_t done, uint64_t total)
{
        struct cli_progress *p = ud;
        if (p->quiet)
                return;
        struct bar *b = NULL;
        for (size_t i = 0; i < p->n; i++)
                if (streq(p->bars[i].digest, digest))
                        b = &p->bars[i];
        if (!b) {
                p->bars = xrealloc(p->bars, sizeof *b * (p->n + 1));
                b = &p->bars[p->n++];
                memset(b, 0, sizeof *b);
                snprintf(b->digest, sizeof b->digest, "%s", digest);
        }
        bool changed = b->st != st;
        b->st = st;
        if (total)
                b->total = total;
        b->done = done;
        if (p->tty) {
                uint64_t now = moat_now_ns();
                if (changed || now - p->last_draw > 100000000ull) {
                        redraw(p);
                        p->last_draw = now;
                }
        } else if (changed) {
                fprintf(stderr, "%.12s: %s\n", digest + 7, state_name(st));
        }
}

void cli_progress_attach(struct cli_progress *p, struct moat_registry_opts *o)
{
        o->progress = on_progress;
        o->progress_ud = p;
}

void cli_progress_free(struct cli_progress *p)
{
        if (p && p->tty && p->n)
                redraw(p);
        if (p)
                free(p->bars);
        free(p);
}
