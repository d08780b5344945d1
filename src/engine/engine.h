/* engine: containers on images. Owns the container records in the state DB, each container's
 * directory (bundle, log, monitor socket), and the policy of what a container gets by default.
 * The CLI (and later the API daemon) call these functions and only render their results. */
#ifndef MOAT_ENGINE_H
#define MOAT_ENGINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "image/image.h"
#include "util/util.h"

struct moat_engine;

int moat_engine_open(const char *root, struct moat_engine **out, struct moat_error *err);
void moat_engine_close(struct moat_engine *e);
static inline void moat_engine_closep(struct moat_engine **e)
{
        if (*e)
                moat_engine_close(*e);
}
#define _cleanup_engine_ _cleanup_(moat_engine_closep)

/* What `moat create/run` asks for. Strings are borrowed. NULL-terminated vectors. */
struct moat_container_opts {
        const char *image;
        const char *name;        /* NULL: generated adjective_surname */
        char **cmd;              /* NULL: the image's Cmd */
        char **entrypoint;       /* NULL: the image's; {""} clears it */
        bool entrypoint_set;
        char **env;              /* KEY=VALUE (KEY alone: taken from the caller's environment) */
        char **labels;           /* KEY=VALUE */
        const char *workdir;
        const char *user;
        const char *hostname;
        const char *network;     /* none (default) | host */
        const char *userns;      /* NULL: a user namespace of its own (the default) | host */
        bool tty, interactive, auto_remove, read_only, privileged;
        bool no_new_privs_off;   /* never: no-new-privileges stays on unless --privileged */
        const char *seccomp;     /* NULL default | "unconfined" | a profile file */
        char **cap_add, **cap_drop;
        char **tmpfs;            /* DEST[:OPTIONS] */
        char **binds;            /* SRC:DEST[:ro|rw] (absolute SRC) */
        int64_t memory;          /* bytes, 0 none */
        int64_t memory_swap;     /* memory + swap in bytes (docker's --memory-swap), 0 none, -1 unlimited */
        uint64_t cpu_shares;     /* 0 none */
        const char *cpuset_cpus, *cpuset_mems; /* --cpuset-cpus/--cpuset-mems; NULL none */
        char **ulimits;          /* NAME=SOFT[:HARD] */
        double cpus;             /* 0 none */
        int64_t pids_limit;      /* 0 default (2048), -1 unlimited */
        const char *restart;     /* no | on-failure[:N] | always | unless-stopped */
        const char *stop_signal;
        int stop_timeout;        /* -1: default 10 */
        /* health check: docker's --health-*; 0/NULL: the image's Healthcheck, then docker's defaults */
        const char *health_cmd;  /* run with /bin/sh -c in the container */
        int64_t health_interval, health_timeout, health_start_period, health_start_interval; /* ns */
        int health_retries;
        bool no_healthcheck;     /* also disables the image's */
        /* --mount, --device, --init */
        char **mounts;           /* docker's --mount: type=bind|volume|tmpfs,source=..,target=..,... */
        char **volumes_from;     /* --volumes-from CONTAINER[:ro|:rw]: its volumes and binds */
        char **devices;          /* --device HOST[:CONTAINER][:PERMS] (PERMS from rwm) */
        bool init;               /* --init: moat-init runs as pid 1, forwards signals, reaps zombies */
};

/* A container as the engine sees it, state refreshed from its monitor. */
struct moat_container_info {
        char *id, *name, *image, *image_id, *state, *command, *error;
        json_t *config; /* the engine's record of the create request and the resolved process */
        int64_t created, started, finished; /* unix ns; 0 unknown */
        int exit_code;
        bool oom_killed;
        pid_t pid;
        int restart_count;
        json_t *labels;
        json_t *health; /* docker's State.Health from the monitor; NULL without a health check */
        /* since boot.c: the host's boot id when it last started ("" before), and docker's
         * HasBeenManuallyStopped (stop, kill or rm -f since its last start) */
        char *boot_id;
        bool stopped_by_user;
};
void moat_container_info_clear(struct moat_container_info *c);
void moat_container_info_free(struct moat_container_info *v, size_t n);

