/* moat events [--since T] [--until T] [--filter KEY=VALUE]... [--format '{{json .}}']: the engine's
 * event log, docker's text lines or JSON messages; without --until it follows until interrupted. */
#include <signal.h>

#include "container.h"

static int cmp_key(const void *a, const void *b)
{
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int print_event(void *ud, json_t *msg)
{
        bool json = *(bool *) ud;
        if (json) {
                char *s = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
                printf("%s\n", s);
                free(s);
        } else {
                char t[48];
                moat_format_rfc3339(json_integer_value(json_object_get(msg, "timeNano")), t, sizeof t);
                json_t *actor = json_object_get(msg, "Actor");
                printf("%s %s %s %s (", t, json_string_value(json_object_get(msg, "Type")),
                       json_string_value(json_object_get(msg, "Action")), json_string_value(json_object_get(actor, "ID")));
                /* attributes sorted by key, as docker prints them */
                json_t *attrs = json_object_get(actor, "Attributes");
                size_t n = json_object_size(attrs), k = 0;
                const char **keys = XNEW(const char *, n + 1);
                const char *key;
                json_t *v;
                json_object_foreach(attrs, key, v)
                        keys[k++] = key;
                qsort(keys, k, sizeof *keys, cmp_key);
                for (size_t i = 0; i < k; i++)
                        printf("%s%s=%s", i ? ", " : "", keys[i], json_string_value(json_object_get(attrs, keys[i])));
                free(keys);
                printf(")\n");
        }
        /* a reader that went away (a closed pipe) ends the stream */
        return fflush(stdout) == 0 ? 0 : -1;
}

static void push(char ***v, const char *s)
{
        size_t n = strv_len(*v);
        *v = xrealloc(*v, sizeof(char *) * (n + 2));
        (*v)[n] = xstrdup(s);
        (*v)[n + 1] = NULL;
}

int cmd_events(int argc, char **argv)
{
        enum { O_SINCE = 256, O_UNTIL };
        static const struct option opts[] = { { "since", required_argument, NULL, O_SINCE },
                                              { "until", required_argument, NULL, O_UNTIL },
                                              { "filter", required_argument, NULL, 'f' },
                                              { "format", required_argument, NULL, 'F' },
                                              { "help", no_argument, NULL, 'h' }, {} };
        static const char usage[] = "events [--since TIME] [--until TIME] [-f|--filter container=X|event=Y|type=container]... "
                                    "[--format '{{json .}}']";
        struct moat_events_filter f = { 0 };
        _cleanup_strv_ char **containers = NULL, **actions = NULL, **types = NULL;
        const char *fmt = NULL;
        int64_t now = moat_realtime_ns();
        int c;
        while ((c = cli_getopt(argc, argv, "f:h", opts, NULL)) != -1) {
                switch (c) {
                case O_SINCE: case O_UNTIL: {
                        int64_t t;
                        if (moat_parse_timestamp(optarg, now, &t) < 0) {
                                fprintf(stderr, "moat: invalid --%s %s: use an RFC 3339 time, unix seconds or a "
                                                "duration such as 10m\n", c == O_SINCE ? "since" : "until", optarg);
                                return 125;
                        }
                        /* 0 means unset to the engine: the epoch itself is one nanosecond later */
                        *(c == O_SINCE ? &f.since : &f.until) = t ? t : 1;
                        break;
                }
                case 'f': {
                        const char *eq = strchr(optarg, '=');
                        if (!eq || eq == optarg || !eq[1]) {
                                fprintf(stderr, "moat: bad format of filter (expected name=value): %s\n", optarg);
                                return 125;
                        }
                        if (startswith(optarg, "container="))
                                push(&containers, eq + 1);
                        else if (startswith(optarg, "event="))
                                push(&actions, eq + 1);
                        else if (startswith(optarg, "type=")) {
                                if (!streq(eq + 1, "container")) {
                                        fprintf(stderr, "moat: events --filter %s is not supported yet: Moat records "
                                                        "container events only (type=container)\n", optarg);
                                        return 125;
                                }
                                push(&types, eq + 1);
                        } else {
                                fprintf(stderr, "moat: events --filter %s is not supported yet: only container=, event= "
                                                "and type=container\n", optarg);
                                return 125;
                        }
                        break;
                }
                case 'F': fmt = optarg; break;
                case 'h': return printf("Usage: moat %s\n\nGet real time events from the engine\n", usage), 0;
                default: return cli_usage(usage);
                }
        }
        if (optind != argc)
                return cli_args(usage, "accepts no arguments");
        if (f.since && f.until && f.until < f.since) {
                fprintf(stderr, "moat: --until is before --since\n");
                return 125;
        }
        bool json;
        int rc = cli_format_json("events", fmt, &json);
        if (rc)
                return rc;
        f.containers = containers;
        f.actions = actions;
        f.types = types;
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        signal(SIGPIPE, SIG_IGN);
        struct moat_error err;
        if (moat_engine_events(e, &f, true, print_event, &json, &err) < 0)
                return cli_fail(&err);
        return 0;
}
