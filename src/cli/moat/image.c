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
        if (argc < 2)
                return cli_usage("image ls|inspect|rm|prune|history|tag|pull|push|load|save|import|mount|unmount ...");
        for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
                if (streq(argv[1], subs[i].name))
                        return subs[i].fn(argc - 1, argv + 1);
        fprintf(stderr, "moat: unknown image command '%s'\n", argv[1]);
        return 2;
}