int moat_engine_create(struct moat_engine *e, const struct moat_container_opts *o, char **id_out,
                       struct moat_error *err);
/* Start a created or exited container under a new monitor. attach_fd: when non-NULL, the monitor
 * waits for this attachment before starting the process, and *attach_fd receives the connection
 * (see moat_engine_attach_stream). */
int moat_engine_start(struct moat_engine *e, const char *name_or_id, int *attach_fd, struct moat_error *err);
/* Connect to a running container's monitor. */
int moat_engine_attach(struct moat_engine *e, const char *name_or_id, int *fd, struct moat_error *err);
/* The caller's side of an attachment: in_fd -1 when the container gets no input; with tty, the
 * terminal (in_fd, else out_fd) is put in raw mode for the duration and its size sent along. */
struct moat_attach_io {
        int in_fd, out_fd, err_fd;
        bool tty;
};
/* Pump the attachment: in_fd to the container, its output to out_fd/err_fd (and the monitor's
 * errors to err_fd as "moat: ..." lines), the caller's INT, TERM, HUP, QUIT, USR1, USR2 forwarded
 * (blocked meanwhile); returns the container's exit code (or -1 when the monitor went away). */
int moat_engine_attach_stream(int fd, const struct moat_attach_io *io);

int moat_engine_stop(struct moat_engine *e, const char *name_or_id, int timeout, struct moat_error *err);
int moat_engine_kill(struct moat_engine *e, const char *name_or_id, int sig, struct moat_error *err);
int moat_engine_remove(struct moat_engine *e, const char *name_or_id, bool force, struct moat_error *err);
/* Block until the container is not running; *code receives its exit code. */
int moat_engine_wait(struct moat_engine *e, const char *name_or_id, int *code, struct moat_error *err);
int moat_engine_get(struct moat_engine *e, const char *name_or_id, struct moat_container_info *out,
                    struct moat_error *err);
int moat_engine_list(struct moat_engine *e, bool all, struct moat_container_info **out, size_t *n,
                     struct moat_error *err);
/* Docker-style inspect document. */
int moat_engine_inspect(struct moat_engine *e, const char *name_or_id, json_t **out, struct moat_error *err);

/* The process gets the caller's fds 0, 1 and 2 (without a tty); a caller without -i points 0 at
 * /dev/null first, as docker's exec gives no input then. */
struct moat_engine_exec_opts {
        char **args, **env;
        const char *user, *workdir;
        bool tty, detach;
};
int moat_engine_exec(struct moat_engine *e, const char *name_or_id, const struct moat_engine_exec_opts *o,
                     int *exit_code, struct moat_error *err);

int moat_engine_restart(struct moat_engine *e, const char *name_or_id, int timeout, struct moat_error *err);
/* docker update: a container's limits, applied at once to its cgroup when it runs and kept for
 * its later starts, and its restart policy (a running container's monitor follows the new one).
 * 0 / NULL: unchanged; memory_swap and pids_limit take -1 for unlimited. */
struct moat_update_opts {
        int64_t memory, memory_swap;
        uint64_t cpu_shares;
        double cpus;
        int64_t pids_limit;
        const char *cpuset_cpus, *cpuset_mems;
        const char *restart;
};
int moat_engine_update(struct moat_engine *e, const char *name_or_id, const struct moat_update_opts *u,
                       struct moat_error *err);
/* Freeze / thaw every process of a running container (its cgroup). */
int moat_engine_pause(struct moat_engine *e, const char *name_or_id, struct moat_error *err);
int moat_engine_unpause(struct moat_engine *e, const char *name_or_id, struct moat_error *err);
int moat_engine_rename(struct moat_engine *e, const char *name_or_id, const char *new_name, struct moat_error *err);
/* Host pids of the container's processes. */
int moat_engine_top(struct moat_engine *e, const char *name_or_id, pid_t **pids, size_t *n, struct moat_error *err);

