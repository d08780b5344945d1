/* container_opts: docker's run/create flags, mapped onto struct moat_container_opts. Flags Moat
 * does not implement yet are refused by name, never ignored. */
#include <time.h>

#include "container.h"

int cli_each_container(int argc, char **argv, const char *usage, cli_container_op op, const void *arg)
{
        if (optind >= argc)
                return cli_args(usage, "requires at least 1 argument");
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        int rc = 0;
        for (int i = optind; i < argc; i++) {
                struct moat_error err;
                moat_error_clear(&err);
                if (op(e, argv[i], arg, &err) < 0) {
                        fprintf(stderr, "moat: %s\n", err.msg);
                        rc = 1;
                } else
                        printf("%s\n", argv[i]);
        }
        return rc;
}

int cli_each_container_timeout(int argc, char **argv, const char *usage, const struct option *opts,
                               cli_container_op op)
{
        int timeout = -1, c;
        while ((c = cli_getopt(argc, argv, "t:", opts, NULL)) != -1) {
                long long v;
                if (c == 't' && moat_parse_int64(optarg, &v) == 0 && v >= 0 && v <= 86400)
                        timeout = (int) v;
                else
                        return c == 'h' ? cli_help(usage) : cli_usage(usage);
        }
        return cli_each_container(argc, argv, usage, op, &timeout);
}

int cli_attach_stdio(int fd, bool stdin_open, bool tty)
{
        struct moat_attach_io io = { .in_fd = stdin_open ? 0 : -1, .out_fd = 1, .err_fd = 2, .tty = tty };
        return moat_engine_attach_stream(fd, &io);
}

int cli_open_engine(struct moat_engine **e)
{
        struct moat_error err;
        if (moat_engine_open(cli.root, e, &err) < 0)
                return cli_fail125(&err);
        return 0;
}

int cli_fail125(const struct moat_error *err)
{
        fprintf(stderr, "moat: %s\n", err->msg[0] ? err->msg : "unknown error");
        return 125;
}

void cli_humanize(int64_t s, char *buf, size_t len)
{
        if (s < 1)
                snprintf(buf, len, "Less than a second");
        else if (s == 1)
                snprintf(buf, len, "1 second");
        else if (s < 60)
                snprintf(buf, len, "%lld seconds", (long long) s);
        else if (s < 120)
                snprintf(buf, len, "About a minute");
        else if (s < 3600)
                snprintf(buf, len, "%lld minutes", (long long) s / 60);
        else if (s < 7200)
                snprintf(buf, len, "About an hour");
        else if (s < 48 * 3600)
                snprintf(buf, len, "%lld hours", (long long) s / 3600);
        else if (s < 14 * 86400)
                snprintf(buf, len, "%lld days", (long long) s / 86400);
        else if (s < 60 * 86400)
                snprintf(buf, len, "%lld weeks", (long long) s / (7 * 86400));
        else if (s < 2 * 365 * 86400)
                snprintf(buf, len, "%lld months", (long long) s / (30 * 86400));
        else
                snprintf(buf, len, "%lld years", (long long) s / (365 * 86400));
}

static void push(char ***v, const char *s)
{
        size_t n = strv_len(*v);
        *v = xrealloc(*v, sizeof(char *) * (n + 2));
        (*v)[n] = xstrdup(s);
        (*v)[n + 1] = NULL;
}

static int read_env_file(struct cli_run *r, const char *path)
{
        struct moat_error err;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        if (moat_read_file(path, 1 << 20, &buf, &len, &err) < 0) {
                fprintf(stderr, "moat: --env-file: %s\n", err.msg);
                return -1;
        }
        char *save = NULL;
        for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                while (*l == ' ' || *l == '\t')
                        l++;
                size_t n = strlen(l);
                if (n && l[n - 1] == '\r')
                        l[n - 1] = '\0';
                if (!*l || *l == '#')
                        continue;
                push(&r->env, l);
        }
        return 0;
}

static int refuse(const char *flag, const char *why)
{
        fprintf(stderr, "moat: %s is not supported yet%s%s\n", flag, why ? ": " : "", why ? why : "");
        return -1;
}

