/* process: the last steps before exec, shared by a container's first process and `exec`:
 * rlimits, the terminal, working directory, credentials, capabilities, no_new_privs, seccomp,
 * closing every fd the container must not see, and the exec itself. */
#include "internal.h"
#include "runtime/landlock.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>

static const char *rlimit_name(int res)
{
        static const char *const names[] = {
                [RLIMIT_CPU] = "RLIMIT_CPU",         [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
                [RLIMIT_DATA] = "RLIMIT_DATA",       [RLIMIT_STACK] = "RLIMIT_STACK",
                [RLIMIT_CORE] = "RLIMIT_CORE",       [RLIMIT_RSS] = "RLIMIT_RSS",
                [RLIMIT_NPROC] = "RLIMIT_NPROC",     [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
                [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK", [RLIMIT_AS] = "RLIMIT_AS",
                [RLIMIT_LOCKS] = "RLIMIT_LOCKS",     [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
                [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
                [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",   [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
        };
        return res >= 0 && (size_t) res < ARRAY_SIZE(names) && names[res] ? names[res] : "RLIMIT_?";
}

int moat_process_set_rlimits(const struct moat_process *p, struct moat_error *err)
{
        for (size_t i = 0; i < p->n_rlimits; i++) {
                const struct moat_rlimit *l = &p->rlimits[i];
                struct rlimit rl = { l->soft, l->hard };
                if (setrlimit(l->resource, &rl) == 0)
                        continue;
                int e = errno;
                struct rlimit cur;
                if (e == EPERM && getrlimit(l->resource, &cur) == 0 && l->hard > cur.rlim_max)
                        return moat_error_set(err, e,
                                              "process.rlimits: %s hard limit %llu is above the caller's hard limit %llu "
                                              "(raising it needs CAP_SYS_RESOURCE)",
                                              rlimit_name(l->resource), (unsigned long long) l->hard,
                                              (unsigned long long) cur.rlim_max);
                return moat_error_set(err, e, "setrlimit %s", rlimit_name(l->resource));
        }
        return 0;
}

int moat_process_setup_pty(const struct moat_process *p, bool bind_console, struct moat_error *err)
{
        _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return moat_error_set(err, errno, "open /dev/ptmx");
        if (unlockpt(master) < 0)
                return moat_error_set(err, errno, "unlockpt");
        char name[64];
        if (ptsname_r(master, name, sizeof name) != 0)
                return moat_error_set(err, errno, "ptsname");
        _cleanup_close_ int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return moat_error_set(err, errno, "open %s", name);
        if (p->console_height || p->console_width) {
                struct winsize ws = { .ws_row = (unsigned short) p->console_height,
                                      .ws_col = (unsigned short) p->console_width };
                ioctl(slave, TIOCSWINSZ, &ws);
        }
        if (bind_console) {
                int fd = open("/dev/console", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd >= 0)
                        close(fd);
                if (mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0)
                        return moat_error_set(err, errno, "bind %s to /dev/console", name);
        }
        if (setsid() < 0 && errno != EPERM)
                return moat_error_set(err, errno, "setsid");
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return moat_error_set(err, errno, "set the controlling terminal");
        for (int i = 0; i < 3; i++)
                if (dup2(slave, i) < 0)
                        return moat_error_set(err, errno, "dup2 terminal");
        return steal_fd(&master);
}

/* PATH search with the process's own environment, as the container would do it. */
int moat_process_resolve_exe(const struct moat_process *p, char **out, struct moat_error *err)
{
        const char *a0 = p->args[0];
        if (strchr(a0, '/')) {
                if (access(a0, X_OK) < 0)
                        return moat_error_set(err, errno, "exec: \"%s\"", a0);
                *out = xstrdup(a0);
                return 0;
        }
        const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (char **e = p->env; e && *e; e++)
                if (startswith(*e, "PATH="))
                        path = *e + 5;
        for (const char *s = path;;) {
                const char *end = strchrnul(s, ':');
                _cleanup_free_ char *cand = end == s ? xasprintf("./%s", a0) : xasprintf("%.*s/%s", (int) (end - s), s, a0);
                struct stat st;
                if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
                        *out = STEAL(cand);
                        return 0;
                }
                if (!*end)
                        break;
                s = end + 1;
        }
        return moat_error_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", a0);
}

/* Check the working directory is reachable from the container's root: a cwd outside it (an
 * inherited host directory, the CVE-2024-21626 class) shows as "(unreachable)" or fails. */
static int enter_cwd(const char *cwd, struct moat_error *err)
{
        if (chdir(cwd) < 0)
                return moat_error_set(err, errno, "chdir to cwd (\"%s\") set in config.json", cwd);
        char buf[PATH_MAX];
        if (!getcwd(buf, sizeof buf) || buf[0] != '/')
                return moat_error_set(err, EPERM, "cwd \"%s\" is outside the container", cwd);
        return 0;
}

/* Load the filter; a notify listener goes to the runtime, which hands it to the agent (the
 * agent's socket is a host path we can no longer reach). */
static int load_seccomp(const struct moat_finalize *f, struct moat_error *err)
{
        int lfd = moat_seccomp_load(f->seccomp, err);
        if (lfd < 0)
                return moat_error_wrap(err, "load seccomp filter");
        if (lfd > 0) {
                int r = f->err_fd >= 0 ? moat_sync_send(f->err_fd, SYNC_SECCOMP, NULL, 0, lfd) : -EBADF;
                close(lfd);
                if (r < 0)
                        return moat_error_set(err, -r, "hand the seccomp listener to the runtime");
        }
        return 0;
}

int moat_process_exec(const struct moat_finalize *f, struct moat_error *err)
{
        const struct moat_process *p = f->proc;
        _cleanup_free_ char *exe = NULL;
        int r;

        if ((r = enter_cwd(p->cwd, err)) < 0)
                return r;
        if ((r = moat_process_resolve_exe(p, &exe, err)) < 0)
                return r;
        umask(p->user.has_umask ? p->user.umask : 0022);

        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return moat_error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
        if ((r = moat_caps_drop_bounding(&p->caps, err)) < 0)
                return r;
        /* Landlock, then seccomp, as the last restrictions. Without no_new_privs both must go in
         * while we still hold CAP_SYS_ADMIN. */
        if (!p->no_new_privileges && (r = moat_landlock_apply(f->annotations, err)) < 0)
                return r;
        if (f->seccomp && !p->no_new_privileges && (r = load_seccomp(f, err)) < 0)
                return r;
        if (setgroups(p->user.n_additional_gids, p->user.additional_gids) < 0 && !(errno == EPERM && f->in_userns))
                return moat_error_set(err, errno, "setgroups");
        if (setresgid(p->user.gid, p->user.gid, p->user.gid) < 0)
                return moat_error_set(err, errno, "setgid %u", (unsigned) p->user.gid);
        if (setresuid(p->user.uid, p->user.uid, p->user.uid) < 0)
                return moat_error_set(err, errno, "setuid %u", (unsigned) p->user.uid);
        if ((r = moat_caps_apply(&p->caps, err)) < 0)
                return r;
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return moat_error_set(err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
        /* Nothing of ours reaches the container: everything above the preserved fds closes on
         * exec (the error fd included, which is how our caller learns the exec happened). */
        unsigned first = 3u + (unsigned) f->preserve_fds;
        if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                for (int fd = (int) first; fd < 65536; fd++)
                        fcntl(fd, F_SETFD, FD_CLOEXEC);
        for (int fd = 3; fd < (int) first; fd++)
                fcntl(fd, F_SETFD, 0);
        if (p->no_new_privileges && (r = moat_landlock_apply(f->annotations, err)) < 0)
                return r;
        if (f->seccomp && p->no_new_privileges && (r = load_seccomp(f, err)) < 0)
                return r;
        char *empty[] = { NULL };
        execve(exe, p->args, p->env ? p->env : empty);
        return moat_error_set(err, errno, "exec %s", exe);
}