struct moat_container_stats {
        uint64_t cpu_ns, mem_usage, mem_limit, pids, io_read, io_write;
};
int moat_engine_stats(struct moat_engine *e, const char *name_or_id, struct moat_container_stats *st,
                      struct moat_error *err);

/* Named volumes: <root>/volumes/<name>/_data. */
/* labels: a JSON object of strings, or NULL; an existing volume is left as it is */
int moat_engine_volume_create(struct moat_engine *e, const char *name, json_t *labels, struct moat_error *err);
int moat_engine_volume_list(struct moat_engine *e, char ***names, size_t *n, struct moat_error *err);
/* docker's volume ls: each volume as volume_inspect describes it plus "Links" (the containers that
 * refer to it), kept when it passes every "KEY=VALUE" filter: name (a regular expression), label
 * (KEY or KEY=VALUE), dangling (true|false: no container refers to it), driver (local). */
int moat_engine_volume_list_filtered(struct moat_engine *e, char **filters, json_t **out, struct moat_error *err);
/* Refused while a container refers to the volume. */
int moat_engine_volume_remove(struct moat_engine *e, const char *name, struct moat_error *err);
int moat_engine_volume_inspect(struct moat_engine *e, const char *name, json_t **out, struct moat_error *err);
/* Remove unused volumes: anonymous ones only (docker 23+), or every unused one when all. */
int moat_engine_volume_prune(struct moat_engine *e, bool all, char ***removed, uint64_t *freed,
                             struct moat_error *err);
/* moat rm -v: the container, then the anonymous volumes it made (named ones are kept). */
int moat_engine_remove_with_volumes(struct moat_engine *e, const char *name_or_id, bool force,
                                    struct moat_error *err);

/* Copy src to dst; to_container: src on the host, dst in the container's root filesystem (else the
 * other way). The container side is walked chrooted into it; symlinks are copied, not followed. */
int moat_engine_cp(struct moat_engine *e, const char *name_or_id, const char *src, const char *dst, bool to_container,
                   struct moat_error *err);

/* ---- ps filters, logs time ranges, health (docs/ENGINE.md) -------------------------------- */

/* moat_engine_list with docker's ps filters, each "KEY=VALUE": id, name, label, status, exited,
 * ancestor, before, since, health. A key Moat does not know or implement, or a bad value, is an
 * error (before anything is listed). */
int moat_engine_list_filtered(struct moat_engine *e, bool all, char **filters, struct moat_container_info **out,
                              size_t *n, struct moat_error *err);
/* starting | healthy | unhealthy, or none without a health check */
const char *moat_container_health_status(const struct moat_container_info *c);

/* One log line for the caller to show (the engine prints nothing): stream 1 (stdout) or 2
 * (stderr); line is what the container wrote, its newline included, len bytes; time is the
 * line's RFC3339 stamp when timestamps was asked, else NULL. Returning < 0 stops the read. */
typedef int (*moat_log_fn)(void *ud, int stream, const char *time, const char *line, size_t len);
struct moat_engine_logs_opts {
        long tail;            /* < 0: all */
        bool follow, timestamps;
        int64_t since, until; /* unix ns; 0: no bound. Lines are kept when since <= time <= until */
        moat_log_fn fn;       /* required */
        void *ud;
};
/* The container's log through o->fn; with follow, until the container stops (or until passes). */
int moat_engine_logs_ex(struct moat_engine *e, const char *name_or_id, const struct moat_engine_logs_opts *o,
                        struct moat_error *err);

/* ---- the system verbs: diff, system df|prune, info, version, events (system.c, events.c) ---- */

/* The container's filesystem changes against its image (running or stopped); docker diff. */
int moat_engine_diff(struct moat_engine *e, const char *name_or_id, struct moat_change **out, size_t *n,
                     struct moat_error *err);