int cli_parse_limit(int which, const char *arg, int64_t *memory, int64_t *memory_swap, double *cpus,
                    uint64_t *cpu_shares, int64_t *pids_limit)
{
        switch (which) {
        case 'm':
                if (moat_parse_bytes(arg, memory) < 0 || *memory < 6 * 1024 * 1024) {
                        fprintf(stderr, "moat: invalid -m %s (at least 6m)\n", arg);
                        return -1;
                }
                return 0;
        case 'S':
                if (streq(arg, "-1"))
                        *memory_swap = -1;
                else if (moat_parse_bytes(arg, memory_swap) < 0 || *memory_swap == 0) {
                        fprintf(stderr, "moat: invalid --memory-swap %s\n", arg);
                        return -1;
                }
                return 0;
        case 'C': {
                char *end;
                *cpus = strtod(arg, &end);
                if (*end || end == arg || !(*cpus > 0) || *cpus > 1024) {
                        fprintf(stderr, "moat: invalid --cpus %s\n", arg);
                        return -1;
                }
                return 0;
        }
        case 'c': {
                unsigned long long v;
                if (moat_parse_uint64(arg, &v) < 0 || v < 2 || v > 262144) {
                        fprintf(stderr, "moat: invalid --cpu-shares %s (2-262144)\n", arg);
                        return -1;
                }
                *cpu_shares = v;
                return 0;
        }
        default: {
                long long v;
                if (moat_parse_int64(arg, &v) < 0 || v == 0) {
                        fprintf(stderr, "moat: invalid --pids-limit %s\n", arg);
                        return -1;
                }
                *pids_limit = v < 0 ? -1 : v;
                return 0;
        }
        }
}

enum {
        O_RM = 256, O_NAME, O_ENVFILE, O_ENTRYPOINT, O_READONLY, O_TMPFS, O_CPUS, O_PIDS, O_CAPADD, O_CAPDROP,
        O_SECOPT, O_PRIV, O_HOSTNAME, O_NETWORK, O_LABEL, O_RESTART, O_STOPSIG, O_STOPTIMEOUT, O_USERNS,
        O_PUBLISH, O_MOUNT, O_MEMSWAP, O_CPUSHARES, O_ULIMIT, O_DEVICE, O_INIT, O_HEALTH, O_HINTERVAL, O_HTIMEOUT, O_HRETRIES, O_HSTART,
        O_HSTARTINT, O_NOHEALTH, O_LOGDRIVER, O_LOGOPT,
        O_DNS, O_ADDHOST, O_HOSTNS, O_ATTACH, O_PLATFORM, O_PULL, O_SYSCTL, O_GROUPADD, O_VOLUMESFROM, O_CPUSETCPUS,
        O_CPUSETMEMS, O_OTHER,
};

int cli_create_container(int argc, char **argv, bool is_run, const char *usage, struct cli_run *r,
                         struct moat_engine **e, char **id)
{
        int p = cli_run_parse(r, argc, argv, is_run);
        if (p == 1)
                return printf("Usage: moat %s\n", usage), 0;
        int rc = p == 2 ? 1 : p < 0 ? 125 : 0;
        if (!rc && cli_open_engine(e))
                rc = 125;
        struct moat_error err;
        if (!rc && moat_engine_create(*e, &r->o, id, &err) < 0)
                rc = cli_fail125(&err);
        if (!rc)
                return -1;
        cli_run_free(r);
        return rc;
}

