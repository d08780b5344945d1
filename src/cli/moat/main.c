/* moat: the user's command line. Global options, then one verb; each verb lives in its own file. */
#include <stdio.h>

#include "config.h"
#include "moat.h"

struct moat_cli cli = { .root = "/var/lib/moat" };

static const struct {
        const char *name;
        int (*fn)(int, char **);
        const char *help;
} verbs[] = {
        { "run", cmd_run, "Create and run a new container from an image" },
        { "create", cmd_create, "Create a new container" },
        { "start", cmd_start, "Start one or more stopped containers" },
        { "stop", cmd_stop, "Stop one or more running containers" },
        { "kill", cmd_kill, "Kill one or more running containers" },
        { "rm", cmd_rm, "Remove one or more containers" },
        { "ps", cmd_ps, "List containers" },
        { "logs", cmd_logs, "Fetch the logs of a container" },
        { "exec", cmd_exec, "Run a command in a running container" },
        { "wait", cmd_wait, "Block until containers stop, then print their exit codes" },
        { "restart", cmd_restart, "Restart one or more containers" },
        { "pause", cmd_pause, "Pause all processes within one or more containers" },
        { "unpause", cmd_unpause, "Unpause all processes within one or more containers" },
        { "rename", cmd_rename, "Rename a container" },
        { "update", cmd_update, "Update the limits and restart policy of one or more containers" },
        { "top", cmd_top, "Display the running processes of a container" },
        { "stats", cmd_stats, "Resource usage of containers (--no-stream)" },
        { "attach", cmd_attach, "Attach to a running container's output (and input with -i)" },
        { "container", cmd_container, "Manage containers (prune, and docker's container VERB spellings)" },
        { "cp", cmd_cp, "Copy files between a container and the host" },
        { "volume", cmd_volume, "Manage named volumes (create, ls, inspect, rm, prune)" },
        { "diff", cmd_diff, "Inspect changes to files or directories on a container's filesystem" },
        { "events", cmd_events, "Get real time events from the engine" },
        { "system", cmd_system, "Manage Moat (df, prune, info, events, restore)" },
        { "info", cmd_info, "Display system-wide information" },
        { "version", cmd_version, "Show the Moat version information" },
        { "inspect", cmd_inspect_any, "Return low-level information on containers or images" },
        { "pull", cmd_pull, "Pull an image from a registry" },
        { "push", cmd_push, "Push an image to a registry" },
        { "images", cmd_images, "List images" },
        { "image", cmd_image, "Manage images (ls, inspect, rm, prune, history, tag, mount, unmount)" },
        { "tag", cmd_tag, "Create a tag TARGET that refers to SOURCE" },
        { "rmi", cmd_rmi, "Remove one or more images" },
        { "history", cmd_history, "Show the history of an image" },
        { "load", cmd_load, "Load images from a docker-archive, an OCI layout tarball or directory" },
        { "save", cmd_save, "Save images to a docker-archive tarball" },
        { "import", cmd_import, "Import a rootfs tarball as a one-layer image" },
        { "login", cmd_login, "Log in to a registry" },
        { "logout", cmd_logout, "Log out from a registry" },
};

static void usage(FILE *f)
{
        fprintf(f, "Usage: moat [--root DIR] [--insecure-registry HOST[:PORT]]... [--certs-dir DIR] [--auth-file FILE] COMMAND\n\n"
                   "Commands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
                fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].help);
        fprintf(f, "\nRun 'moat COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "root", required_argument, NULL, 'r' },
                { "insecure-registry", required_argument, NULL, 'i' },
                { "certs-dir", required_argument, NULL, 'c' },
                { "auth-file", required_argument, NULL, 'a' },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *env;
        if ((env = getenv("MOAT_ROOT")) && *env)
                cli.root = env;
        cli.insecure = XNEW(char *, 1);
        int c;
        /* "+": the global flags end at the verb, the rest is the verb's */
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
                switch (c) {
                case 'r': cli.root = optarg; break;
                case 'i':
                        cli.insecure = xrealloc(cli.insecure, sizeof(char *) * (cli.n_insecure + 2));
                        cli.insecure[cli.n_insecure++] = optarg;
                        cli.insecure[cli.n_insecure] = NULL;
                        break;
                case 'c': cli.certs_dir = optarg; break;
                case 'a': cli.auth_file = optarg; break;
                case 'v': printf("moat version %s (commit %s)\n", MOAT_VERSION, MOAT_COMMIT); return 0;
                case 'h': usage(stdout); return 0;
                default: fprintf(stderr, "See 'moat --help'.\n"); return 125; /* docker's flag error */
                }
        }
        if (optind >= argc) { /* docker shows its help, and that is not an error */
                usage(stderr);
                return 0;
        }
        const char *verb = argv[optind];
        if (streq(verb, "_sync")) { /* moat-monitor's call back into the engine */
                int vargc = argc - optind;
                char **vargv = argv + optind;
                optind = 0;
                return cmd_sync(vargc, vargv);
        }
        for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
                if (streq(verbs[i].name, verb)) {
                        int vargc = argc - optind;
                        char **vargv = argv + optind;
                        optind = 0; /* reset getopt for the verb */
                        return verbs[i].fn(vargc, vargv);
                }
        }
        fprintf(stderr, "moat: '%s' is not a moat command.\nSee 'moat --help'.\n", verb);
        return 1;
}