/* docker system df: every container, image and volume with what it takes on disk. */
struct moat_system_df {
        struct moat_container_info *containers_info;
        size_t n_containers;
        int64_t *container_size;   /* its writable layer */
        struct moat_image_info *images;
        size_t n_images;
        int64_t *image_shared;     /* bytes of its layers other images share */
        int *image_containers;     /* containers made from it */
        int64_t images_total;      /* every layer counted once */
        char **volumes;
        size_t n_volumes;
        int64_t *volume_size;
        int *volume_links;         /* containers that mount it */
};
int moat_engine_df(struct moat_engine *e, struct moat_system_df *d, struct moat_error *err);
void moat_system_df_clear(struct moat_system_df *d);

/* Remove every stopped container / every volume no container refers to / dangling images (all
 * unused ones when all): what went, and the bytes it took. */
int moat_engine_container_prune(struct moat_engine *e, char ***removed, uint64_t *freed, struct moat_error *err);
int moat_engine_image_prune(struct moat_engine *e, bool all, char ***untagged, char ***deleted, uint64_t *freed,
                            struct moat_error *err);
struct moat_prune_report {
        char **containers, **untagged, **images, **volumes;
        uint64_t reclaimed;
};
/* docker system prune: stopped containers, then (volumes) unused volumes, then images. */
int moat_engine_system_prune(struct moat_engine *e, bool all_images, bool volumes, struct moat_prune_report *p,
                             struct moat_error *err);
void moat_prune_report_clear(struct moat_prune_report *p);

/* docker's info and version documents (their JSON field names; Moat's values). */
int moat_engine_info(struct moat_engine *e, json_t **out, struct moat_error *err);
int moat_engine_version(json_t **out, struct moat_error *err);

/* Events from <root>/events.log in docker's message shape ({"Type","Action","Actor":{"ID",
 * "Attributes"},"time","timeNano",...}). Filters: one key's values are alternatives, keys must all
 * match. since/until in unix ns (0: unset). Without since only new events are sent; with follow,
 * new lines are sent as they come until until passes (or forever). fn returning < 0 stops. */
struct moat_events_filter {
        char **containers; /* name or id prefix */
        char **actions;    /* "exec_start" matches "exec_start: sh -c ..." */
        char **types;      /* container */
        int64_t since, until;
};
typedef int (*moat_event_fn)(void *ud, json_t *msg);
int moat_engine_events(struct moat_engine *e, const struct moat_events_filter *f, bool follow, moat_event_fn fn,
                       void *ud, struct moat_error *err);

/* ---- after a reboot (boot.c; docs/ENGINE.md "After a reboot") -------------------------------- */

/* What dockerd does with containers when it starts, for an engine without a daemon: run once at
 * boot (`moat system restore`). Every container that has run before and is not running now is
 * started when its restart policy says so: always; unless-stopped when the user did not stop it;
 * on-failure[:N] when its last exit code was not 0 (the 255 of a reboot included), fewer than N
 * restarts were made and the user did not stop it. A --rm container whose end its monitor did not
 * see is removed. fn is called for each container acted on, with the error when that failed. */
enum moat_restore_action { MOAT_RESTORE_STARTED, MOAT_RESTORE_REMOVED };
typedef void (*moat_restore_fn)(void *ud, const struct moat_container_info *c, enum moat_restore_action a,
                                const struct moat_error *failed);
int moat_engine_restore(struct moat_engine *e, moat_restore_fn fn, void *ud, struct moat_error *err);
/* The rule above for one container (refreshed): whether restore starts it. */
bool moat_engine_restore_wanted(const struct moat_container_info *c);

/* Called by moat-monitor (through `moat _sync`): bring the record up to date with what the monitor
 * wrote, and remove the container when it asked for --rm and is done. */
int moat_engine_sync(struct moat_engine *e, const char *id, struct moat_error *err);

/* moat-monitor's body (src/engine/monitor.c); argv after the program name. Returns an exit code. */
int moat_monitor_main(int argc, char **argv);

#endif
