/* container: the runtime's side of a container's life: create (clone into new namespaces,
 * id maps, cgroup, hooks, state), start, run in the foreground, kill, delete, pause, resume,
 * update, ps and list. */
#include "internal.h"
#include "runtime/sealed.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

static void now_rfc3339(char *buf, size_t len)
{
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

static char *state_json_for_hooks(struct moat_container *c, enum moat_status st)
{
        json_t *o = moat_container_oci_state(c, st);
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        return s ? s : xstrdup("{}");
}

static int write_maps(const struct moat_spec *spec, pid_t pid, struct moat_error *err)
{
        if (moat_write_idmap(pid, "uid_map", spec->uid_mappings, spec->n_uid_mappings, err) < 0)
                return moat_error_wrap(err, "linux.uidMappings");
        if (moat_write_idmap(pid, "gid_map", spec->gid_mappings, spec->n_gid_mappings, err) < 0)
                return moat_error_wrap(err, "linux.gidMappings");
        return 0;
}

static uid_t host_root_uid(const struct moat_spec *s, bool gid)
{
        const struct moat_idmap *m = gid ? s->gid_mappings : s->uid_mappings;
        size_t n = gid ? s->n_gid_mappings : s->n_uid_mappings;
        for (size_t i = 0; i < n; i++)
                if (m[i].container_id == 0)
                        return m[i].host_id;
        return 0;
}

/* Sets the parent's pid/time "for children" namespaces before clone; returns fds to restore. */
struct ns_restore {
        int pid_fd, time_fd;
};

static int prepare_parent_namespaces(const struct moat_spec *spec, struct ns_restore *rs, struct moat_error *err)
{
        rs->pid_fd = rs->time_fd = -1;
        const struct moat_namespace *pid = &spec->ns[MOAT_NS_PID], *tm = &spec->ns[MOAT_NS_TIME];
        if (pid->present && pid->path) {
                rs->pid_fd = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
                _cleanup_close_ int fd = open(pid->path, O_RDONLY | O_CLOEXEC);
                if (rs->pid_fd < 0 || fd < 0 || setns(fd, CLONE_NEWPID) < 0)
                        return moat_error_set(err, errno, "join pid namespace %s", pid->path);
        }
        if (tm->present) {
                rs->time_fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
                if (rs->time_fd < 0)
                        return moat_error_set(err, errno, "time namespaces are not supported by this kernel");
                if (tm->path) {
                        _cleanup_close_ int fd = open(tm->path, O_RDONLY | O_CLOEXEC);
                        if (fd < 0 || setns(fd, CLONE_NEWTIME) < 0)
                                return moat_error_set(err, errno, "join time namespace %s", tm->path);
                } else {
                        if (unshare(CLONE_NEWTIME) < 0)
                                return moat_error_set(err, errno, "unshare the time namespace");
                        if (spec->has_time_offsets) {
                                char buf[128];
                                int n = snprintf(buf, sizeof buf, "monotonic %lld %u\nboottime %lld %u\n",
                                                 (long long) spec->monotonic_secs, spec->monotonic_nsecs,
                                                 (long long) spec->boottime_secs, spec->boottime_nsecs);
                                if (moat_write_file_at(AT_FDCWD, "/proc/self/timens_offsets", buf, (size_t) n, 0, 0,
                                                       err) < 0)
                                        return moat_error_wrap(err, "linux.timeOffsets");
                        }
                }
        }
        return 0;
}

static void restore_parent_namespaces(struct ns_restore *rs)
{
        if (rs->pid_fd >= 0) {
                (void) !setns(rs->pid_fd, CLONE_NEWPID);
                close(rs->pid_fd);
        }
        if (rs->time_fd >= 0) {
                (void) !setns(rs->time_fd, CLONE_NEWTIME);
                close(rs->time_fd);
        }
        rs->pid_fd = rs->time_fd = -1;
}

static int make_start_socket(struct moat_container *c, struct moat_error *err)
{
        int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (s < 0)
                return moat_error_set(err, errno, "socket");
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        /* through the directory fd: a long state root or id would not fit sun_path */
        snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/start.sock", c->dirfd);
        if (bind(s, (struct sockaddr *) &addr, sizeof addr) < 0 || listen(s, 1) < 0) {
                int e = errno;
                close(s);
                return moat_error_set(err, e, "create the start socket");
        }
        return s;
}

/* The child died: its last word is usually a SYNC_ERROR already queued on the socket. */
static int setup_failed(int sync_fd, struct moat_error *err)
{
        for (;;) {
                enum moat_sync_type t;
                _cleanup_free_ char *data = NULL;
                int fd = -1;
                if (moat_sync_recv(sync_fd, &t, &data, NULL, &fd) < 0)
                        break;
                if (fd >= 0)
                        close(fd);
                if (t == SYNC_ERROR)
                        return moat_error_set(err, 0, "%s", data);
        }
        return moat_error_set(err, EPIPE, "the container process exited during setup");
}

struct created {
        struct moat_container c;
        struct moat_spec spec;
        struct moat_cgroup *cg;
        pid_t pid;
        int sync_fd;
        int pty_master;
};

static void created_release(struct created *cr)
{
        if (cr->sync_fd >= 0)
                close(cr->sync_fd);
        if (cr->pty_master >= 0)
                close(cr->pty_master);
        moat_cgroup_free(cr->cg);
        cr->cg = NULL;
        moat_spec_free(&cr->spec);
        moat_container_release(&cr->c);
}

/* The compiled filter comes from a cache under the state root, keyed by the profile's hash. */
int moat_seccomp_for_container(const struct moat_runtime *rt, const struct moat_spec *spec,
                               struct moat_seccomp_program *prog, bool *have, struct moat_error *err)
{
        *have = false;
        if (!spec->seccomp)
                return 0;
        _cleanup_free_ char *cache = xasprintf("%s/.seccomp-cache", rt->root);
        if (mkdir(rt->root, 0700) < 0 && errno != EEXIST && moat_mkdir_p(rt->root, 0700, err) < 0)
                return -err->code;
        if (mkdir(cache, 0700) < 0 && errno != EEXIST)
                return moat_error_set(err, errno, "create %s", cache);
        if (moat_seccomp_compile(spec->seccomp, cache, prog, err) < 0)
                return moat_error_wrap(err, "linux.seccomp");
        *have = true;
        return 0;
}

static int do_create(const struct moat_runtime *rt, const struct moat_create_opts *o, bool run_mode,
                     struct created *cr, struct moat_error *err)
{
        memset(cr, 0, sizeof *cr);
        cr->sync_fd = cr->pty_master = -1;
        cr->c.dirfd = -1;
        int r;
        if (!moat_runtime_id_valid(o->id))
                return moat_error_set(err, 0, "invalid container id \"%s\": use 1-1024 of [A-Za-z0-9_+.-], not "
                                              "starting with '.' or '-'",
                                      o->id ? o->id : "");
        if (o->no_pivot)
                return moat_error_set(err, ENOTSUP, "--no-pivot is not supported: moat-runtime always uses pivot_root");
        if (o->preserve_fds < 0 || o->preserve_fds > 1024)
                return moat_error_set(err, 0, "--preserve-fds: %d is out of range", o->preserve_fds);
        if ((r = moat_spec_load(o->bundle, &cr->spec, err)) < 0)
                return r;
        const struct moat_spec *spec = &cr->spec;
        if (!spec->has_process)
                return moat_error_set(err, 0, "process: required field is missing");
        if (spec->process.terminal && !o->console_socket && (!run_mode || o->detach))
                return moat_error_set(err, 0, "process.terminal is true: a console socket is required "
                                              "(--console-socket) when the runtime does not stay attached");
        if (!spec->process.terminal && o->console_socket)
                return moat_error_set(err, 0, "--console-socket given but process.terminal is false");
        struct stat st;
        if (stat(spec->root_path, &st) < 0 || !S_ISDIR(st.st_mode))
                return moat_error_set(err, errno ? errno : ENOTDIR, "root.path: %s", spec->root_path);
        /* Joining a pid namespace by path puts our child where the container's processes can see
         * it before it execs: run from a sealed copy first (nothing exists yet to undo). */
        if (spec->ns[MOAT_NS_PID].present && spec->ns[MOAT_NS_PID].path && !moat_runtime_is_sealed()) {
                if (!o->reexec_argv)
                        return moat_error_set(err, ENOTSUP, "joining a pid namespace by path needs the runtime to "
                                                            "re-execute from a sealed copy of itself");
                if ((r = moat_runtime_ensure_sealed(o->reexec_argc, o->reexec_argv, err)) < 0)
                        return r;
        }

        struct moat_seccomp_program prog = { 0 };
        bool have_prog = false;
        if ((r = moat_seccomp_for_container(rt, spec, &prog, &have_prog, err)) < 0)
                goto out_noclean;

        if ((r = moat_state_dir_create(rt, o->id, &cr->c, err)) < 0)
                goto out_noclean;
        char created[64];
        now_rfc3339(created, sizeof created);
        json_object_set_new(cr->c.state, "ociVersion", json_string("1.2.0"));
        json_object_set_new(cr->c.state, "id", json_string(o->id));
        json_object_set_new(cr->c.state, "bundle", json_string(o->bundle));
        json_object_set_new(cr->c.state, "rootfs", json_string(spec->root_path));
        json_object_set_new(cr->c.state, "created", json_string(created));
        json_object_set_new(cr->c.state, "creating", json_true());
        if (spec->annotations)
                json_object_set(cr->c.state, "annotations", spec->annotations);

        if (!rt->cgroups_disabled) {
                if ((r = moat_cgroup_create(rt->cgroup_root, spec->cgroups_path, o->id, &spec->resources, &cr->cg,
                                            err)) < 0)
                        goto fail;
                json_object_set_new(cr->c.state, "cgroupPath", json_string(moat_cgroup_path(cr->cg)));
                if ((r = moat_cgroup_join_prepare(cr->cg, err)) < 0)
                        goto fail;
        }
        /* recorded before any process exists, so a crash from here on leaves a deletable container */
        if ((r = moat_state_save(&cr->c, err)) < 0)
                goto fail;

        int listen_fd = -1;
        if (!run_mode && (listen_fd = make_start_socket(&cr->c, err)) < 0) {
                r = listen_fd;
                goto fail;
        }
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
                r = moat_error_set(err, errno, "socketpair");
                if (listen_fd >= 0)
                        close(listen_fd);
                goto fail;
        }
        cr->sync_fd = sp[0];

        bool new_user = spec->ns[MOAT_NS_USER].present && !spec->ns[MOAT_NS_USER].path;
        bool joins = false;
        for (int t = 0; t < MOAT_NS_COUNT; t++)
                if (t != MOAT_NS_PID && t != MOAT_NS_TIME && spec->ns[t].present && spec->ns[t].path)
                        joins = true;
        bool slow = (new_user && joins) || (spec->ns[MOAT_NS_USER].present && spec->ns[MOAT_NS_USER].path);

        int cgfd = cr->cg ? moat_cgroup_dirfd(cr->cg) : -1;
        uint64_t flags = 0;
        if (!slow) {
                for (int t = 0; t < MOAT_NS_COUNT; t++)
                        if (t != MOAT_NS_TIME && spec->ns[t].present && !spec->ns[t].path)
                                flags |= (uint64_t) moat_ns_clone_flag((enum moat_ns_type) t);
                /* a cgroup namespace made at birth only has the right root if we are born in the cgroup */
                if (cgfd < 0 || !moat_cgroup_clone_places_all(cr->cg))
                        flags &= ~(uint64_t) CLONE_NEWCGROUP;
        } else if (spec->ns[MOAT_NS_PID].present && !spec->ns[MOAT_NS_PID].path && !new_user &&
                   !spec->ns[MOAT_NS_USER].present) {
                flags |= CLONE_NEWPID;
        }

        if (new_user && (r = moat_mounts_prepare_trees(spec, err)) < 0) {
                close(sp[1]);
                if (listen_fd >= 0)
                        close(listen_fd);
                goto fail;
        }
        struct ns_restore rs;
        if ((r = prepare_parent_namespaces(spec, &rs, err)) < 0) {
                moat_mounts_release_trees(spec);
                restore_parent_namespaces(&rs);
                close(sp[1]);
                if (listen_fd >= 0)
                        close(listen_fd);
                goto fail;
        }
        struct moat_init_ctx ctx = {
                .spec = spec,
                .opts = o,
                .seccomp = have_prog ? &prog : NULL,
                .sync_fd = sp[1],
                .listen_fd = listen_fd,
                .slow_path = slow,
                .clone_flags = (int) flags,
                .preserve_fds = o->preserve_fds,
                .state_dirfd = cr->c.dirfd,
                .cgroup = cr->cg,
        };
        pid_t pid = moat_clone(flags, cgfd, &ctx.cloned_in_cgroup);
        if (!ctx.cloned_in_cgroup)
                ctx.clone_flags = (int) (flags & ~(uint64_t) CLONE_NEWCGROUP);
        if (pid == 0) {
                close(sp[0]);
                moat_init_main(&ctx);
        }
        int clone_errno = errno;
        if (cr->cg)
                moat_cgroup_join_release(cr->cg); /* the child joins by itself */
        moat_mounts_release_trees(spec); /* the child has its own copies */
        restore_parent_namespaces(&rs);
        close(sp[1]);
        if (listen_fd >= 0)
                close(listen_fd);
        if (pid < 0) {
                r = moat_error_set(err, clone_errno, "clone the container process");
                goto fail;
        }
        cr->pid = pid; /* the intermediate on the slow path, until SYNC_PID */

        if (!slow && new_user && (r = write_maps(spec, pid, err)) < 0)
                goto fail;
        if (slow) {
                for (;;) {
                        enum moat_sync_type t;
                        _cleanup_free_ char *data = NULL;
                        size_t len;
                        if (moat_sync_recv(cr->sync_fd, &t, &data, &len, NULL) < 0) {
                                r = setup_failed(cr->sync_fd, err);
                                goto fail;
                        }
                        if (t == SYNC_ERROR) {
                                r = moat_error_set(err, 0, "%s", data);
                                goto fail;
                        }
                        if (t == SYNC_USERNS) {
                                if ((r = write_maps(spec, pid, err)) < 0)
                                        goto fail;
                                moat_sync_send(cr->sync_fd, SYNC_USERNS_DONE, NULL, 0, -1);
                        } else if (t == SYNC_PID && len == sizeof(int32_t)) {
                                int32_t p;
                                memcpy(&p, data, sizeof p);
                                waitpid(pid, NULL, 0); /* the intermediate */
                                cr->pid = pid = p;
                                break;
                        }
                }
        }
        json_object_set_new(cr->c.state, "pid", json_integer(pid));
        json_object_set_new(cr->c.state, "pidStartTime", json_integer((json_int_t) moat_proc_start_time(pid)));
        cr->c.pid = pid;
        {
                /* The child builds its filesystem while we run the runtime's hooks; it waits for
                 * PARENT_DONE before it needs them. */
                _cleanup_free_ char *hs = state_json_for_hooks(&cr->c, MOAT_STATUS_CREATING);
                if (moat_sync_send(cr->sync_fd, SYNC_GO, hs, strlen(hs), -1) < 0) {
                        r = setup_failed(cr->sync_fd, err);
                        goto fail;
                }
                if (cr->cg && new_user &&
                    (r = moat_cgroup_chown(cr->cg, host_root_uid(spec, false), host_root_uid(spec, true), err)) < 0)
                        goto fail;
                if (spec->process.has_oom_score_adj) {
                        char path[64], val[16];
                        snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int) pid);
                        int n = snprintf(val, sizeof val, "%d", spec->process.oom_score_adj);
                        if ((r = moat_write_file_at(AT_FDCWD, path, val, (size_t) n, 0, 0, err)) < 0)
                                goto fail;
                }
                if (spec->n_hooks[MOAT_HOOK_PRESTART] &&
                    (r = moat_hooks_run(spec->hooks[MOAT_HOOK_PRESTART], spec->n_hooks[MOAT_HOOK_PRESTART],
                                        MOAT_HOOK_PRESTART, hs, err)) < 0)
                        goto fail;
                if (spec->n_hooks[MOAT_HOOK_CREATE_RUNTIME] &&
                    (r = moat_hooks_run(spec->hooks[MOAT_HOOK_CREATE_RUNTIME], spec->n_hooks[MOAT_HOOK_CREATE_RUNTIME],
                                        MOAT_HOOK_CREATE_RUNTIME, hs, err)) < 0)
                        goto fail;
                if (moat_sync_send(cr->sync_fd, SYNC_PARENT_DONE, NULL, 0, -1) < 0) {
                        r = setup_failed(cr->sync_fd, err);
                        goto fail;
                }
        }
        for (;;) {
                enum moat_sync_type t;
                _cleanup_free_ char *data = NULL;
                int fd = -1;
                if (moat_sync_recv(cr->sync_fd, &t, &data, NULL, &fd) < 0) {
                        r = setup_failed(cr->sync_fd, err);
                        goto fail;
                }
                if (t == SYNC_ERROR) {
                        r = moat_error_set(err, 0, "%s", data);
                        goto fail;
                }
                if (t == SYNC_PTY && fd >= 0) {
                        if (o->console_socket) {
                                r = moat_send_fd_to_socket(o->console_socket, fd, "/dev/ptmx", err);
                                close(fd);
                                if (r < 0)
                                        goto fail;
                        } else
                                cr->pty_master = fd;
                        continue;
                }
                if (t == SYNC_READY)
                        break;
                if (fd >= 0)
                        close(fd);
        }
        json_object_del(cr->c.state, "creating");
        json_object_set(cr->c.state, "config", spec->json);
        if ((r = moat_state_save(&cr->c, err)) < 0)
                goto fail;
        if (o->pid_file) {
                char buf[16];
                int n = snprintf(buf, sizeof buf, "%d", (int) pid);
                if ((r = moat_write_file_replace(o->pid_file, buf, (size_t) n, 0644, err)) < 0)
                        goto fail;
        }
        if (have_prog)
                moat_seccomp_program_free(&prog);
        return 0;

