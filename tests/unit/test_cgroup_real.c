/* Real-kernel smoke test for cgroup: against the host's own cgroupfs (v1/hybrid or v2), create
 * /moat-test-<pid> with limits, put a child in it, read the limits back, freeze, kill, destroy,
 * and check nothing is left. Only ever touches the directories it creates. Skips unless root
 * with a writable cgroupfs, and fails instead when MOAT_CGROUP_REQUIRE_REAL is set (as in
 * `make check-v2`). MOAT_CGROUP_ROOT overrides /sys/fs/cgroup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "runtime/cgroup.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

struct fixture {
        const char *root;
        char path[64];
        pid_t child;
        int pipe_w;
        struct moat_cgroup *cg;
};

static const char *cg_root(void)
{
        const char *r = getenv("MOAT_CGROUP_ROOT");
        return r && *r ? r : "/sys/fs/cgroup";
}

/* Every place the test's cgroup may exist: <root><path> and <root>/<mount><path>. */
static void for_each_leaf(struct fixture *f, void (*fn)(const char *dir, void *arg), void *arg)
{
        char p[4096];
        snprintf(p, sizeof p, "%s%s", f->root, f->path);
        fn(p, arg);
        DIR *d = opendir(f->root);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || de->d_type != DT_DIR)
                        continue;
                snprintf(p, sizeof p, "%s/%s%s", f->root, de->d_name, f->path);
                fn(p, arg);
        }
        closedir(d);
}

static void rmdir_fn(const char *dir, void *arg) { (void) rmdir(dir); }
static void count_fn(const char *dir, void *arg)
{
        if (access(dir, F_OK) == 0) {
                fprintf(stderr, "leftover cgroup %s\n", dir);
                ++*(int *) arg;
        }
}

static int setup(void **state)
{
        const char *root = cg_root();
        char probe[4096];
        snprintf(probe, sizeof probe, "%s/moat-probe-%d", root, (int) getpid());
        enum moat_cgroup_mode mode;
        struct moat_error err;
        *state = NULL; /* the tests skip */
        if (geteuid() != 0 || moat_cgroup_detect(root, &mode, &err) < 0)
                return 0;
        if (mode == MOAT_CGROUP_V1)
                snprintf(probe, sizeof probe, "%s/pids/moat-probe-%d", root, (int) getpid());
        if (mkdir(probe, 0755) < 0)
                return 0; /* read-only or not ours to write: skip */
        rmdir(probe);
        struct fixture *f = XNEW(struct fixture, 1);
        f->root = root;
        snprintf(f->path, sizeof f->path, "/moat-test-%d", (int) getpid());
        f->child = -1;
        f->pipe_w = -1;
        *state = f;
        return 0;
}

/* Whatever happened, the child dies and every directory this test could have made goes. */
static int teardown(void **state)
{
        struct fixture *f = *state;
        if (!f)
                return 0;
        if (f->child > 0) {
                kill(f->child, SIGKILL);
                if (f->cg)
                        (void) moat_cgroup_freeze(f->cg, false, &(struct moat_error){0});
                waitpid(f->child, NULL, 0);
        }
        closep(&f->pipe_w);
        moat_cgroup_free(f->cg);
        for (int i = 0; i < 50; i++) {
                int left = 0;
                for_each_leaf(f, rmdir_fn, NULL);
                for_each_leaf(f, count_fn, &left);
                if (!left)
                        break;
                usleep(20000);
        }
        free(f);
        return 0;
}

static void skip_unless_ready(void **state)
{
        if (!*state && getenv("MOAT_CGROUP_REQUIRE_REAL"))
                fail_msg("MOAT_CGROUP_REQUIRE_REAL is set but %s is not usable (not root, or not writable)", cg_root());
        if (!*state) {
                print_message("not root, or %s is not writable: skipped\n", cg_root());
                skip();
        }
}

static char *read_ctl(struct fixture *f, const char *mount, const char *file)
{
        _cleanup_free_ char *p = mount ? xasprintf("%s/%s%s/%s", f->root, mount, f->path, file)
                                       : xasprintf("%s%s/%s", f->root, f->path, file);
        char *buf = NULL;
        struct moat_error err;
        if (moat_read_file(p, 1 << 16, &buf, NULL, &err) < 0)
                fail_msg("%s", err.msg);
        buf[strcspn(buf, "\n")] = '\0';
        return buf;
}

