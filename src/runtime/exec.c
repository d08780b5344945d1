/* exec: a new process in a running container, with exactly the confinement of its first
 * process: every namespace (joined at once through a pidfd), the cgroup, rlimits, user,
 * capabilities, no_new_privs and the same seccomp filter. */
#include "internal.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* Namespaces of pid that differ from ours (joining one we are already in is refused for user). */
static int differing_namespaces(pid_t pid)
{
        int flags = 0;
        for (int t = 0; t < MOAT_NS_COUNT; t++) {
                char a[64], b[64];
                snprintf(a, sizeof a, "/proc/%d/ns/%s", (int) pid, moat_ns_procname((enum moat_ns_type) t));
                snprintf(b, sizeof b, "/proc/self/ns/%s", moat_ns_procname((enum moat_ns_type) t));
                struct stat sa, sb;
                if (stat(a, &sa) == 0 && stat(b, &sb) == 0 && (sa.st_ino != sb.st_ino || sa.st_dev != sb.st_dev))
                        flags |= moat_ns_clone_flag((enum moat_ns_type) t);
        }
        return flags;
}

/* The exec'd process: the config's process with the caller's overrides. Strings are borrowed. */
static int build_process(const struct moat_exec_opts *o, const struct moat_spec *spec, struct moat_process *p,
                         char ***env_owned, struct moat_error *err)
{
        *env_owned = NULL;
        if (o->process)
                return moat_spec_parse_process(o->process, "process", p, err);
        if (!o->args || !o->args[0])
                return moat_error_set(err, 0, "exec: a command (or --process) is required");
        *p = spec->process;
        /* deep-copy the arrays we may change; the rest stays borrowed from spec */
        p->args = XNEW(char *, strv_len(o->args) + 1);
        memcpy(p->args, o->args, strv_len(o->args) * sizeof(char *));
        size_t ne = strv_len(spec->process.env), na = strv_len(o->env);
        char **env = XNEW(char *, ne + na + 1);
        size_t k = 0;
        for (size_t i = 0; i < ne; i++)
                env[k++] = spec->process.env[i];
        for (size_t i = 0; i < na; i++) {
                const char *eq = strchr(o->env[i], '=');
                if (!eq || eq == o->env[i]) {
                        free(env);
                        free(p->args);
                        return moat_error_set(err, 0, "--env: \"%s\" is not NAME=VALUE", o->env[i]);
                }
                size_t kl = (size_t) (eq - o->env[i]) + 1;
                bool replaced = false;
                for (size_t j = 0; j < k; j++)
                        if (strncmp(env[j], o->env[i], kl) == 0) {
                                env[j] = o->env[i];
                                replaced = true;
                        }
                if (!replaced)
                        env[k++] = o->env[i];
        }
        p->env = env;
        *env_owned = env;
        p->user.additional_gids = spec->process.user.n_additional_gids
                                          ? xmalloc(spec->process.user.n_additional_gids * sizeof(gid_t))
                                          : NULL;
        if (p->user.additional_gids)
                memcpy(p->user.additional_gids, spec->process.user.additional_gids,
                       spec->process.user.n_additional_gids * sizeof(gid_t));
        p->rlimits = spec->process.n_rlimits ? xmalloc(spec->process.n_rlimits * sizeof(struct moat_rlimit)) : NULL;
        if (p->rlimits)
                memcpy(p->rlimits, spec->process.rlimits, spec->process.n_rlimits * sizeof(struct moat_rlimit));
        if (o->cwd) {
                if (o->cwd[0] != '/') {
                        moat_process_free(p);
                        *env_owned = NULL;
                        return moat_error_set(err, 0, "--cwd: \"%s\" is not an absolute path", o->cwd);
                }
                p->cwd = (char *) o->cwd;
        }
        if (o->user) {
                long long u, g = -1;
                _cleanup_free_ char *s = xstrdup(o->user);
                char *colon = strchr(s, ':');
                if (colon)
                        *colon = '\0';
                if (moat_parse_int64(s, &u) < 0 || u < 0 || u >= UINT32_MAX ||
                    (colon && (moat_parse_int64(colon + 1, &g) < 0 || g < 0 || g >= UINT32_MAX))) {
                        moat_process_free(p);
                        *env_owned = NULL;
                        return moat_error_set(err, 0, "--user: \"%s\" is not UID[:GID] (numbers)", o->user);
                }
                p->user.uid = (uid_t) u;
                if (g >= 0)
                        p->user.gid = (gid_t) g;
        }
        for (char **c = o->add_caps; c && *c; c++) {
                int cap = moat_cap_from_name(*c);
                if (cap < 0) {
                        moat_process_free(p);
                        *env_owned = NULL;
                        return moat_error_set(err, 0, "--cap: unknown capability \"%s\"", *c);
                }
                uint64_t bit = 1ULL << cap;
                p->caps.bounding |= bit;
                p->caps.effective |= bit;
                p->caps.permitted |= bit;
                p->caps.set = true;
        }
        if (o->tty >= 0)
                p->terminal = o->tty;
        if (o->no_new_privs_set)
                p->no_new_privileges = o->no_new_privs;
        return 0;
}