fail:
        if (cr->pid > 0) {
                kill(cr->pid, SIGKILL);
                waitpid(cr->pid, NULL, 0);
        }
        if (cr->cg) {
                struct moat_error e2;
                moat_cgroup_destroy(cr->cg, &e2);
        }
        if (cr->c.dir) {
                struct moat_error e2;
                moat_state_remove(&cr->c, &e2);
        }
out_noclean:
        if (have_prog)
                moat_seccomp_program_free(&prog);
        created_release(cr);
        return r;
}

int moat_runtime_create(const struct moat_runtime *rt, const struct moat_create_opts *o, struct moat_error *err)
{
        struct created cr;
        int r = do_create(rt, o, false, &cr, err);
        if (r < 0)
                return r;
        created_release(&cr);
        return 0;
}

int moat_await_exec(int fd, const struct moat_spec *spec, const char *state_json, const char *console_socket,
                    int *pty_out, struct moat_error *err)
{
        for (;;) {
                enum moat_sync_type t;
                _cleanup_free_ char *data = NULL;
                int got = -1;
                int rr = moat_sync_recv(fd, &t, &data, NULL, &got);
                if (rr == -EPIPE || rr == -ECONNRESET)
                        return 0; /* closed on exec: the process runs */
                if (rr < 0)
                        return moat_error_set(err, -rr, "wait for the container process to exec");
                if (t == SYNC_ERROR) {
                        if (got >= 0)
                                close(got);
                        return moat_error_set(err, 0, "%s", data);
                }
                if (t == SYNC_PTY && got >= 0) {
                        int r = 0;
                        if (console_socket) {
                                r = moat_send_fd_to_socket(console_socket, got, "/dev/ptmx", err);
                                close(got);
                        } else if (pty_out)
                                *pty_out = got;
                        else
                                close(got);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (t == SYNC_SECCOMP && got >= 0) {
                        json_t *sc = spec->seccomp;
                        struct moat_seccomp_program lp = {
                                .listener_path = (char *) json_string_value(json_object_get(sc, "listenerPath")),
                                .listener_metadata = (char *) json_string_value(json_object_get(sc, "listenerMetadata")),
                        };
                        int r = moat_seccomp_send_listener(&lp, got, state_json, err);
                        close(got);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (got >= 0)
                        close(got);
        }
}

/* A failing poststart hook fails start (as runc 1.2 and crun do); the process keeps running and
 * the caller decides whether to delete it. */
static int run_poststart(struct moat_container *c, const struct moat_spec *spec, struct moat_error *err)
{
        if (!spec->n_hooks[MOAT_HOOK_POSTSTART])
                return 0;
        _cleanup_free_ char *hs = state_json_for_hooks(c, MOAT_STATUS_RUNNING);
        return moat_hooks_run(spec->hooks[MOAT_HOOK_POSTSTART], spec->n_hooks[MOAT_HOOK_POSTSTART],
                              MOAT_HOOK_POSTSTART, hs, err);
}

int moat_load_spec_from_state(struct moat_container *c, struct moat_spec *spec, struct moat_error *err)
{
        json_t *cfg = json_object_get(c->state, "config");
        if (!cfg)
                return moat_error_set(err, EIO, "container \"%s\": the state has no config", c->id);
        return moat_spec_parse(cfg, c->bundle, spec, err);
}

int moat_runtime_start(const struct moat_runtime *rt, const char *id, struct moat_error *err)
{
        struct moat_container c;
        int r = moat_state_load(rt, id, &c, err);
        if (r < 0)
                return r;
        enum moat_status st = moat_container_status(&c, rt);
        if (st != MOAT_STATUS_CREATED) {
                r = st == MOAT_STATUS_STOPPED ? moat_error_set(err, 0, "cannot start a container that has stopped")
                                              : moat_error_set(err, 0, "cannot start an already %s container",
                                                               moat_status_name(st));
                moat_container_release(&c);
                return r;
        }
        struct moat_spec spec;
        if ((r = moat_load_spec_from_state(&c, &spec, err)) < 0) {
                moat_container_release(&c);
                return r;
        }
        _cleanup_close_ int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/start.sock", c.dirfd);
        if (s < 0 || connect(s, (struct sockaddr *) &addr, sizeof addr) < 0) {
                r = moat_error_set(err, errno, "connect to container %s", id);
                goto out;
        }
        unlinkat(c.dirfd, "start.sock", 0);
        if (write(s, "S", 1) != 1) {
                r = moat_error_set(err, errno, "start container %s", id);
                goto out;
        }
        {
                _cleanup_free_ char *hs = state_json_for_hooks(&c, MOAT_STATUS_CREATED);
                if ((r = moat_await_exec(s, &spec, hs, NULL, NULL, err)) < 0)
                        goto out;
        }
        r = run_poststart(&c, &spec, err);
out:
        moat_spec_free(&spec);
        moat_container_release(&c);
        return r;
}

/* Remove what a stopped container left: its cgroup, its state; then poststop hooks. */
static int destroy_stopped(const struct moat_runtime *rt, struct moat_container *c, struct moat_error *err)
{
        struct moat_cgroup *cg = NULL;
        if (moat_container_cgroup(rt, c, &cg, err) == 0 && cg) {
                int r = moat_cgroup_destroy(cg, err);
                moat_cgroup_free(cg);
                if (r < 0)
                        return r;
        }
        struct moat_spec spec;
        if (json_object_get(c->state, "config") && moat_load_spec_from_state(c, &spec, err) == 0) {
                if (spec.n_hooks[MOAT_HOOK_POSTSTOP]) {
                        _cleanup_free_ char *hs = state_json_for_hooks(c, MOAT_STATUS_STOPPED);
                        struct moat_error e;
                        if (moat_hooks_run(spec.hooks[MOAT_HOOK_POSTSTOP], spec.n_hooks[MOAT_HOOK_POSTSTOP],
                                           MOAT_HOOK_POSTSTOP, hs, &e) < 0)
                                moat_warn("%s", e.msg);
                }
                moat_spec_free(&spec);
        }
        return moat_state_remove(c, err);
}

static void forward_winsize(int master)
{
        struct winsize ws;
        if (ioctl(0, TIOCGWINSZ, &ws) == 0)
                ioctl(master, TIOCSWINSZ, &ws);
}

static int copy_once(int from, int to)
{
        char buf[16384];
        ssize_t n = read(from, buf, sizeof buf);
        if (n <= 0)
                return -1;
        return moat_write_all(to, buf, (size_t) n) < 0 ? -1 : 0;
}

/* Foreground: forward signals to the container, proxy the terminal, wait for the exit. */
int moat_wait_foreground(pid_t pid, int master, int *status_out)
{
        sigset_t set;
        sigfillset(&set);
        sigdelset(&set, SIGSEGV);
        sigdelset(&set, SIGBUS);
        sigdelset(&set, SIGILL);
        sigdelset(&set, SIGFPE);
        sigprocmask(SIG_BLOCK, &set, NULL);
        int sfd = signalfd(-1, &set, SFD_CLOEXEC);
        struct termios saved;
        bool raw = false;
        if (master >= 0 && isatty(0) && tcgetattr(0, &saved) == 0) {
                struct termios t = saved;
                cfmakeraw(&t);
                raw = tcsetattr(0, TCSANOW, &t) == 0;
                forward_winsize(master);
        }
        int status = 0;
        bool stdin_open = master >= 0;
        for (;;) {
                pid_t w = waitpid(pid, &status, WNOHANG);
                if (w == pid)
                        break;
                struct pollfd p[3] = { { sfd, POLLIN, 0 }, { stdin_open ? 0 : -1, POLLIN, 0 },
                                       { master, POLLIN, 0 } };
                if (poll(p, 3, -1) < 0 && errno != EINTR)
                        break;
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof si) == sizeof si) {
                                if (si.ssi_signo == SIGWINCH && master >= 0)
                                        forward_winsize(master);
                                else if (si.ssi_signo != SIGCHLD && si.ssi_signo != SIGURG && si.ssi_signo != SIGWINCH)
                                        kill(pid, (int) si.ssi_signo);
                        }
                }
                if (p[1].revents & (POLLIN | POLLHUP)) {
                        if (copy_once(0, master) < 0)
                                stdin_open = false;
                }
                if (master >= 0 && p[2].revents & (POLLIN | POLLHUP)) {
                        if (copy_once(master, 1) < 0) {
                                /* the terminal closed: the process is exiting */
                                close(master);
                                master = -1;
                        }
                }
        }
        /* the process may have exited with output still in the terminal's buffer */
        if (master >= 0) {
                fcntl(master, F_SETFL, O_NONBLOCK);
                while (copy_once(master, 1) == 0)
                        ;
                close(master);
        }
        if (raw)
                tcsetattr(0, TCSANOW, &saved);
        if (sfd >= 0)
                close(sfd);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        *status_out = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
        return 0;
}

