/* enosys: run a command with some system calls failing with ENOSYS, as on a kernel that predates
 * them, to test the fallbacks of the code it runs. A test helper, never installed.
 *   enosys SYSCALL[,SYSCALL...] COMMAND [ARG...]                                            */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: enosys SYSCALL[,SYSCALL...] COMMAND [ARG...]\n");
                return 2;
        }
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return 2;
        for (char *save = NULL, *name = strtok_r(argv[1], ",", &save); name; name = strtok_r(NULL, ",", &save)) {
                int nr = seccomp_syscall_resolve_name(name);
                if (nr == __NR_SCMP_ERROR || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0) < 0) {
                        fprintf(stderr, "enosys: unknown system call %s\n", name);
                        return 2;
                }
        }
        /* the filter is inherited by every process the command starts, as a kernel would be */
        if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0 || seccomp_load(ctx) < 0) {
                fprintf(stderr, "enosys: cannot load the filter\n");
                return 2;
        }
        seccomp_release(ctx);
        execvp(argv[2], argv + 2);
        fprintf(stderr, "enosys: %s: %s\n", argv[2], strerror(errno));
        return 127;
}
