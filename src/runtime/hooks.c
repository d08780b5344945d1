/* hooks: run OCI hooks with the container state on stdin, each bounded by its timeout. */
#include "internal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static int pidfd_open_(pid_t pid)
{
        return (int) syscall(SYS_pidfd_open, pid, 0);
}

static int run_one(const struct moat_hook *h, const char *state_json, struct moat_error *err)
{
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return moat_error_set(err, errno, "pipe");
        char *default_args[] = { h->path, NULL };
        char *empty_env[] = { NULL };
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return moat_error_set(err, e, "fork hook %s", h->path);
        }
        if (pid == 0) {
                dup2(pipefd[0], 0);
                setpgid(0, 0);
                execve(h->path, h->args ? h->args : default_args, h->env ? h->env : empty_env);
                _exit(127);
        }
        close(pipefd[0]);
        /* A hook that never reads its stdin must not block us: the state fits a pipe buffer in
         * practice; write without blocking and give up on the rest. A hook that exited already
         * (it reads nothing) must not end us with SIGPIPE either. */
        fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
        (void) moat_write_nosigpipe(pipefd[1], state_json, strlen(state_json));
        close(pipefd[1]);

        int status;
        if (h->timeout > 0) {
                int pfd = pidfd_open_(pid);
                if (pfd >= 0) {
                        struct pollfd p = { .fd = pfd, .events = POLLIN };
                        int r;
                        do
                                r = poll(&p, 1, h->timeout * 1000);
                        while (r < 0 && errno == EINTR);
                        close(pfd);
                        if (r == 0) {
                                kill(-pid, SIGKILL);
                                kill(pid, SIGKILL);
                                waitpid(pid, &status, 0);
                                return moat_error_set(err, ETIMEDOUT, "hook %s: timed out after %d s", h->path,
                                                      h->timeout);
                        }
                }
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return moat_error_set(err, errno, "wait for hook %s", h->path);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return moat_error_set(err, ENOENT, "hook %s: could not be executed", h->path);
        if (WIFEXITED(status))
                return moat_error_set(err, 0, "hook %s: exited with status %d", h->path, WEXITSTATUS(status));
        return moat_error_set(err, 0, "hook %s: killed by signal %d", h->path, WTERMSIG(status));
}

int moat_hooks_run(const struct moat_hook *hooks, size_t n, enum moat_hook_stage stage, const char *state_json,
                   struct moat_error *err)
{
        for (size_t i = 0; i < n; i++)
                if (run_one(&hooks[i], state_json, err) < 0)
                        return moat_error_wrap(err, "%s hook #%zu", moat_hook_stage_name(stage), i);
        return 0;
}