/* A child in the cgroup, placed as the runtime places a container's process: born in the cgroup2
 * leaf by clone3 where there is one, then joining every other hierarchy by itself. */
static void spawn_child(struct fixture *f)
{
        int p[2], ready[2];
        struct moat_error err;
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        if (moat_cgroup_join_prepare(f->cg, &err) < 0)
                fail_msg("%s", err.msg);
        int dfd = moat_cgroup_dirfd(f->cg);
        bool cloned_in = dfd >= 0;
        if (cloned_in) {
                struct clone_args args = {.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t) dfd};
                f->child = (pid_t) syscall(SYS_clone3, &args, sizeof args);
        } else {
                f->child = fork();
        }
        assert_true(f->child >= 0);
        if (f->child == 0) {
                char c = moat_cgroup_join_self(f->cg, cloned_in, &err) < 0 ? 'E' : 'J';
                close(p[1]);
                (void) !write(ready[1], &c, 1);
                (void) !read(p[0], &c, 1); /* until the test closes the pipe or kills us */
                _exit(0);
        }
        moat_cgroup_join_release(f->cg);
        close(p[0]);
        close(ready[1]);
        char c = 0;
        assert_int_equal(read(ready[0], &c, 1), 1);
        close(ready[0]);
        assert_int_equal(c, 'J');
        f->pipe_w = p[1];
}