int moat_runtime_exec(const struct moat_runtime *rt, const struct moat_exec_opts *o, int *exit_status,
                      struct moat_error *err)
{
        struct moat_container c;
        int r = moat_state_load(rt, o->id, &c, err);
        if (r < 0)
                return r;
        struct moat_spec spec = { 0 };
        struct moat_process proc = { 0 };
        char **env_owned = NULL;
        struct moat_cgroup *cg = NULL;
        struct moat_seccomp_program prog = { 0 };
        bool have_prog = false;
        int pidfd = -1, sp[2] = { -1, -1 }, master = -1, saved_pidns = -1, rootfd = -1;
        pid_t pid = -1;

        enum moat_status st = moat_container_status(&c, rt);
        if (st != MOAT_STATUS_RUNNING && st != MOAT_STATUS_CREATED) {
                r = moat_error_set(err, 0, "cannot exec in a %s container", moat_status_name(st));
                goto out;
        }
        if ((r = moat_load_spec_from_state(&c, &spec, err)) < 0)
                goto out;
        if ((r = build_process(o, &spec, &proc, &env_owned, err)) < 0)
                goto out;
        if (proc.terminal && !o->console_socket && !o->pty_master_out && o->detach) {
                r = moat_error_set(err, 0, "a terminal needs --console-socket when exec detaches");
                goto out;
        }
        if (!proc.terminal && o->console_socket) {
                r = moat_error_set(err, 0, "--console-socket given but the process has no terminal");
                goto out;
        }
        if ((r = moat_seccomp_for_container(rt, &spec, &prog, &have_prog, err)) < 0)
                goto out;
        if ((r = moat_container_cgroup(rt, &c, &cg, err)) < 0)
                goto out;
        pidfd = (int) syscall(SYS_pidfd_open, c.pid, 0);
        if (pidfd < 0 || moat_proc_start_time(c.pid) != c.pid_start) {
                r = moat_error_set(err, ESRCH, "container %s is not running", o->id);
                goto out;
        }
        int nsflags = differing_namespaces(c.pid);
        /* The init's root, not the mount namespace's: they differ when the runtime itself runs
         * chrooted (a namespace's root is where setns puts us). Opened now, while the pidfd
         * pins the process and /proc is the host's. */
        {
                char rp[64];
                snprintf(rp, sizeof rp, "/proc/%d/root", (int) c.pid);
                rootfd = open(rp, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (rootfd < 0 || moat_proc_start_time(c.pid) != c.pid_start) {
                        r = moat_error_set(err, rootfd < 0 ? errno : ESRCH, "open the root of container %s", o->id);
                        goto out;
                }
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
                r = moat_error_set(err, errno, "socketpair");
                goto out;
        }
        /* we can't hold the container's lock while a foreground exec runs */
        flock(c.dirfd, LOCK_UN);

        if (nsflags & CLONE_NEWPID) {
                saved_pidns = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
                if (saved_pidns < 0 || setns(pidfd, CLONE_NEWPID) < 0) {
                        r = moat_error_set(err, errno, "join the container's pid namespace");
                        goto out;
                }
        }
        if (cg && (r = moat_cgroup_join_prepare(cg, err)) < 0)
                goto out;
        bool entered;
        pid = moat_clone(0, cg ? moat_cgroup_dirfd(cg) : -1, &entered);
        if (pid == 0) {
                close(sp[0]);
                struct moat_error e;
                moat_error_clear(&e);
                /* Defence in depth for CVE-2019-5736: until execve, container processes may not
                 * open our /proc/<pid>/ files (exe, mem, fds). execve makes the user's program
                 * dumpable again unless its credentials change (then fs.suid_dumpable decides);
                 * by then /proc/<pid>/exe is the program, not the runtime. First thing: we are
                 * in the container's pid namespace from birth. */
                if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
                        moat_error_set(&e, errno, "prctl(PR_SET_DUMPABLE, 0)");
                        goto child_fail;
                }
                if (cg && moat_cgroup_join_self(cg, entered, &e) < 0)
                        goto child_fail;
                int joinflags = nsflags & ~CLONE_NEWPID;
                if (joinflags && setns(pidfd, joinflags) < 0) {
                        moat_error_set(&e, errno, "join the container's namespaces");
                        goto child_fail;
                }
                if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
                        moat_error_set(&e, errno, "enter the container's root");
                        goto child_fail;
                }
                close(rootfd);
                if (nsflags & CLONE_NEWUSER && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
                        moat_error_set(&e, errno, "become root in the container's user namespace");
                        goto child_fail;
                }
                if (moat_process_set_rlimits(&proc, &e) < 0)
                        goto child_fail;
                if (spec.has_personality && syscall(SYS_personality, spec.personality) < 0) {
                        moat_error_set(&e, errno, "personality");
                        goto child_fail;
                }
                if (proc.terminal) {
                        int m = moat_process_setup_pty(&proc, false, &e);
                        if (m < 0)
                                goto child_fail;
                        moat_sync_send(sp[1], SYNC_PTY, NULL, 0, m);
                        close(m);
                } else
                        setsid();
                struct moat_finalize f = { .proc = &proc, .seccomp = have_prog ? &prog : NULL,
                                           .preserve_fds = o->preserve_fds,
                                           .in_userns = spec.ns[MOAT_NS_USER].present, .err_fd = sp[1],
                                           .annotations = spec.annotations };
                moat_process_exec(&f, &e);
child_fail:
                moat_sync_send(sp[1], SYNC_ERROR, e.msg, strlen(e.msg), -1);
                _exit(1);
        }
        int clone_errno = errno;
        if (cg)
                moat_cgroup_join_release(cg);
        if (saved_pidns >= 0) {
                (void) !setns(saved_pidns, CLONE_NEWPID);
                close(saved_pidns);
                saved_pidns = -1;
        }
        close(sp[1]);
        sp[1] = -1;
        if (pid < 0) {
                r = moat_error_set(err, clone_errno, "clone the exec process");
                goto out;
        }
        {
                json_t *ost = moat_container_oci_state(&c, MOAT_STATUS_RUNNING);
                _cleanup_free_ char *hs = json_dumps(ost, JSON_COMPACT);
                json_decref(ost);
                if ((r = moat_await_exec(sp[0], &spec, hs ? hs : "{}", o->console_socket, &master, err)) < 0) {
                        waitpid(pid, NULL, 0);
                        pid = -1;
                        goto out;
                }
        }
        if (o->pid_file) {
                char buf[16];
                int n = snprintf(buf, sizeof buf, "%d", (int) pid);
                if ((r = moat_write_file_replace(o->pid_file, buf, (size_t) n, 0644, err)) < 0)
                        goto out_kill;
        }
        if (o->detach) {
                if (o->pid_out)
                        *o->pid_out = pid;
                if (o->pty_master_out) {
                        *o->pty_master_out = master;
                        master = -1;
                }
                *exit_status = 0;
                r = 0;
                goto out;
        }
        moat_wait_foreground(pid, master, exit_status);
        master = -1;
        r = 0;
        goto out;
out_kill:
        if (pid > 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
        }
out:
        if (saved_pidns >= 0) {
                (void) !setns(saved_pidns, CLONE_NEWPID);
                close(saved_pidns);
        }
        if (master >= 0)
                close(master);
        if (sp[0] >= 0)
                close(sp[0]);
        if (sp[1] >= 0)
                close(sp[1]);
        if (pidfd >= 0)
                close(pidfd);
        if (rootfd >= 0)
                close(rootfd);
        if (have_prog)
                moat_seccomp_program_free(&prog);
        moat_cgroup_free(cg);
        free(env_owned);
        if (o->process)
                moat_process_free(&proc);
        else if (proc.args) {
                free(proc.args);
                free(proc.user.additional_gids);
                free(proc.rlimits);
        }
        moat_spec_free(&spec);
        moat_container_release(&c);
        return r;
}