/* run and spawn: start over the sync socket, wait for the exec (or the child's error, forwarding
 * a seccomp listener on the way), then poststart hooks. */
static int start_created(struct created *cr, struct moat_error *err)
{
        if (moat_sync_send(cr->sync_fd, SYNC_START, "S", 1, -1) < 0)
                return moat_error_set(err, EPIPE, "start the container");
        _cleanup_free_ char *hs = state_json_for_hooks(&cr->c, MOAT_STATUS_CREATED);
        int r = moat_await_exec(cr->sync_fd, &cr->spec, hs, NULL, NULL, err);
        if (r < 0)
                return r;
        close(cr->sync_fd);
        cr->sync_fd = -1;
        return run_poststart(&cr->c, &cr->spec, err);
}

static void abort_created(const struct moat_runtime *rt, struct created *cr)
{
        kill(cr->pid, SIGKILL);
        waitpid(cr->pid, NULL, 0);
        struct moat_error e;
        destroy_stopped(rt, &cr->c, &e);
        created_release(cr);
}

int moat_runtime_run(const struct moat_runtime *rt, const struct moat_create_opts *o, int *exit_status,
                     struct moat_error *err)
{
        struct created cr;
        int r = do_create(rt, o, true, &cr, err);
        if (r < 0)
                return r;
        if ((r = start_created(&cr, err)) < 0)
                goto fail;
        if (o->detach) {
                created_release(&cr);
                *exit_status = 0;
                return 0;
        }
        /* our own record must not hold the lock while the container runs */
        flock(cr.c.dirfd, LOCK_UN);
        moat_wait_foreground(cr.pid, cr.pty_master, exit_status);
        cr.pty_master = -1;
        if (!o->keep) {
                flock(cr.c.dirfd, LOCK_EX);
                struct moat_error e;
                if (destroy_stopped(rt, &cr.c, &e) < 0)
                        moat_warn("delete %s: %s", o->id, e.msg);
        }
        created_release(&cr);
        return 0;
fail:
        abort_created(rt, &cr);
        return r;
}

