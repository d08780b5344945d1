/* moat info [--format json|'{{json .}}']: docker's system-wide information, from the engine. */
#include <ctype.h>

#include "container.h"
#include "config.h"

/* docker's --format spellings of "the whole document as JSON"; other templates are refused */
int cli_format_json(const char *verb, const char *fmt, bool *json)
{
        if (!fmt || !*fmt) {
                *json = false;
                return 0;
        }
        if (streq(fmt, "json") || streq(fmt, "{{json .}}") || streq(fmt, "{{ json . }}")) {
                *json = true;
                return 0;
        }
        fprintf(stderr, "moat: %s --format %s is not supported yet: only json and '{{json .}}'\n", verb, fmt);
        return 125;
}

int cli_format_only(int argc, char **argv, const char *verb, const char *what, bool *json)
{
        static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
                                              { "help", no_argument, NULL, 'h' }, {} };
        char usage[64];
        snprintf(usage, sizeof usage, "%s [-f|--format json]", verb);
        const char *fmt = NULL;
        int c;
        while ((c = cli_getopt(argc, argv, "f:h", opts, NULL)) != -1) {
                switch (c) {
                case 'f': fmt = optarg; break;
                case 'h': return printf("Usage: moat %s\n\n%s\n", usage, what), 0;
                default: return cli_usage(usage);
                }
        }
        if (optind != argc)
                return cli_args(usage, "accepts no arguments");
        int rc = cli_format_json(verb, fmt, json);
        return rc ? rc : -1;
}

static const char *str(json_t *o, const char *k)
{
        const char *s = json_string_value(json_object_get(o, k));
        return s ? s : "";
}

static long long num(json_t *o, const char *k)
{
        return (long long) json_integer_value(json_object_get(o, k));
}

static void text(json_t *d)
{
        printf("Client:\n Version:    %s\n Context:    daemonless (the engine runs inside moat)\n Debug Mode: false\n\n",
               MOAT_VERSION);
        printf("Server:\n");
        printf(" Containers: %lld\n  Running: %lld\n  Paused: %lld\n  Stopped: %lld\n", num(d, "Containers"),
               num(d, "ContainersRunning"), num(d, "ContainersPaused"), num(d, "ContainersStopped"));
        printf(" Images: %lld\n", num(d, "Images"));
        printf(" Server Version: %s\n", str(d, "ServerVersion"));
        printf(" Storage Driver: %s\n", str(d, "Driver"));
        size_t i;
        json_t *kv;
        json_array_foreach(json_object_get(d, "DriverStatus"), i, kv)
                printf("  %s: %s\n", json_string_value(json_array_get(kv, 0)), json_string_value(json_array_get(kv, 1)));
        printf(" Logging Driver: %s\n", str(d, "LoggingDriver"));
        printf(" Cgroup Driver: %s\n", str(d, "CgroupDriver"));
        printf(" Cgroup Version: %s\n", str(d, "CgroupVersion"));
        const char *rt;
        json_t *v;
        printf(" Runtimes:");
        json_object_foreach(json_object_get(d, "Runtimes"), rt, v)
                printf(" %s", rt);
        printf("\n Default Runtime: %s\n", str(d, "DefaultRuntime"));
        printf(" Security Options:\n");
        json_array_foreach(json_object_get(d, "SecurityOptions"), i, v)
        {
                /* "name=seccomp,profile=default" -> "  seccomp" and "   Profile: default" */
                _cleanup_free_ char *s = xstrdup(json_string_value(v) ? json_string_value(v) : "");
                char *save = NULL;
                for (char *kvs = strtok_r(s, ",", &save); kvs; kvs = strtok_r(NULL, ",", &save)) {
                        char *eq = strchr(kvs, '=');
                        if (!eq)
                                continue;
                        *eq = '\0';
                        if (streq(kvs, "name"))
                                printf("  %s\n", eq + 1);
                        else if (streq(kvs, "abi"))
                                printf("   ABI: %s\n", eq + 1);
                        else
                                printf("   %c%s: %s\n", toupper((unsigned char) kvs[0]), kvs + 1, eq + 1);
                }
        }
        printf(" Kernel Version: %s\n", str(d, "KernelVersion"));
        printf(" Operating System: %s\n", str(d, "OperatingSystem"));
        printf(" OSType: %s\n", str(d, "OSType"));
        printf(" Architecture: %s\n", str(d, "Architecture"));
        printf(" CPUs: %lld\n", num(d, "NCPU"));
        _cleanup_free_ char *mem = cli_human_bytes(num(d, "MemTotal"));
        printf(" Total Memory: %s\n", mem);
        printf(" Name: %s\n", str(d, "Name"));
        printf(" Moat Root Dir: %s\n", str(d, "DockerRootDir"));
        printf(" Debug Mode: false\n");
        printf(" Live Restore Enabled: %s\n", json_is_true(json_object_get(d, "LiveRestoreEnabled")) ? "true" : "false");
}

int cmd_info(int argc, char **argv)
{
        bool json;
        int rc = cli_format_only(argc, argv, "info", "Display system-wide information", &json);
        if (rc >= 0)
                return rc;
        _cleanup_engine_ struct moat_engine *e = NULL;
        if (cli_open_engine(&e))
                return 1;
        struct moat_error err;
        json_t *d;
        if (moat_engine_info(e, &d, &err) < 0)
                return cli_fail(&err);
        if (json) {
                char *s = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
                printf("%s\n", s);
                free(s);
        } else
                text(d);
        json_decref(d);
        return 0;
}
