/* internal: what the runtime's files share with each other and nobody else. */
#ifndef MOAT_RUNTIME_INTERNAL_H
#define MOAT_RUNTIME_INTERNAL_H

#include "runtime/runtime.h"
#include "runtime/seccomp.h"
#include "util/log.h"

#include <sys/un.h>

/* ---- state (state.c) ---- */
struct moat_container {
        char *id;
        char *dir;    /* <root>/<id> */
        int dirfd;    /* O_DIRECTORY of dir, flock()ed while we change it */
        json_t *state; /* the state file's object */
        pid_t pid;
        unsigned long long pid_start; /* /proc/PID/stat starttime, guards against pid reuse */
        const char *bundle, *rootfs, *cgroup_path, *created;
};

int moat_state_dir_create(const struct moat_runtime *rt, const char *id, struct moat_container *c,
                          struct moat_error *err);
/* Load and lock a container (exclusive flock on its directory). */
int moat_state_load(const struct moat_runtime *rt, const char *id, struct moat_container *c, struct moat_error *err);
int moat_state_save(struct moat_container *c, struct moat_error *err);
void moat_container_release(struct moat_container *c);
enum moat_status moat_container_status(struct moat_container *c, const struct moat_runtime *rt);
/* {ociVersion,id,status,pid,bundle,rootfs,created,owner,annotations} */
json_t *moat_container_oci_state(struct moat_container *c, enum moat_status st);
int moat_state_remove(struct moat_container *c, struct moat_error *err);
unsigned long long moat_proc_start_time(pid_t pid);
int moat_container_cgroup(const struct moat_runtime *rt, struct moat_container *c, struct moat_cgroup **cg,
                          struct moat_error *err);

/* ---- process creation (clone.c) ---- */
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
/* clone3 (landing in the cgroup dirfd when >= 0, via CLONE_INTO_CGROUP) with a fallback to clone
 * for kernels without it, which leaves out CLONE_NEWCGROUP; *in_cgroup says whether the child was
 * born in that cgroup. Returns like fork(). */
pid_t moat_clone(uint64_t flags, int cgroup_fd, bool *in_cgroup);
/* Write /proc/PID/{uid_map,gid_map}. */
int moat_write_idmap(pid_t pid, const char *file, const struct moat_idmap *m, size_t n, struct moat_error *err);

/* ---- hooks (hooks.c) ---- */
int moat_hooks_run(const struct moat_hook *hooks, size_t n, enum moat_hook_stage stage, const char *state_json,
                   struct moat_error *err);

/* ---- sync protocol between the runtime and the container's first process (container.c, init.c) ---- */
enum moat_sync_type {
        SYNC_GO = 1,         /* parent -> child: maps written, start building; payload: state JSON */
        SYNC_PARENT_DONE,    /* parent -> child: cgroup joined, createRuntime hooks run */
        SYNC_USERNS,         /* child -> parent: unshared the user ns, write its maps (slow path) */
        SYNC_USERNS_DONE,    /* parent -> child */
        SYNC_PID,            /* child -> parent: the init's pid, as seen from the parent (slow path) */
        SYNC_PTY,            /* child -> parent: the pty master (SCM_RIGHTS) */
        SYNC_READY,          /* child -> parent: set up, waiting for start */
        SYNC_START,          /* parent -> child (run): go exec */
        SYNC_ERROR,          /* child -> parent: payload is the message */
        SYNC_SECCOMP,        /* child -> parent: the seccomp notify listener (SCM_RIGHTS) */
};
#define MOAT_SYNC_MAX (64 * 1024)
int moat_sync_send(int fd, enum moat_sync_type type, const void *data, size_t len, int pass_fd);
/* Receives one message; *data (malloc'd, NUL terminated) and *fd (-1 when none) are optional. */
int moat_sync_recv(int fd, enum moat_sync_type *type, char **data, size_t *len, int *recv_fd);

/* What the child needs; it lives in the parent's memory, which clone copies. */
struct moat_init_ctx {
        const struct moat_spec *spec;
        const struct moat_create_opts *opts;
        const struct moat_seccomp_program *seccomp; /* NULL: none */
        int sync_fd;
        int listen_fd;   /* create: start socket; run: -1 (start comes over sync_fd) */
        bool slow_path;  /* child must join namespaces / unshare the user ns itself */
        int clone_flags; /* what the clone already created */
        int preserve_fds;
        int state_dirfd; /* the parent's locked state directory: closed first thing */
        struct moat_cgroup *cgroup; /* NULL: none (--cgroup-manager disabled); join files prepared */
        bool cloned_in_cgroup;      /* clone3 placed us in moat_cgroup_dirfd(cgroup) */
};
__attribute__((noreturn)) void moat_init_main(struct moat_init_ctx *ctx);

/* ---- mounts (mounts.c); run in the child, in its own mount namespace ---- */
/* Called in the container's cgroup and cgroup namespace. */
int moat_mounts_setup_rootfs(const struct moat_spec *spec, struct moat_error *err);
int moat_mounts_pivot(const struct moat_spec *spec, struct moat_error *err);
int moat_mounts_finish(const struct moat_spec *spec, int devnull_fd, struct moat_error *err);
/* Open `path` inside the directory rootfd without leaving it, creating missing directories
 * (and the last component as a file when want_file). Returns an O_PATH fd. */
int moat_open_in_root(int rootfd, const char *path, bool create, bool want_file, struct moat_error *err);
/* Parent side, before clone, for a new user namespace: make each idmapped bind's tree on the host
 * (the child cannot) and record its fd in the mount; release closes them once the child has its
 * copies. */
int moat_mounts_prepare_trees(const struct moat_spec *spec, struct moat_error *err);
void moat_mounts_release_trees(const struct moat_spec *spec);

/* ---- the last steps before exec, shared by init and exec (process.c) ---- */
struct moat_finalize {
        const struct moat_process *proc;
        const struct moat_seccomp_program *seccomp;
        int preserve_fds;
        bool in_userns;
        int err_fd; /* SEQPACKET to the runtime: exec errors and the seccomp listener go there */
        json_t *annotations; /* the config's: org.moat.landlock.* (landlock.c) */
};
/* Only returns on failure. */
int moat_process_exec(const struct moat_finalize *f, struct moat_error *err);
int moat_process_set_rlimits(const struct moat_process *p, struct moat_error *err);
/* Open a pty pair; the slave becomes stdio and the controlling terminal. Returns the master. */
int moat_process_setup_pty(const struct moat_process *p, bool bind_console, struct moat_error *err);
/* PATH lookup with the process's environment; checked before the container reports ready. */
int moat_process_resolve_exe(const struct moat_process *p, char **out, struct moat_error *err);
/* Forward signals, proxy a pty master (>= 0) to our stdio, reap pid; status as a shell shows it. */
int moat_wait_foreground(pid_t pid, int master, int *status_out);
int moat_load_spec_from_state(struct moat_container *c, struct moat_spec *spec, struct moat_error *err);
int moat_seccomp_for_container(const struct moat_runtime *rt, const struct moat_spec *spec,
                               struct moat_seccomp_program *prog, bool *have, struct moat_error *err);
/* After the start byte: wait until the process execs (EOF), forwarding a seccomp listener to the
 * profile's listenerPath and a pty master (to console_socket, or *pty_out), or report its error. */
int moat_await_exec(int fd, const struct moat_spec *spec, const char *state_json, const char *console_socket,
                    int *pty_out, struct moat_error *err);
int moat_send_fd_to_socket(const char *path, int fd, const char *name, struct moat_error *err);

#endif