int moat_runtime_spawn(const struct moat_runtime *rt, const struct moat_create_opts *o, pid_t *pid, int *pty_master,
                       struct moat_error *err)
{
        struct moat_create_opts oo = *o;
        oo.detach = false;
        oo.console_socket = NULL;
        struct created cr;
        int r = do_create(rt, &oo, true, &cr, err);
        if (r < 0)
                return r;
        if ((r = start_created(&cr, err)) < 0)
                goto fail;
        *pid = cr.pid;
        *pty_master = cr.pty_master;
        cr.pty_master = -1;
        created_release(&cr);
        return 0;
fail:
        abort_created(rt, &cr);
        return r;
}

int moat_runtime_state(const struct moat_runtime *rt, const char *id, json_t **state, struct moat_error *err)
{
        struct moat_container c;
        int r = moat_state_load(rt, id, &c, err);
        if (r < 0)
                return r;
        *state = moat_container_oci_state(&c, moat_container_status(&c, rt));
        moat_container_release(&c);
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int moat_runtime_list(const struct moat_runtime *rt, json_t **list, struct moat_error *err)
{
        *list = json_array();
        DIR *d = opendir(rt->root);
        if (!d)
                return errno == ENOENT ? 0 : moat_error_set(err, errno, "open %s", rt->root);
        char **ids = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (moat_runtime_id_valid(de->d_name)) {
                        ids = xrealloc(ids, (n + 1) * sizeof *ids);
                        ids[n++] = xstrdup(de->d_name);
                }
        closedir(d);
        qsort(ids, n, sizeof *ids, cmp_str);
        for (size_t i = 0; i < n; i++) {
                json_t *s;
                struct moat_error e;
                if (moat_runtime_state(rt, ids[i], &s, &e) == 0)
                        json_array_append_new(*list, s);
                free(ids[i]);
        }
        free(ids);
        return 0;
}

static int signal_init(struct moat_container *c, int sig, struct moat_error *err)
{
        int pfd = (int) syscall(SYS_pidfd_open, c->pid, 0);
        if (pfd < 0)
                return moat_error_set(err, errno == ESRCH ? ESRCH : errno, "container not running");
        /* the pidfd pins the process: check it is still the container's init before signalling */
        if (moat_proc_start_time(c->pid) != c->pid_start) {
                close(pfd);
                return moat_error_set(err, ESRCH, "container not running");
        }
        int r = (int) syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0);
        int e = errno;
        close(pfd);
        if (r < 0)
                return moat_error_set(err, e, "signal container %s", c->id);
        return 0;
}

