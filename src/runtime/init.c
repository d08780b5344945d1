/* init: the container's first process, from clone to exec. It runs the runtime's code in its
 * new namespaces (no re-exec): join or create namespaces, wait for the parent (id maps, cgroup),
 * build the filesystem, pivot, report ready, wait for start, then become the user's process. */
#include "internal.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

static __attribute__((noreturn)) void die(struct moat_init_ctx *ctx, int fd, struct moat_error *err)
{
        (void) ctx;
        moat_sync_send(fd, SYNC_ERROR, err->msg, strlen(err->msg), -1);
        _exit(1);
}

static int join_path_namespaces(const struct moat_spec *spec, bool include_user, struct moat_error *err)
{
        static const enum moat_ns_type order[] = { MOAT_NS_IPC, MOAT_NS_UTS, MOAT_NS_NET, MOAT_NS_CGROUP };
        for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
                const struct moat_namespace *ns = &spec->ns[order[i]];
                if (!ns->present || !ns->path)
                        continue;
                _cleanup_close_ int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return moat_error_set(err, errno, "open %s namespace %s", moat_ns_name(order[i]), ns->path);
                if (setns(fd, moat_ns_clone_flag(order[i])) < 0)
                        return moat_error_set(err, errno, "join %s namespace %s", moat_ns_name(order[i]), ns->path);
        }
        const struct moat_namespace *u = &spec->ns[MOAT_NS_USER];
        if (include_user && u->present && u->path) {
                _cleanup_close_ int fd = open(u->path, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || setns(fd, CLONE_NEWUSER) < 0)
                        return moat_error_set(err, errno, "join user namespace %s", u->path);
        }
        return 0;
}

static int expect(struct moat_init_ctx *ctx, enum moat_sync_type want, char **payload)
{
        enum moat_sync_type t;
        int r = moat_sync_recv(ctx->sync_fd, &t, payload, NULL, NULL);
        if (r < 0 || t != want)
                _exit(1); /* the parent is gone or confused: nothing to report to */
        return 0;
}

/* The slow path: namespaces by path must be joined while we are still privileged on the host,
 * and new namespaces must be owned by the container's user namespace, so: join, then the user
 * namespace, then unshare the rest, then a grandchild (CLONE_PARENT) becomes the pid 1. */
static void slow_path(struct moat_init_ctx *ctx, struct moat_error *err)
{
        const struct moat_spec *spec = ctx->spec;
        if (join_path_namespaces(spec, true, err) < 0)
                die(ctx, ctx->sync_fd, err);
        if (spec->ns[MOAT_NS_USER].present && !spec->ns[MOAT_NS_USER].path) {
                if (unshare(CLONE_NEWUSER) < 0) {
                        moat_error_set(err, errno, "unshare the user namespace");
                        die(ctx, ctx->sync_fd, err);
                }
                moat_sync_send(ctx->sync_fd, SYNC_USERNS, NULL, 0, -1);
                expect(ctx, SYNC_USERNS_DONE, NULL);
        }
        int flags = 0;
        for (int t = 0; t < MOAT_NS_COUNT; t++)
                if (t != MOAT_NS_USER && t != MOAT_NS_TIME && t != MOAT_NS_CGROUP && spec->ns[t].present &&
                    !spec->ns[t].path && !(t == MOAT_NS_PID && ctx->clone_flags & CLONE_NEWPID))
                        flags |= moat_ns_clone_flag((enum moat_ns_type) t);
        if (flags && unshare(flags) < 0) {
                moat_error_set(err, errno, "unshare namespaces");
                die(ctx, ctx->sync_fd, err);
        }
        pid_t pid = (pid_t) syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
        if (pid < 0) {
                moat_error_set(err, errno, "clone the container's first process");
                die(ctx, ctx->sync_fd, err);
        }
        if (pid > 0) {
                int32_t p = pid;
                moat_sync_send(ctx->sync_fd, SYNC_PID, &p, sizeof p, -1);
                _exit(0);
        }
}

static int open_host_devnull(struct moat_error *err)
{
        int fd = open("/dev/null", O_PATH | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        if (fd < 0)
                return moat_error_set(err, errno, "open /dev/null");
        if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
                close(fd);
                return moat_error_set(err, EPERM, "/dev/null on the host is not the null device");
        }
        return fd;
}

static int run_hooks_in_child(const struct moat_spec *spec, enum moat_hook_stage st, const char *state,
                              struct moat_error *err)
{
        if (!spec->n_hooks[st])
                return 0;
        return moat_hooks_run(spec->hooks[st], spec->n_hooks[st], st, state, err);
}

