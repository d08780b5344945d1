/* clone: the one way the runtime makes a process that enters a container, and id maps. */
#include "internal.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "runtime/runtime.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

struct clone_args_ {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
                cgroup;
};

pid_t moat_clone(uint64_t flags, int cgroup_fd, bool *in_cgroup)
{
        struct clone_args_ ca = { .flags = flags, .exit_signal = SIGCHLD };
        if (cgroup_fd >= 0) {
                ca.flags |= CLONE_INTO_CGROUP;
                ca.cgroup = (uint64_t) cgroup_fd;
        }
        *in_cgroup = cgroup_fd >= 0;
        pid_t pid = (pid_t) syscall(SYS_clone3, &ca, sizeof ca);
        if (pid < 0 && (errno == ENOSYS || errno == E2BIG || (errno == EINVAL && cgroup_fd >= 0))) {
                /* an old kernel: no clone3 or no CLONE_INTO_CGROUP; the child joins the cgroup, and
                 * a cgroup namespace made now would be rooted in ours: it makes its own after */
                *in_cgroup = false;
                pid = (pid_t) syscall(SYS_clone, (unsigned long) (flags & ~(uint64_t) CLONE_NEWCGROUP) | SIGCHLD, 0,
                                      0, 0, 0);
        }
        return pid;
}

int moat_write_idmap(pid_t pid, const char *file, const struct moat_idmap *m, size_t n, struct moat_error *err)
{
        char path[64];
        _cleanup_free_ char *buf = xmalloc(n * 36 + 1);
        size_t off = 0;
        for (size_t i = 0; i < n; i++)
                off += (size_t) sprintf(buf + off, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
        snprintf(path, sizeof path, "/proc/%d/%s", (int) pid, file);
        return moat_write_file_at(AT_FDCWD, path, buf, off, 0, 0, err);
}

int moat_userns_open(const struct moat_idmap *uids, size_t nu, const struct moat_idmap *gids, size_t ng,
                     struct moat_error *err)
{
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return moat_error_set(err, errno, "pipe");
        int pidfd = -1;
        pid_t pid = (pid_t) syscall(SYS_clone, CLONE_NEWUSER | CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
        if (pid == 0) {
                char c;
                close(pfd[1]);
                (void) !read(pfd[0], &c, 1);
                _exit(0);
        }
        close(pfd[0]);
        if (pid < 0) {
                close(pfd[1]);
                return moat_error_set(err, errno, "clone a user namespace for an id mapping");
        }
        /* In a new pid namespace, clone's answer is the helper's pid there, while /proc is still
         * the host's: ask the pidfd for the pid this /proc knows it by. */
        pid_t ppid = pid;
        char info[64];
        snprintf(info, sizeof info, "/proc/self/fdinfo/%d", pidfd);
        _cleanup_free_ char *text = NULL;
        if (moat_read_file_at(AT_FDCWD, info, 4096, &text, NULL, NULL) == 0) {
                const char *p = strstr(text, "\nPid:");
                if (p)
                        ppid = (pid_t) strtol(p + 5, NULL, 10);
        }
        int r = moat_write_idmap(ppid, "uid_map", uids, nu, err);
        if (r == 0)
                r = moat_write_idmap(ppid, "gid_map", gids, ng, err);
        int fd = -1;
        if (r == 0) {
                char path[64];
                snprintf(path, sizeof path, "/proc/%d/ns/user", (int) ppid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        r = moat_error_set(err, errno, "open %s", path);
        }
        close(pfd[1]);
        waitpid(pid, NULL, 0);
        close(pidfd);
        return r < 0 ? r : fd;
}