int moat_runtime_kill(const struct moat_runtime *rt, const char *id, int sig, bool all, struct moat_error *err)
{
        struct moat_container c;
        int r = moat_state_load(rt, id, &c, err);
        if (r < 0)
                return r;
        enum moat_status st = moat_container_status(&c, rt);
        if (st == MOAT_STATUS_STOPPED || st == MOAT_STATUS_CREATING) {
                r = moat_error_set(err, ESRCH, "container not running");
        } else if (all) {
                struct moat_cgroup *cg = NULL;
                r = moat_container_cgroup(rt, &c, &cg, err);
                if (r == 0 && cg)
                        r = moat_cgroup_kill_all(cg, sig, err);
                else if (r == 0)
                        r = signal_init(&c, sig, err);
                moat_cgroup_free(cg);
        } else
                r = signal_init(&c, sig, err);
        moat_container_release(&c);
        return r;
}

static void wait_gone(struct moat_container *c, int timeout_ms)
{
        int pfd = (int) syscall(SYS_pidfd_open, c->pid, 0);
        if (pfd < 0)
                return;
        if (moat_proc_start_time(c->pid) == c->pid_start) {
                struct pollfd p = { pfd, POLLIN, 0 };
                poll(&p, 1, timeout_ms);
        }
        close(pfd);
}

