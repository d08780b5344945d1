/* moat-init: the tiny pid 1 of `moat run --init` (what tini/docker-init are for docker). It runs
 * `moat-init -- COMMAND [ARG...]` as its child, forwards every signal it gets to that child, reaps
 * every zombie that is reparented to it, and exits with the child's status (128 + N when the
 * child was killed by signal N). Static, libc only: it must run in any image, including ones
 * with no libc, under the default seccomp profile, without capabilities and with no_new_privs. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Signals that are about the init itself, not requests to pass on. */
static int synchronous(int sig)
{
        return sig == SIGFPE || sig == SIGILL || sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT ||
               sig == SIGTRAP || sig == SIGSYS || sig == SIGTTIN || sig == SIGTTOU;
}

static void child(char **argv, const sigset_t *old)
{
        /* its own process group, in the foreground of the terminal if there is one: ^C from a tty
         * goes to the command only, not to the command and (forwarded) again through init */
        setpgid(0, 0);
        if (isatty(STDIN_FILENO)) {
                signal(SIGTTOU, SIG_IGN);
                (void) tcsetpgrp(STDIN_FILENO, getpgrp());
                signal(SIGTTOU, SIG_DFL);
        }
        sigprocmask(SIG_SETMASK, old, NULL);
        execvp(argv[0], argv);
        int e = errno;
        fprintf(stderr, "moat-init: exec %s: %s\n", argv[0], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
}

int main(int argc, char **argv)
{
        int i = 1;
        if (i < argc && strcmp(argv[i], "--") == 0)
                i++;
        if (i >= argc) {
                fprintf(stderr, "usage: moat-init [--] COMMAND [ARG...]\n");
                return 2;
        }
        /* ps shows the init as what it is, whatever the path it was bound at */
        prctl(PR_SET_NAME, "moat-init", 0, 0, 0);
        sigset_t all, old;
        sigfillset(&all);
        for (int s = 1; s < NSIG; s++)
                if (synchronous(s))
                        sigdelset(&all, s);
        sigprocmask(SIG_SETMASK, &all, &old);

        pid_t pid = fork();
        if (pid < 0) {
                perror("moat-init: fork");
                return 126;
        }
        if (pid == 0)
                child(argv + i, &old);

        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&all, &si);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        /* the command's group would also catch its own children; tini's default is the
                         * command alone, and so is ours */
                        kill(pid, sig);
                        continue;
                }
                for (;;) {
                        int st;
                        pid_t w = waitpid(-1, &st, WNOHANG);
                        if (w <= 0)
                                break;
                        if (w != pid)
                                continue; /* an orphan reaped: that is what we are here for */
                        /* the command is done: whatever it left behind dies with the namespace */
                        if (WIFEXITED(st))
                                return WEXITSTATUS(st);
                        return 128 + WTERMSIG(st);
                }
        }
}
