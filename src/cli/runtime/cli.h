/* The moat-runtime command line: global options and one function per subcommand. */
#ifndef MOAT_RUNTIME_CLI_H
#define MOAT_RUNTIME_CLI_H

#include <getopt.h>

#include "runtime/runtime.h"
#include "util/log.h"

struct cli {
        struct moat_runtime rt;
        const char *prog;
        int argc;    /* the whole command line, for re-executing from the sealed copy */
        char **argv;
};
/* Re-execute from a sealed copy of the runtime (runtime/sealed.h); returns only when already
 * sealed (0) or on failure (the exit code, error printed). */
int cli_ensure_sealed(struct cli *c);

/* Report an error the way runc callers expect: to stderr and, with --log, to the log. Returns 1. */
int cli_fail(const struct moat_error *err);
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exactly one positional argument, the container id. */
int cli_one_id(int argc, char **argv, const char *cmd, const char **id);
/* Read a JSON document from a file path or "-" for stdin (bounded). */
int cli_read_json(const char *path, json_t **out, struct moat_error *err);

int cmd_create(struct cli *c, int argc, char **argv);
int cmd_start(struct cli *c, int argc, char **argv);
int cmd_run(struct cli *c, int argc, char **argv);
int cmd_state(struct cli *c, int argc, char **argv);
int cmd_kill(struct cli *c, int argc, char **argv);
int cmd_delete(struct cli *c, int argc, char **argv);
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_ps(struct cli *c, int argc, char **argv);
int cmd_exec(struct cli *c, int argc, char **argv);
int cmd_pause(struct cli *c, int argc, char **argv);
int cmd_resume(struct cli *c, int argc, char **argv);
int cmd_update(struct cli *c, int argc, char **argv);
int cmd_spec(struct cli *c, int argc, char **argv);
int cmd_features(struct cli *c, int argc, char **argv);

#endif
