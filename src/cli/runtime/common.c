/* Helpers shared by the moat-runtime subcommands: error reporting, ids, signals, JSON input. */
#include "cli.h"
#include "runtime/sealed.h"

#include <signal.h>
#include <stdarg.h>

int cli_fail(const struct moat_error *err)
{
        /* with --log the caller (containerd) reads the log; the terminal user reads stderr */
        if (moat_log_fd() != 2)
                moat_log(MOAT_LOG_ERROR, "%s", err->msg);
        fprintf(stderr, "moat-runtime: %s\n", err->msg);
        return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (moat_log_fd() != 2)
                moat_log(MOAT_LOG_ERROR, "%s", msg);
        if (cmd)
                fprintf(stderr, "moat-runtime %s: %s\n", cmd, msg);
        else
                fprintf(stderr, "moat-runtime: %s\n", msg);
        return 1;
}

int cli_one_id(int argc, char **argv, const char *cmd, const char **id)
{
        if (optind >= argc)
                return cli_usage_error(cmd, "requires exactly 1 argument: the container id");
        if (argc - optind > 1)
                return cli_usage_error(cmd, "requires exactly 1 argument, got %d", argc - optind);
        *id = argv[optind];
        return 0;
}

int cli_read_json(const char *path, json_t **out, struct moat_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = moat_read_file(streq(path, "-") ? "/dev/stdin" : path, 8u << 20, &buf, &len, err);
        if (r < 0)
                return r;
        json_error_t jerr;
        *out = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!*out)
                return moat_error_set(err, 0, "%s: invalid JSON at line %d column %d: %s", path, jerr.line,
                                      jerr.column, jerr.text);
        return 0;
}

int cli_ensure_sealed(struct cli *c)
{
        struct moat_error err;
        moat_error_clear(&err);
        if (moat_runtime_ensure_sealed(c->argc, c->argv, &err) < 0)
                return cli_fail(&err);
        return 0;
}
