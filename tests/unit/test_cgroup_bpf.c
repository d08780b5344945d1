/* Unit tests for the v2 device filter (cgroup_bpf.c): the program's shape, and, as root on a host
 * with any cgroup2 mount (the hybrid /sys/fs/cgroup/unified does), the real kernel enforcing it on
 * a forked child moved into a throw-away cgroup: allowed nodes open, others fail with EPERM, and
 * an update replaces the list instead of narrowing it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <linux/magic.h>

#include "runtime/cgroup_bpf.h"
#include "util/util.h"

#define R(al, t, ma, mi, acc) { .allow = (al), .type = (t), .major = (ma), .minor = (mi), .access = acc }

static const struct moat_cgroup_device_rule only_null[] = {
        R(false, 'a', -1, -1, "rwm"),
        R(true, 'c', 1, 3, "rwm"),
        R(true, 'c', 136, -1, "rw"),
};

static void test_shape(void **state)
{
        (void) state;
        struct bpf_insn *p = NULL;
        size_t n = 0;
        struct moat_error err;
        moat_error_clear(&err);
        assert_int_equal(moat_cgroup_bpf_devices_build(only_null, ARRAY_SIZE(only_null), &p, &n, &err), 0);
        /* prologue, three rules, deny at the end */
        assert_true(n > 8 && n <= 8 + 6 * ARRAY_SIZE(only_null));
        assert_int_equal(p[n - 2].code, BPF_ALU64 | BPF_MOV | BPF_K);
        assert_int_equal(p[n - 2].imm, 0);
        assert_int_equal(p[n - 1].code, BPF_JMP | BPF_EXIT);
        /* every jump lands inside the program */
        for (size_t i = 0; i < n; i++)
                if (BPF_CLASS(p[i].code) == BPF_JMP && BPF_OP(p[i].code) != BPF_EXIT)
                        assert_true((long) i + 1 + p[i].off < (long) n && p[i].off >= 0);
        free(p);

        /* no rules: deny everything */
        assert_int_equal(moat_cgroup_bpf_devices_build(NULL, 0, &p, &n, &err), 0);
        assert_int_equal(n, 8);
        free(p);

        struct moat_cgroup_device_rule bad = R(true, 'x', 1, 3, "r");
        assert_true(moat_cgroup_bpf_devices_build(&bad, 1, &p, &n, &err) < 0);
        assert_non_null(strstr(err.msg, "type"));
}

static char cg2[256];

static int setup_cgroup(void **state)
{
        (void) state;
        cg2[0] = '\0';
        if (geteuid() != 0)
                return 0;
        const char *roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
        for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
                struct statfs sf;
                if (statfs(roots[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
                        snprintf(cg2, sizeof cg2, "%s/moat-test-bpf-%d", roots[i], (int) getpid());
                        if (mkdir(cg2, 0755) < 0)
                                cg2[0] = '\0';
                        break;
                }
        }
        return 0;
}

static int teardown_cgroup(void **state)
{
        (void) state;
        if (cg2[0])
                rmdir(cg2);
        return 0;
}

/* Fork a child into the cgroup; it opens each path and reports, one bit per path, which opened. */
static int opens_in_cgroup(const char *const *paths, size_t n)
{
        pid_t pid = fork();
        if (pid == 0) {
                char procs[300];
                snprintf(procs, sizeof procs, "%s/cgroup.procs", cg2);
                int fd = open(procs, O_WRONLY);
                if (fd < 0 || write(fd, "0", 1) != 1)
                        _exit(255);
                close(fd);
                int bits = 0;
                for (size_t i = 0; i < n; i++) {
                        int d = open(paths[i], O_RDONLY);
                        if (d >= 0) {
                                bits |= 1 << i;
                                close(d);
                        } else if (errno != EPERM)
                                _exit(254);
                }
                _exit(bits);
        }
        int st;
        waitpid(pid, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_kernel_enforces(void **state)
{
        (void) state;
        if (!cg2[0])
                skip();
        _cleanup_close_ int cgfd = open(cg2, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        assert_true(cgfd >= 0);
        struct moat_error err;
        moat_error_clear(&err);
        int r = moat_cgroup_bpf_devices_apply(cgfd, only_null, ARRAY_SIZE(only_null), &err);
        if (r == -EPERM)
                skip();
        if (r < 0)
                fail_msg("%s", err.msg);
        const char *paths[] = { "/dev/null", "/dev/zero" };
        assert_int_equal(opens_in_cgroup(paths, 2), 1); /* null yes, zero EPERM */

        /* an update replaces the list: now zero only (and the old program is gone) */
        static const struct moat_cgroup_device_rule only_zero[] = {
                R(false, 'a', -1, -1, "rwm"),
                R(true, 'c', 1, 5, "r"),
        };
        assert_int_equal(moat_cgroup_bpf_devices_apply(cgfd, only_zero, ARRAY_SIZE(only_zero), &err), 0);
        assert_int_equal(opens_in_cgroup(paths, 2), 2);

        /* a later deny overrides an earlier allow (OCI order) */
        static const struct moat_cgroup_device_rule later_deny[] = {
                R(true, 'a', -1, -1, "rwm"),
                R(false, 'c', 1, 3, "r"),
        };
        assert_int_equal(moat_cgroup_bpf_devices_apply(cgfd, later_deny, ARRAY_SIZE(later_deny), &err), 0);
        assert_int_equal(opens_in_cgroup(paths, 2), 2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shape),
                cmocka_unit_test_setup_teardown(test_kernel_enforces, setup_cgroup, teardown_cgroup),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
