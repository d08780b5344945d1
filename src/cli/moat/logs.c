/* moat logs [-f] [--tail N] [-t] [--since T] [--until T] CONTAINER */
#include <time.h>

#include "container.h"

/* docker's --since/--until: RFC3339 (local without a zone), unix seconds[.fraction], or a
 * duration back from now */
static int parse_time(const char *flag, const char *v, int64_t *out)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if (moat_parse_timestamp(v, (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec, out) == 0 && *out >= 0)
                return 0;
        fprintf(stderr, "moat: invalid value for \"%s\": failed to parse \"%s\" as a time (RFC3339, e.g. "
                        "2024-05-01T10:00:00Z), unix seconds or a duration (e.g. 10m, 1h30m)\n", flag, v);
        return -1;
}

/* the engine's lines, printed as docker prints them: "TIME " first with -t */
static int print_line(void *ud, int stream, const char *time, const char *line, size_t len)
{
        (void) ud;
        int fd = stream == 2 ? STDERR_FILENO : STDOUT_FILENO;
        if (time) {
                (void) moat_write_all(fd, time, strlen(time));
                (void) moat_write_all(fd, " ", 1);
        }
        (void) moat_write_all(fd, line, len);
        return 0;
}

int cmd_logs(int argc, char **argv)
{
        static const struct option opts[] = {
                { "follow", no_argument, NULL, 'f' }, { "tail", required_argument, NULL, 'n' },
                { "timestamps", no_argument, NULL, 't' }, { "since", required_argument, NULL, 's' },
                { "until", required_argument, NULL, 'u' }, { "help", no_argument, NULL, 'h' }, {},
        };
        static const char usage[] = "logs [-f] [-n|--tail N|all] [-t] [--since T] [--until T] CONTAINER";
        struct moat_engine_logs_opts o = { .tail = -1, .fn = print_line };
        int c;
        while ((c = cli_getopt(argc, argv, "fn:t", opts, NULL)) != -1) {
                long long v;
                switch (c) {
                case 'f': o.follow = true; break;
                case 't': o.timestamps = true; break;
                case 'n':
                        if (streq(optarg, "all"))
                                o.tail = -1;
                        else if (moat_parse_int64(optarg, &v) == 0 && v >= 0)
                                o.tail = (long) v;
                        else {
                                fprintf(stderr, "moat: invalid value for \"tail\": %s\n", optarg);
                                return cli_usage(usage);
                        }
                        break;
                case 's':
                        if (parse_time("since", optarg, &o.since) < 0)
                                return 125;
                        break;
                case 'u':
                        if (parse_time("until", optarg, &o.until) < 0)
                                return 125;
                        break;
                case 'h': return cli_help(usage);
                default: return cli_usage(usage);
                }
        }
        if (argc - optind != 1)
                return cli_args(usage, "requires 1 argument");
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        if (moat_engine_logs_ex(e, argv[optind], &o, &err) < 0)
                return cli_fail(&err);
        return 0;
}