int moat_runtime_delete(const struct moat_runtime *rt, const char *id, bool force, struct moat_error *err)
{
        struct moat_container c;
        int r = moat_state_load(rt, id, &c, err);
        if (r < 0) {
                /* a crash during create leaves a directory with no complete state: force cleans it */
                if (force && moat_runtime_id_valid(id)) {
                        _cleanup_free_ char *dir = xasprintf("%s/%s", rt->root, id);
                        struct stat st;
                        if (stat(dir, &st) == 0) {
                                struct moat_error e;
                                moat_rm_rf(dir, &e);
                                return 0;
                        }
                }
                return r;
        }
        enum moat_status st = moat_container_status(&c, rt);
        if (st == MOAT_STATUS_RUNNING || st == MOAT_STATUS_PAUSED) {
                if (!force) {
                        r = moat_error_set(err, EBUSY, "cannot delete container %s that is not stopped: %s", id,
                                           moat_status_name(st));
                        moat_container_release(&c);
                        return r;
                }
        }
        if (st != MOAT_STATUS_STOPPED) {
                struct moat_cgroup *cg = NULL;
                struct moat_error e;
                if (moat_container_cgroup(rt, &c, &cg, &e) == 0 && cg) {
                        if (st == MOAT_STATUS_PAUSED)
                                moat_cgroup_freeze(cg, false, &e);
                        moat_cgroup_kill_all(cg, SIGKILL, &e);
                        moat_cgroup_free(cg);
                }
                signal_init(&c, SIGKILL, &e);
                wait_gone(&c, 10000);
        }
        r = destroy_stopped(rt, &c, err);
        moat_container_release(&c);
        return r;
}

