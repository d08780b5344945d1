/* moat version [--format json]: docker's Client/Server sections. There is no daemon: the "server"
 * is the engine library inside this process, so both sections describe the same build. */
#include "container.h"
#include "config.h"

int cmd_version(int argc, char **argv)
{
        bool json;
        int rc = cli_format_only(argc, argv, "version", "Show the Moat version information", &json);
        if (rc >= 0)
                return rc;
        struct moat_error err;
        json_t *server;
        if (moat_engine_version(&server, &err) < 0)
                return cli_fail(&err);
        json_t *client = json_pack("{s:{s:s},s:s,s:s,s:s,s:s,s:s,s:s}", "Platform", "Name", "Moat", "Version",
                                   MOAT_VERSION, "GitCommit", MOAT_COMMIT, "Os", "linux", "Arch",
                                   json_string_value(json_object_get(server, "Arch")), "Compiler",
                                   json_string_value(json_object_get(server, "Compiler")), "Context", "daemonless");
        if (json) {
                json_t *doc = json_pack("{s:o,s:o}", "Client", client, "Server", server);
                char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
                printf("%s\n", s);
                free(s);
                json_decref(doc);
                return 0;
        }
        const char *arch = json_string_value(json_object_get(server, "Arch"));
        printf("Client:\n");
        printf(" Version:           %s\n", MOAT_VERSION);
        printf(" API version:       none (daemonless: the engine runs inside moat)\n");
        printf(" Git commit:        %s\n", MOAT_COMMIT);
        printf(" Compiler:          %s\n", json_string_value(json_object_get(client, "Compiler")));
        printf(" OS/Arch:           linux/%s\n", arch);
        printf(" Context:           daemonless\n\n");
        printf("Server: %s\n", json_string_value(json_object_get(json_object_get(server, "Platform"), "Name")));
        size_t i;
        json_t *comp;
        json_array_foreach(json_object_get(server, "Components"), i, comp)
        {
                const char *name = json_string_value(json_object_get(comp, "Name"));
                printf(" %s:\n", name);
                printf("  %-17s%s\n", "Version:", json_string_value(json_object_get(comp, "Version")));
                if (i == 0) {
                        printf("  %-17s%s\n", "Git commit:", MOAT_COMMIT);
                        printf("  %-17s%s\n", "Compiler:", json_string_value(json_object_get(server, "Compiler")));
                        printf("  %-17slinux/%s\n", "OS/Arch:", arch);
                        printf("  %-17s%s\n", "Kernel Version:", json_string_value(json_object_get(server, "KernelVersion")));
                }
        }
        json_decref(client);
        json_decref(server);
        return 0;
}