int cli_run_parse(struct cli_run *r, int argc, char **argv, bool is_run)
{
        static const struct option opts[] = {
                { "detach", no_argument, NULL, 'd' },
                { "interactive", no_argument, NULL, 'i' },
                { "tty", no_argument, NULL, 't' },
                { "rm", no_argument, NULL, O_RM },
                { "name", required_argument, NULL, O_NAME },
                { "env", required_argument, NULL, 'e' },
                { "env-file", required_argument, NULL, O_ENVFILE },
                { "workdir", required_argument, NULL, 'w' },
                { "user", required_argument, NULL, 'u' },
                { "entrypoint", required_argument, NULL, O_ENTRYPOINT },
                { "read-only", no_argument, NULL, O_READONLY },
                { "tmpfs", required_argument, NULL, O_TMPFS },
                { "memory", required_argument, NULL, 'm' },
                { "cpus", required_argument, NULL, O_CPUS },
                { "pids-limit", required_argument, NULL, O_PIDS },
                { "cap-add", required_argument, NULL, O_CAPADD },
                { "cap-drop", required_argument, NULL, O_CAPDROP },
                { "security-opt", required_argument, NULL, O_SECOPT },
                { "privileged", no_argument, NULL, O_PRIV },
                { "hostname", required_argument, NULL, O_HOSTNAME },
                { "network", required_argument, NULL, O_NETWORK },
                { "net", required_argument, NULL, O_NETWORK },
                { "label", required_argument, NULL, 'l' },
                { "restart", required_argument, NULL, O_RESTART },
                { "stop-signal", required_argument, NULL, O_STOPSIG },
                { "stop-timeout", required_argument, NULL, O_STOPTIMEOUT },
                { "volume", required_argument, NULL, 'v' },
                { "userns", required_argument, NULL, O_USERNS },
                { "publish", required_argument, NULL, 'p' },
                { "publish-all", no_argument, NULL, 'P' },
                { "mount", required_argument, NULL, O_MOUNT },
                { "memory-swap", required_argument, NULL, O_MEMSWAP },
                { "cpu-shares", required_argument, NULL, O_CPUSHARES },
                { "ulimit", required_argument, NULL, O_ULIMIT },
                { "device", required_argument, NULL, O_DEVICE },
                { "init", no_argument, NULL, O_INIT },
                { "health-cmd", required_argument, NULL, O_HEALTH },
                { "health-interval", required_argument, NULL, O_HINTERVAL },
                { "health-timeout", required_argument, NULL, O_HTIMEOUT },
                { "health-retries", required_argument, NULL, O_HRETRIES },
                { "health-start-period", required_argument, NULL, O_HSTART },
                { "health-start-interval", required_argument, NULL, O_HSTARTINT },
                { "no-healthcheck", no_argument, NULL, O_NOHEALTH },
                { "log-driver", required_argument, NULL, O_LOGDRIVER },
                { "log-opt", required_argument, NULL, O_LOGOPT },
                { "dns", required_argument, NULL, O_DNS },
                { "add-host", required_argument, NULL, O_ADDHOST },
                { "pid", required_argument, NULL, O_HOSTNS },
                { "ipc", required_argument, NULL, O_HOSTNS },
                { "uts", required_argument, NULL, O_HOSTNS },
                { "attach", required_argument, NULL, 'a' },
                { "platform", required_argument, NULL, O_PLATFORM },
                { "pull", required_argument, NULL, O_PULL },
                { "sysctl", required_argument, NULL, O_SYSCTL },
                { "group-add", required_argument, NULL, O_GROUPADD },
                { "volumes-from", required_argument, NULL, O_VOLUMESFROM },
                { "cpuset-cpus", required_argument, NULL, O_CPUSETCPUS },
                { "cpuset-mems", required_argument, NULL, O_CPUSETMEMS },
                { "help", no_argument, NULL, 'H' },
                {},
        };
        memset(r, 0, sizeof *r);
        r->o.stop_timeout = -1;
        int c, idx;
        /* "+": the flags end at IMAGE, what follows is the command's (docker's SetInterspersed(false)) */
        while ((c = getopt_long(argc, argv, "+ditv:e:w:u:m:l:p:Pa:", opts, &idx)) != -1) {
                switch (c) {
                case 'd':
                        if (!is_run)
                                return refuse("-d", "create never starts the container");
                        r->detach = true;
                        break;
                case 'i': r->o.interactive = true; break;
                case 't': r->o.tty = true; break;
                case O_RM: r->o.auto_remove = true; break;
                case O_NAME: r->o.name = optarg; break;
                case 'e': push(&r->env, optarg); break;
                case O_ENVFILE:
                        if (read_env_file(r, optarg) < 0)
                                return -1;
                        break;
                case 'w': r->o.workdir = optarg; break;
                case 'u': r->o.user = optarg; break;
                case O_ENTRYPOINT:
                        r->o.entrypoint_set = true;
                        strv_free(r->entrypoint);
                        r->entrypoint = NULL;
                        push(&r->entrypoint, optarg);
                        break;
                case O_READONLY: r->o.read_only = true; break;
                case O_TMPFS: push(&r->tmpfs, optarg); break;
                case 'm': case O_CPUS: case O_PIDS: case O_MEMSWAP: case O_CPUSHARES:
                        if (cli_parse_limit(c == 'm' ? 'm' : c == O_CPUS ? 'C' : c == O_PIDS ? 'P' : c == O_MEMSWAP ? 'S' : 'c',
                                            optarg, &r->o.memory, &r->o.memory_swap, &r->o.cpus, &r->o.cpu_shares,
                                            &r->o.pids_limit) < 0)
                                return -1;
                        break;
                case O_CAPADD: push(&r->cap_add, optarg); break;
                case O_CAPDROP: push(&r->cap_drop, optarg); break;
                case O_SECOPT:
                        if (streq(optarg, "no-new-privileges") || streq(optarg, "no-new-privileges:true") ||
                            streq(optarg, "no-new-privileges=true"))
                                break; /* already Moat's default */
                        if (startswith(optarg, "no-new-privileges"))
                                return refuse(optarg, "no_new_privs is always on (use --privileged to drop every "
                                                      "confinement)");
                        if (startswith(optarg, "seccomp=") || startswith(optarg, "seccomp:")) {
                                r->o.seccomp = optarg + 8;
                                break;
                        }
                        return refuse(optarg, "only no-new-privileges, seccomp=unconfined and seccomp=FILE");
                case O_PRIV: r->o.privileged = true; break;
                case O_HOSTNAME: r->o.hostname = optarg; break;
                case O_NETWORK:
                        if (!streq(optarg, "none") && !streq(optarg, "host"))
                                return refuse(xasprintf("--network %s", optarg),
                                              "only none (the default) and host; bridge networking comes later");
                        r->o.network = optarg;
                        break;
                case 'l': push(&r->labels, optarg); break;
                case O_RESTART: r->o.restart = optarg; break;
                case O_STOPSIG: r->o.stop_signal = optarg; break;
                case O_STOPTIMEOUT: {
                        long long v;
                        if (moat_parse_int64(optarg, &v) < 0 || v < 0 || v > 86400) {
                                fprintf(stderr, "moat: invalid --stop-timeout %s\n", optarg);
                                return -1;
                        }
                        r->o.stop_timeout = (int) v;
                        break;
                }
                case 'v': push(&r->binds, optarg); break;
                case O_USERNS:
                        if (streq(optarg, "host")) {
                                r->o.userns = "host";
                                break;
                        }
                        return refuse(xasprintf("--userns=%s", optarg),
                                      "each container gets a user namespace of its own by default; the only other "
                                      "mode is host");
                case 'p': case 'P': return refuse("-p/--publish", "bridge networking and published ports come later");
                case O_MOUNT: push(&r->mounts, optarg); break;
                case O_DEVICE: push(&r->devices, optarg); break;
                case O_INIT: r->o.init = true; break;
                case O_VOLUMESFROM: push(&r->volumes_from, optarg); break;
                case O_CPUSETCPUS: r->o.cpuset_cpus = optarg; break;
                case O_CPUSETMEMS: r->o.cpuset_mems = optarg; break;
                case O_ULIMIT: push(&r->ulimits, optarg); break;
                case O_HEALTH: r->o.health_cmd = optarg; break;
                case O_HINTERVAL: case O_HTIMEOUT: case O_HSTART: case O_HSTARTINT: {
                        int64_t d;
                        if (moat_parse_duration(optarg, &d) < 0 || d < 0) {
                                fprintf(stderr, "moat: invalid --%s %s: a duration such as 30s, 500ms or 1m30s, not "
                                                "negative\n", opts[idx].name, optarg);
                                return -1;
                        }
                        *(c == O_HINTERVAL ? &r->o.health_interval : c == O_HTIMEOUT ? &r->o.health_timeout
                          : c == O_HSTART ? &r->o.health_start_period : &r->o.health_start_interval) = d;
                        break;
                }
                case O_HRETRIES: {
                        long long v;
                        if (moat_parse_int64(optarg, &v) < 0 || v < 0 || v > 1000000) {
                                fprintf(stderr, "moat: invalid --health-retries %s (a count, not negative)\n", optarg);
                                return -1;
                        }
                        r->o.health_retries = (int) v;
                        break;
                }
                case O_NOHEALTH: r->o.no_healthcheck = true; break;
                case 'a': return refuse("-a/--attach", NULL);
                case 'H': return 1;
                case '?': return -1;
                default:
                        return refuse(xasprintf("--%s", opts[idx].name), NULL);
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "moat: '%s' requires at least 1 argument: IMAGE [COMMAND] [ARG...]\n\n"
                                "See 'moat %s --help'.\n", is_run ? "run" : "create", is_run ? "run" : "create");
                return 2;
        }
        r->o.image = argv[optind++];
        if (optind < argc) {
                char **cmd = NULL;
                for (int i = optind; i < argc; i++)
                        push(&cmd, argv[i]);
                r->o.cmd = cmd;
        }
        r->o.env = r->env;
        r->o.labels = r->labels;
        r->o.ulimits = r->ulimits;
        r->o.cap_add = r->cap_add;
        r->o.cap_drop = r->cap_drop;
        r->o.tmpfs = r->tmpfs;
        r->o.binds = r->binds;
        r->o.volumes_from = r->volumes_from;
        r->o.mounts = r->mounts;
        r->o.devices = r->devices;
        r->o.entrypoint = r->entrypoint;
        return 0;
}

void cli_run_free(struct cli_run *r)
{
        strv_free(r->o.cmd);
        strv_free(r->env);
        strv_free(r->labels);
        strv_free(r->ulimits);
        strv_free(r->cap_add);
        strv_free(r->cap_drop);
        strv_free(r->tmpfs);
        strv_free(r->binds);
        strv_free(r->volumes_from);
        strv_free(r->mounts);
        strv_free(r->devices);
        strv_free(r->entrypoint);
}