static int with_cgroup(const struct moat_runtime *rt, const char *id, struct moat_container *c,
                       struct moat_cgroup **cg, struct moat_error *err)
{
        int r = moat_state_load(rt, id, c, err);
        if (r < 0)
                return r;
        if ((r = moat_container_cgroup(rt, c, cg, err)) < 0 || !*cg) {
                if (r == 0)
                        r = moat_error_set(err, ENOTSUP, "container %s has no cgroup (--cgroup-manager disabled)", id);
                moat_container_release(c);
                return r;
        }
        return 0;
}

int moat_runtime_ps(const struct moat_runtime *rt, const char *id, pid_t **pids, size_t *n, struct moat_error *err)
{
        struct moat_container c;
        struct moat_cgroup *cg = NULL;
        int r = with_cgroup(rt, id, &c, &cg, err);
        if (r < 0)
                return r;
        r = moat_cgroup_pids(cg, pids, n, err);
        moat_cgroup_free(cg);
        moat_container_release(&c);
        return r;
}

static int set_frozen(const struct moat_runtime *rt, const char *id, bool frozen, struct moat_error *err)
{
        struct moat_container c;
        struct moat_cgroup *cg = NULL;
        int r = with_cgroup(rt, id, &c, &cg, err);
        if (r < 0)
                return r;
        enum moat_status st = moat_container_status(&c, rt);
        if (frozen && st != MOAT_STATUS_RUNNING)
                r = moat_error_set(err, 0, "container %s is not running (%s)", id, moat_status_name(st));
        else if (!frozen && st != MOAT_STATUS_PAUSED)
                r = moat_error_set(err, 0, "container %s is not paused (%s)", id, moat_status_name(st));
        else
                r = moat_cgroup_freeze(cg, frozen, err);
        moat_cgroup_free(cg);
        moat_container_release(&c);
        return r;
}

int moat_runtime_pause(const struct moat_runtime *rt, const char *id, struct moat_error *err)
{
        return set_frozen(rt, id, true, err);
}

int moat_runtime_resume(const struct moat_runtime *rt, const char *id, struct moat_error *err)
{
        return set_frozen(rt, id, false, err);
}

int moat_runtime_update(const struct moat_runtime *rt, const char *id, const struct moat_cgroup_resources *res,
                        struct moat_error *err)
{
        struct moat_container c;
        struct moat_cgroup *cg = NULL;
        int r = with_cgroup(rt, id, &c, &cg, err);
        if (r < 0)
                return r;
        enum moat_status st = moat_container_status(&c, rt);
        if (st == MOAT_STATUS_STOPPED)
                r = moat_error_set(err, 0, "container %s is stopped", id);
        else
                r = moat_cgroup_apply(cg, res, err);
        moat_cgroup_free(cg);
        moat_container_release(&c);
        return r;
}