void moat_init_main(struct moat_init_ctx *ctx)
{
        struct moat_error err;
        moat_error_clear(&err);
        const struct moat_spec *spec = ctx->spec;
        bool new_userns = spec->ns[MOAT_NS_USER].present && !spec->ns[MOAT_NS_USER].path;

        /* our copy of the parent's flocked fd would hold the container's lock until exec */
        close(ctx->state_dirfd);
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (ctx->cgroup && moat_cgroup_join_self(ctx->cgroup, ctx->cloned_in_cgroup, &err) < 0)
                die(ctx, ctx->sync_fd, &err);
        if (ctx->slow_path)
                slow_path(ctx, &err);
        else if (join_path_namespaces(spec, true, &err) < 0)
                die(ctx, ctx->sync_fd, &err);
        /* in our cgroup by now, and in the user namespace that is to own the cgroup namespace */
        if (spec->ns[MOAT_NS_CGROUP].present && !spec->ns[MOAT_NS_CGROUP].path &&
            !(ctx->clone_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) {
                moat_error_set(&err, errno, "unshare the cgroup namespace");
                die(ctx, ctx->sync_fd, &err);
        }

        _cleanup_free_ char *state = NULL;
        expect(ctx, SYNC_GO, &state);

        if (spec->ns[MOAT_NS_USER].present) {
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
                        moat_error_set(&err, errno, "become root in the user namespace (is uid/gid 0 mapped?)");
                        die(ctx, ctx->sync_fd, &err);
                }
        }
        if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0) {
                moat_error_set(&err, errno, "sethostname");
                die(ctx, ctx->sync_fd, &err);
        }
        if (spec->domainname && setdomainname(spec->domainname, strlen(spec->domainname)) < 0) {
                moat_error_set(&err, errno, "setdomainname");
                die(ctx, ctx->sync_fd, &err);
        }
        if (!ctx->opts->no_new_keyring)
                (void) syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL);

        if (moat_mounts_setup_rootfs(spec, &err) < 0)
                die(ctx, ctx->sync_fd, &err);
        _cleanup_close_ int devnull = open_host_devnull(&err);
        if (devnull < 0 || moat_mounts_finish(spec, devnull, &err) < 0)
                die(ctx, ctx->sync_fd, &err);
        /* the parent ran the createRuntime hooks (and chowned our cgroup for a user namespace)
         * while we built the filesystem; the rest must follow them */
        expect(ctx, SYNC_PARENT_DONE, NULL);
        if (run_hooks_in_child(spec, MOAT_HOOK_CREATE_CONTAINER, state, &err) < 0)
                die(ctx, ctx->sync_fd, &err);
        if (moat_mounts_pivot(spec, &err) < 0)
                die(ctx, ctx->sync_fd, &err);
        if (moat_process_set_rlimits(&spec->process, &err) < 0)
                die(ctx, ctx->sync_fd, &err);
        if (spec->has_personality && personality(spec->personality) < 0) {
                moat_error_set(&err, errno, "personality");
                die(ctx, ctx->sync_fd, &err);
        }
        if (spec->process.terminal) {
                int master = moat_process_setup_pty(&spec->process, true, &err);
                if (master < 0)
                        die(ctx, ctx->sync_fd, &err);
                moat_sync_send(ctx->sync_fd, SYNC_PTY, NULL, 0, master);
                close(master);
        }

        {
                /* as runc: a missing cwd is created (we are inside the new root now) */
                struct moat_error e2;
                if (access(spec->process.cwd, F_OK) < 0 && errno == ENOENT)
                        (void) moat_mkdir_p(spec->process.cwd, 0755, &e2);
                _cleanup_free_ char *exe = NULL;
                if (chdir(spec->process.cwd) == 0 && moat_process_resolve_exe(&spec->process, &exe, &err) < 0)
                        die(ctx, ctx->sync_fd, &err);
        }
        prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
        moat_sync_send(ctx->sync_fd, SYNC_READY, NULL, 0, -1);

        int start_fd = ctx->sync_fd;
        if (ctx->listen_fd >= 0) {
                close(ctx->sync_fd);
                do
                        start_fd = accept4(ctx->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                while (start_fd < 0 && errno == EINTR);
                if (start_fd < 0)
                        _exit(1);
                close(ctx->listen_fd);
        }
        char go;
        ssize_t n;
        do
                n = read(start_fd, &go, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                _exit(1);
        /* Signals the runtime blocked for its own bookkeeping must not stay blocked. */
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);

        if (run_hooks_in_child(spec, MOAT_HOOK_START_CONTAINER, state, &err) < 0)
                die(ctx, start_fd, &err);
        struct moat_finalize f = {
                .proc = &spec->process,
                .seccomp = ctx->seccomp,
                .preserve_fds = ctx->preserve_fds,
                .in_userns = spec->ns[MOAT_NS_USER].present,
                .err_fd = start_fd,
                .annotations = spec->annotations,
        };
        (void) new_userns;
        moat_process_exec(&f, &err);
        die(ctx, start_fd, &err);
}
