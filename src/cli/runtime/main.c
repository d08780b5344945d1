/* moat-runtime: an OCI runtime with runc's command line, so containerd, CRI-O, podman and
 * dockerd can use it. Global options, then one subcommand; everything else is in libmoat. */
#include "config.h"
#include "cli.h"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>

static const struct {
        const char *name;
        int (*fn)(struct cli *, int, char **);
        const char *help;
} commands[] = {
        { "create", cmd_create, "create a container" },
        { "start", cmd_start, "start a created container" },
        { "run", cmd_run, "create and start a container" },
        { "state", cmd_state, "print the OCI state of a container" },
        { "kill", cmd_kill, "send a signal to a container's init (or all its processes)" },
        { "delete", cmd_delete, "delete a container and everything it holds" },
        { "list", cmd_list, "list containers" },
        { "ps", cmd_ps, "list the processes of a container" },
        { "exec", cmd_exec, "run a new process inside a container" },
        { "pause", cmd_pause, "freeze every process of a container" },
        { "resume", cmd_resume, "thaw a paused container" },
        { "update", cmd_update, "change the resource limits of a container" },
        { "spec", cmd_spec, "write Moat's default config.json" },
        { "features", cmd_features, "print the OCI features document" },
};

static void usage(FILE *f)
{
        fprintf(f, "usage: moat-runtime [global options] COMMAND [options] [ARGS]\n\n"
                   "An OCI runtime with runc's command line.\n\nCommands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
        fprintf(f, "\nGlobal options:\n"
                   "  --root DIR              state directory (default " MOAT_RUNTIME_DEFAULT_ROOT ")\n"
                   "  --log FILE              write diagnostics to FILE (default stderr)\n"
                   "  --log-format text|json  format of --log lines (default text)\n"
                   "  --debug                 log debug messages\n"
                   "  --cgroup-manager cgroupfs|disabled\n"
                   "                          how cgroups are managed (systemd is not supported)\n"
                   "  --systemd-cgroup        refused: no systemd cgroup manager\n"
                   "  --rootless false|auto   accepted for compatibility; true is refused\n"
                   "  -v, --version           print the version\n"
                   "  -h, --help              this text\n");
}

static void version(void)
{
        printf("moat-runtime version %s\ncommit: %s\nspec: 1.2.0\n+SECCOMP\n+CGROUPV1\n+CGROUPV2\n+USERNS\n"
               "libseccomp: %s\n",
               MOAT_VERSION, MOAT_COMMIT, MOAT_LIBSECCOMP_VERSION);
}

int main(int argc, char **argv)
{
        struct cli c = { .rt = { .root = MOAT_RUNTIME_DEFAULT_ROOT }, .prog = "moat-runtime", .argc = argc, .argv = argv };
        const char *log_path = NULL, *log_format = "text";
        bool debug = false;
        enum { O_ROOT = 256, O_LOG, O_LOGFMT, O_DEBUG, O_SYSTEMD, O_CGMGR, O_ROOTLESS, O_CRIU };
        static const struct option opts[] = {
                { "root", required_argument, NULL, O_ROOT },
                { "log", required_argument, NULL, O_LOG },
                { "log-format", required_argument, NULL, O_LOGFMT },
                { "debug", no_argument, NULL, O_DEBUG },
                { "systemd-cgroup", no_argument, NULL, O_SYSTEMD },
                { "cgroup-manager", required_argument, NULL, O_CGMGR },
                { "rootless", required_argument, NULL, O_ROOTLESS },
                { "criu", required_argument, NULL, O_CRIU },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        int o;
        opterr = 0;
        while ((o = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
                switch (o) {
                case O_ROOT: c.rt.root = optarg; break;
                case O_LOG: log_path = optarg; break;
                case O_LOGFMT:
                        if (!streq(optarg, "text") && !streq(optarg, "json"))
                                return cli_usage_error(NULL, "--log-format: \"%s\" is not text or json", optarg);
                        log_format = optarg;
                        break;
                case O_DEBUG: debug = true; break;
                case O_SYSTEMD:
                        return cli_usage_error(NULL, "--systemd-cgroup: the systemd cgroup manager is not supported "
                                                     "(no systemd here); use --cgroup-manager cgroupfs");
                case O_CGMGR:
                        if (streq(optarg, "systemd"))
                                return cli_usage_error(NULL, "--cgroup-manager systemd: not supported (no systemd "
                                                             "here); use cgroupfs");
                        if (streq(optarg, "disabled"))
                                c.rt.cgroups_disabled = true;
                        else if (!streq(optarg, "cgroupfs"))
                                return cli_usage_error(NULL, "--cgroup-manager: \"%s\" is not cgroupfs or disabled",
                                                       optarg);
                        break;
                case O_ROOTLESS:
                        /* false and auto describe what we do (no rootless special cases); true asks
                         * for cgroup permission errors to be ignored, which we never do */
                        if (streq(optarg, "true"))
                                return cli_usage_error(NULL, "--rootless true: not supported (cgroup errors are "
                                                             "never ignored); use false or auto");
                        if (!streq(optarg, "false") && !streq(optarg, "auto"))
                                return cli_usage_error(NULL, "--rootless: \"%s\" is not true, false or auto", optarg);
                        break;
                case O_CRIU:
                        return cli_usage_error(NULL, "--criu: checkpoint/restore is not supported");
                case 'v': version(); return 0;
                case 'h': usage(stdout); return 0;
                default:
                        return cli_usage_error(NULL, "unknown global option \"%s\"", argv[optind - 1]);
                }
        }
        int logfd = -1;
        if (log_path) {
                logfd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
                if (logfd < 0) {
                        fprintf(stderr, "moat-runtime: open log %s: %s\n", log_path, strerror(errno));
                        return 1;
                }
        }
        moat_log_setup(logfd, streq(log_format, "json"), debug ? MOAT_LOG_DEBUG : MOAT_LOG_WARN);
        if (optind >= argc) {
                usage(stderr);
                return 1;
        }
        const char *cmd = argv[optind];
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (streq(cmd, commands[i].name)) {
                        /* the subcommand sees argv[0] = its own name; optind = 0 resets getopt */
                        int sub = optind;
                        optind = 0;
                        /* exec puts a process into a container whose processes already run: they
                         * must not find the runtime on disk through /proc/<pid>/exe */
                        if (commands[i].fn == cmd_exec) {
                                int rc = cli_ensure_sealed(&c);
                                if (rc)
                                        return rc;
                        }
                        return commands[i].fn(&c, argc - sub, argv + sub);
                }
        if (streq(cmd, "help")) {
                usage(stdout);
                return 0;
        }
        if (streq(cmd, "checkpoint") || streq(cmd, "restore") || streq(cmd, "events"))
                return cli_usage_error(NULL, "\"%s\" is not supported by moat-runtime", cmd);
        return cli_usage_error(NULL, "unknown command \"%s\"", cmd);
}
