/* moat image SUBCOMMAND: the docker-style "image" group, dispatching to the verbs. */
#include "moat.h"

int cmd_image(int argc, char **argv)
{
        static const struct {
                const char *name;
                int (*fn)(int, char **);
        } subs[] = {
                { "ls", cmd_images }, { "list", cmd_images }, { "inspect", cmd_inspect }, { "rm", cmd_rmi },
                { "prune", cmd_prune }, { "history", cmd_history }, { "tag", cmd_tag }, { "pull", cmd_pull },
                { "push", cmd_push }, { "load", cmd_load }, { "save", cmd_save }, { "import", cmd_import },
                { "mount", cmd_mount }, { "unmount", cmd_unmount }, { "umount", cmd_unmount },
        };
        static const char usage[] = "image ls|inspect|rm|prune|history|tag|pull|push|load|save|import|mount|unmount ...";
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                fprintf(argc < 2 ? stderr : stdout, "Usage: moat %s\n", usage);
                return 0; /* docker shows a command group's help, without a subcommand too */
        }
        for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
                if (streq(argv[1], subs[i].name)) {
                        optind = 0;
                        return subs[i].fn(argc - 1, argv + 1);
                }
        fprintf(stderr, "moat: unknown command: moat image %s\n\nSee 'moat image --help'.\n", argv[1]);
        return 1;
}
