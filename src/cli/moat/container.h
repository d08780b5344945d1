/* container: what the container verbs share — the run/create flag parser and engine opening. */
#ifndef MOAT_CLI_CONTAINER_H
#define MOAT_CLI_CONTAINER_H

#include "engine/engine.h"
#include "moat.h"

struct cli_run {
        struct moat_container_opts o;
        bool detach;
        /* owned vectors */
        char **env, **labels, **ulimits, **cap_add, **cap_drop, **tmpfs, **binds, **entrypoint, **mounts, **devices,
                **volumes_from;
};

/* Parse run/create flags and IMAGE [COMMAND [ARG...]]; returns -1 after printing the reason
 * (an exit code of 125 follows), 1 after --help, 2 after printing that IMAGE is missing (docker's
 * exit code 1 follows). */
int cli_run_parse(struct cli_run *r, int argc, char **argv, bool is_run);
void cli_run_free(struct cli_run *r);
/* run and create: parse the flags, open the engine, create the container. -1 when it was created
 * (*e and *id set, r still to be freed by the caller); else the exit code (r freed). */
int cli_create_container(int argc, char **argv, bool is_run, const char *usage, struct cli_run *r,
                         struct moat_engine **e, char **id);
/* Docker's loop for verbs over CONTAINER...: op on each argument from optind on, its name printed
 * when done, its error on stderr; exit status 1 if any failed, usage without arguments. */
typedef int (*cli_container_op)(struct moat_engine *e, const char *name, const void *arg, struct moat_error *err);
int cli_each_container(int argc, char **argv, const char *usage, cli_container_op op, const void *arg);
/* stop and restart: [-t SECONDS] (opts: its long spellings and --help as 'h') CONTAINER..., op
 * given a const int * to the timeout (-1: the container's own). */
int cli_each_container_timeout(int argc, char **argv, const char *usage, const struct option *opts,
                               cli_container_op op);
int cli_open_engine(struct moat_engine **e);
/* docker's limit flags (run, create, update), which: 'm' -m/--memory, 'S' --memory-swap, 'C' --cpus,
 * 'c' --cpu-shares, 'P' --pids-limit; a bad value is reported and gives -1. */
int cli_parse_limit(int which, const char *arg, int64_t *memory, int64_t *memory_swap, double *cpus,
                    uint64_t *cpu_shares, int64_t *pids_limit);
/* Pump an attachment between our stdio and the container; its exit code, -1 if the monitor left. */
int cli_attach_stdio(int fd, bool stdin_open, bool tty);
/* --format json or '{{json .}}' -> *json; no format -> text; any other template is refused (125). */
int cli_format_json(const char *verb, const char *fmt, bool *json);
/* The whole command line of info and version: no arguments, [-f|--format json], --help (what: the
 * line under the usage). -1 to go on with *json set, else the exit code. */
int cli_format_only(int argc, char **argv, const char *verb, const char *what, bool *json);
/* ps's STATUS column: "Up 5 minutes", "Exited (0) 2 hours ago", ... (now in unix ns) */
void cli_status_text(const struct moat_container_info *c, int64_t now, char *buf, size_t len);

#endif
