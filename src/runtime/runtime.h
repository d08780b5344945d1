/* runtime: the OCI runtime library. Takes a bundle (config.json + rootfs) and makes a confined
 * process; keeps per-container state under a state root. Knows nothing of images, networks or
 * the engine. The moat-runtime binary and moat-monitor are thin callers of this header. */
#ifndef MOAT_RUNTIME_H
#define MOAT_RUNTIME_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "runtime/cgroup.h"
#include "runtime/spec.h"
#include "util/util.h"

#define MOAT_RUNTIME_DEFAULT_ROOT "/run/moat-runtime"

struct moat_runtime {
        const char *root;        /* state root; default MOAT_RUNTIME_DEFAULT_ROOT */
        const char *cgroup_root; /* NULL means /sys/fs/cgroup (tests point it elsewhere) */
        bool cgroups_disabled;   /* --cgroup-manager disabled */
};

struct moat_create_opts {
        const char *id;
        const char *bundle; /* absolute */
        const char *pid_file;
        const char *console_socket;
        int preserve_fds;
        bool no_new_keyring;
        bool no_pivot; /* refused: pivot_root is always used */
        /* run only */
        bool detach;
        bool keep;
        /* The caller's argv: a config that joins a pid namespace by path makes the runtime
         * re-execute from a sealed copy of itself with it (sealed.h). NULL: refuse such a config. */
        int reexec_argc;
        char **reexec_argv;
};

/* Valid ids: 1..1024 chars of [A-Za-z0-9_+.-], not starting with '.' or '-'. */
bool moat_runtime_id_valid(const char *id);

int moat_runtime_create(const struct moat_runtime *rt, const struct moat_create_opts *o, struct moat_error *err);
int moat_runtime_start(const struct moat_runtime *rt, const char *id, struct moat_error *err);
/* create + start. Foreground (!detach): waits, forwards signals, proxies a terminal when there
 * is no console socket, deletes the container unless keep, and sets *exit_status the way a shell
 * would (code, or 128+signal). */
int moat_runtime_run(const struct moat_runtime *rt, const struct moat_create_opts *o, int *exit_status,
                     struct moat_error *err);

/* create + start for a caller that stays the container's parent (moat-monitor): nothing is waited
 * for. The process inherits the caller's fds 0-2 (when process.terminal is false); *pid receives
 * its pid and *pty_master the terminal's master (-1 without a terminal). The caller reaps the
 * process and then calls moat_runtime_delete. */
int moat_runtime_spawn(const struct moat_runtime *rt, const struct moat_create_opts *o, pid_t *pid, int *pty_master,
                       struct moat_error *err);

enum moat_status { MOAT_STATUS_CREATING, MOAT_STATUS_CREATED, MOAT_STATUS_RUNNING, MOAT_STATUS_PAUSED,
                   MOAT_STATUS_STOPPED };
const char *moat_status_name(enum moat_status s);

/* The OCI state object (ociVersion, id, status, pid, bundle, rootfs, created, owner, annotations). */
int moat_runtime_state(const struct moat_runtime *rt, const char *id, json_t **state, struct moat_error *err);
/* Every container's state object, sorted by id. */
int moat_runtime_list(const struct moat_runtime *rt, json_t **list, struct moat_error *err);
int moat_runtime_kill(const struct moat_runtime *rt, const char *id, int sig, bool all, struct moat_error *err);
int moat_runtime_delete(const struct moat_runtime *rt, const char *id, bool force, struct moat_error *err);
int moat_runtime_ps(const struct moat_runtime *rt, const char *id, pid_t **pids, size_t *n, struct moat_error *err);
int moat_runtime_pause(const struct moat_runtime *rt, const char *id, struct moat_error *err);
int moat_runtime_resume(const struct moat_runtime *rt, const char *id, struct moat_error *err);
int moat_runtime_update(const struct moat_runtime *rt, const char *id, const struct moat_cgroup_resources *res,
                        struct moat_error *err);

struct moat_exec_opts {
        const char *id;
        json_t *process;      /* a full OCI process object (exec --process), or NULL */
        char **args;          /* otherwise: args, with the overrides below applied to the config's process */
        char **env;           /* appended */
        const char *cwd;
        const char *user;     /* "uid[:gid]" */
        char **add_caps;      /* --cap */
        int tty;              /* -1 inherit from config, 0 no, 1 yes */
        bool detach;
        bool no_new_privs_set, no_new_privs;
        const char *pid_file;
        const char *console_socket;
        int preserve_fds;
        pid_t *pid_out;       /* with detach: the process's pid (a child of the caller, to reap) */
        int *pty_master_out;  /* with detach and a terminal, instead of console_socket: the pty master */
};
int moat_runtime_exec(const struct moat_runtime *rt, const struct moat_exec_opts *o, int *exit_status,
                      struct moat_error *err);

/* A user namespace with these mappings (host ids), held by an fd: for MOUNT_ATTR_IDMAP. A helper
 * process makes it and is gone when this returns. */
int moat_userns_open(const struct moat_idmap *uids, size_t nu, const struct moat_idmap *gids, size_t ng,
                     struct moat_error *err);

/* The OCI features document for this build and host. */
json_t *moat_runtime_features(void);

#endif