static void test_real_lifecycle(void **state)
{
        skip_unless_ready(state);
        struct fixture *f = *state;
        struct moat_error err;
        enum moat_cgroup_mode mode;
        assert_int_equal(moat_cgroup_detect(f->root, &mode, &err), 0);
        print_message("cgroup %s at %s\n", mode == MOAT_CGROUP_V2 ? "v2" : "v1/hybrid", f->root);

        struct moat_cgroup_resources res;
        json_error_t jerr;
        json_t *j = json_loads("{\"memory\":{\"limit\":67108864},\"pids\":{\"limit\":32},"
                               "\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000},"
                               "\"devices\":[{\"allow\":false},{\"allow\":true,\"type\":\"c\",\"major\":1,"
                               "\"minor\":3,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":136,"
                               "\"access\":\"rw\"}]}",
                               0, &jerr);
        assert_int_equal(moat_cgroup_resources_parse(j, &res, &err), 0);
        json_decref(j);
        if (moat_cgroup_create(f->root, f->path, NULL, &res, &f->cg, &err) < 0)
                fail_msg("%s", err.msg);
        moat_cgroup_resources_free(&res);
        assert_string_equal(moat_cgroup_path(f->cg), f->path);

        bool v2 = mode == MOAT_CGROUP_V2;
        spawn_child(f);

        /* the kernel agrees the child is in it */
        _cleanup_free_ char *cgfile = xasprintf("/proc/%d/cgroup", (int) f->child), *cgtext = NULL;
        assert_int_equal(moat_read_file(cgfile, 1 << 16, &cgtext, NULL, &err), 0);
        _cleanup_free_ char *want = xasprintf(v2 ? "0::%s\n" : ":memory:%s\n", f->path);
        if (!strstr(cgtext, want))
                fail_msg("child's /proc/pid/cgroup lacks %s:\n%s", want, cgtext);

        /* hybrid: the cgroup2 view at <root>/unified is kept in step */
        _cleanup_free_ char *unified = xasprintf("%s/unified/cgroup.procs", f->root);
        if (!v2 && access(unified, F_OK) == 0) {
                _cleanup_free_ char *want2 = xasprintf("0::%s\n", f->path);
                if (!strstr(cgtext, want2))
                        fail_msg("child's /proc/pid/cgroup lacks %s:\n%s", want2, cgtext);
        }

        /* limits read back from the kernel */
        _cleanup_free_ char *mem = read_ctl(f, v2 ? NULL : "memory", v2 ? "memory.max" : "memory.limit_in_bytes");
        assert_string_equal(mem, "67108864");
        _cleanup_free_ char *pids = read_ctl(f, v2 ? NULL : "pids", "pids.max");
        assert_string_equal(pids, "32");
        _cleanup_free_ char *cpu = read_ctl(f, v2 ? NULL : "cpu", v2 ? "cpu.max" : "cpu.cfs_quota_us");
        assert_string_equal(cpu, v2 ? "50000 100000" : "50000");

        if (!v2) { /* the rules went in one by one through one open file */
                _cleanup_free_ char *p = xasprintf("%s/devices%s/devices.list", f->root, f->path), *list = NULL;
                assert_int_equal(moat_read_file(p, 1 << 16, &list, NULL, &err), 0);
                assert_string_equal(list, "c 1:3 rwm\nc 136:* rw\n");
        }

        pid_t *list = NULL;
        size_t n = 0;
        assert_int_equal(moat_cgroup_pids(f->cg, &list, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_int_equal(list[0], f->child);
        free(list);

        struct moat_cgroup_stats st;
        assert_int_equal(moat_cgroup_stats(f->cg, &st, &err), 0);
        assert_int_equal(st.pids_current, 1);
        assert_int_equal(st.pids_limit, 32);
        assert_int_equal(st.memory_limit, 67108864);

        /* update lowers the limit on the running cgroup */
        struct moat_cgroup_resources upd = {.has_memory_limit = true, .memory_limit = 33554432};
        if (moat_cgroup_apply(f->cg, &upd, &err) < 0)
                fail_msg("%s", err.msg);
        _cleanup_free_ char *mem2 = read_ctl(f, v2 ? NULL : "memory", v2 ? "memory.max" : "memory.limit_in_bytes");
        assert_string_equal(mem2, "33554432");

        /* pause/resume */
        if (moat_cgroup_freeze(f->cg, true, &err) < 0)
                fail_msg("%s", err.msg);
        assert_int_equal(moat_cgroup_is_frozen(f->cg), 1);
        assert_int_equal(moat_cgroup_freeze(f->cg, false, &err), 0);
        assert_int_equal(moat_cgroup_is_frozen(f->cg), 0);

        /* kill and reap: nothing is left in the cgroup */
        if (moat_cgroup_kill_all(f->cg, SIGKILL, &err) < 0)
                fail_msg("%s", err.msg);
        int status;
        assert_int_equal(waitpid(f->child, &status, 0), f->child);
        f->child = -1;
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        if (moat_cgroup_destroy(f->cg, &err) < 0)
                fail_msg("%s", err.msg);
        int left = 0;
        for_each_leaf(f, count_fn, &left);
        assert_int_equal(left, 0);
}

/* A value the kernel rejects fails create with the file and value named, and leaves no directory. */
static void test_real_rollback(void **state)
{
        skip_unless_ready(state);
        struct fixture *f = *state;
        struct moat_error err;
        struct moat_cgroup_resources res = {.cpuset_cpus = (char *) "4095"};
        moat_error_clear(&err);
        assert_true(moat_cgroup_create(f->root, f->path, NULL, &res, &f->cg, &err) < 0);
        assert_null(f->cg);
        print_message("expected error: %s\n", err.msg);
        assert_non_null(strstr(err.msg, "write 4095 to "));
        assert_non_null(strstr(err.msg, "cpuset.cpus: "));
        int left = 0;
        for_each_leaf(f, count_fn, &left);
        assert_int_equal(left, 0);
}

/* A cgroup with a live process cannot go: destroy gives up after its short wait and says why,
 * and succeeds once the process is gone. */
static void test_real_busy(void **state)
{
        skip_unless_ready(state);
        struct fixture *f = *state;
        struct moat_error err;
        if (moat_cgroup_create(f->root, f->path, NULL, NULL, &f->cg, &err) < 0)
                fail_msg("%s", err.msg);
        spawn_child(f);
        unsigned long long t0 = moat_now_ns();
        assert_int_equal(moat_cgroup_destroy(f->cg, &err), -EBUSY);
        unsigned long long waited = moat_now_ns() - t0;
        print_message("expected error after %.2f s: %s\n", waited / 1e9, err.msg);
        assert_non_null(strstr(err.msg, "Device or resource busy"));
        closep(&f->pipe_w); /* the child exits */
        assert_int_equal(waitpid(f->child, NULL, 0), f->child);
        f->child = -1;
        if (moat_cgroup_destroy(f->cg, &err) < 0)
                fail_msg("%s", err.msg);
        int left = 0;
        for_each_leaf(f, count_fn, &left);
        assert_int_equal(left, 0);
}

/* The default place, /moat/<id>: the shared parent is created (and on v2 delegates the controllers
 * to its children), the leaf gets its limits; the parent is removed again only if this test made it. */
static void test_real_default_parent(void **state)
{
        skip_unless_ready(state);
        struct fixture *f = *state;
        struct moat_error err;
        enum moat_cgroup_mode mode;
        assert_int_equal(moat_cgroup_detect(f->root, &mode, &err), 0);
        bool v2 = mode == MOAT_CGROUP_V2;
        _cleanup_free_ char *parent = xasprintf(v2 ? "%s/moat" : "%s/pids/moat", f->root);
        bool had_parent = access(parent, F_OK) == 0;
        char id[32];
        snprintf(id, sizeof id, "%s", f->path + 1);
        snprintf(f->path, sizeof f->path, "/moat/%s", id); /* so teardown cleans the leaf */
        struct moat_cgroup_resources res = {.has_pids_limit = true, .pids_limit = 64, .has_memory_limit = true,
                                            .memory_limit = 16777216};
        if (moat_cgroup_create(f->root, NULL, id, &res, &f->cg, &err) < 0)
                fail_msg("%s", err.msg);
        assert_string_equal(moat_cgroup_path(f->cg), f->path);
        _cleanup_free_ char *pids = read_ctl(f, v2 ? NULL : "pids", "pids.max");
        assert_string_equal(pids, "64");
        if (v2) {
                _cleanup_free_ char *ctl = read_ctl(f, NULL, "cgroup.controllers");
                print_message("leaf controllers: %s\n", ctl);
                assert_non_null(strstr(ctl, "memory"));
                assert_non_null(strstr(ctl, "pids"));
        }
        assert_int_equal(moat_cgroup_destroy(f->cg, &err), 0);
        assert_true(access(parent, F_OK) == 0); /* destroy never removes the shared parent */
        if (!had_parent) {
                snprintf(f->path, sizeof f->path, "/moat");
                for_each_leaf(f, rmdir_fn, NULL);
        }
}

/* Memory plus swap, raised and lowered: v1 must order memory.limit_in_bytes and
 * memory.memsw.limit_in_bytes (neither may pass the other); v2 gets swap alone. */
static void test_real_swap_order(void **state)
{
        skip_unless_ready(state);
        struct fixture *f = *state;
        struct moat_error err;
        enum moat_cgroup_mode mode;
        assert_int_equal(moat_cgroup_detect(f->root, &mode, &err), 0);
        bool v2 = mode == MOAT_CGROUP_V2;
        _cleanup_free_ char *probe = v2 ? xasprintf("%s/memory.swap.max", f->root)
                                        : xasprintf("%s/memory/memory.memsw.limit_in_bytes", f->root);
        if (!v2 && access(probe, F_OK) < 0) {
                print_message("no swap accounting here: skipped\n");
                skip();
        }
        static const int64_t steps[][2] = {{32 << 20, 64 << 20}, {128 << 20, 256 << 20}, {16 << 20, 32 << 20}};
        for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
                struct moat_cgroup_resources res = {.has_memory_limit = true, .memory_limit = steps[i][0],
                                                    .has_memory_swap = true, .memory_swap = steps[i][1]};
                int r = i == 0 ? moat_cgroup_create(f->root, f->path, NULL, &res, &f->cg, &err)
                               : moat_cgroup_apply(f->cg, &res, &err);
                if (r < 0)
                        fail_msg("step %zu: %s", i, err.msg);
                char want_mem[32], want_swap[32];
                snprintf(want_mem, sizeof want_mem, "%lld", (long long) steps[i][0]);
                snprintf(want_swap, sizeof want_swap, "%lld",
                         (long long) (v2 ? steps[i][1] - steps[i][0] : steps[i][1]));
                _cleanup_free_ char *mem = read_ctl(f, v2 ? NULL : "memory", v2 ? "memory.max" : "memory.limit_in_bytes");
                assert_string_equal(mem, want_mem);
                _cleanup_free_ char *leaf_swap = v2 ? xasprintf("%s%s/memory.swap.max", f->root, f->path) : NULL;
                if (v2 && access(leaf_swap, F_OK) < 0)
                        continue; /* kernel without swap accounting */
                _cleanup_free_ char *swap = read_ctl(f, v2 ? NULL : "memory",
                                                     v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes");
                assert_string_equal(swap, want_swap);
        }
        assert_int_equal(moat_cgroup_destroy(f->cg, &err), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_real_lifecycle, setup, teardown),
                cmocka_unit_test_setup_teardown(test_real_rollback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_real_busy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_real_default_parent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_real_swap_order, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
