/* Unit tests for cgroup: the OCI linux.resources parser, cgroupsPath rules, and both backends'
 * file writes against a fake cgroupfs (a temp directory of plain files, where every write is
 * appended as one line so the exact sequence can be asserted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "runtime/cgroup.h"

/* ---- helpers ---- */

/* Every temp tree (and child) a test makes, so the teardown removes it even when an assertion failed. */
static char *live_roots[8];

static char *tmp_root(void)
{
        char *d = xstrdup("/tmp/moat-cg-unit-XXXXXX");
        assert_non_null(mkdtemp(d));
        for (size_t i = 0; i < ARRAY_SIZE(live_roots); i++)
                if (!live_roots[i]) {
                        live_roots[i] = xstrdup(d);
                        return d;
                }
        fail_msg("too many temp roots");
        return NULL;
}

static void forget_root(const char *d)
{
        for (size_t i = 0; i < ARRAY_SIZE(live_roots); i++)
                if (live_roots[i] && streq(live_roots[i], d)) {
                        free(live_roots[i]);
                        live_roots[i] = NULL;
                }
}

static pid_t live_child;

static int remove_roots(void **state)
{
        if (live_child > 0) {
                kill(live_child, SIGKILL);
                waitpid(live_child, NULL, 0);
                live_child = 0;
        }
        struct moat_error err;
        for (size_t i = 0; i < ARRAY_SIZE(live_roots); i++)
                if (live_roots[i]) {
                        (void) moat_rm_rf(live_roots[i], &err);
                        free(live_roots[i]);
                        live_roots[i] = NULL;
                }
        return 0;
}

static void put(const char *root, const char *rel, const char *content)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
        struct moat_error err;
        _cleanup_free_ char *dir = xstrndup(p, strrchr(p, '/') - p);
        assert_int_equal(moat_mkdir_p(dir, 0755, &err), 0);
        assert_int_equal(moat_write_file_at(AT_FDCWD, p, content, strlen(content), O_CREAT | O_TRUNC, 0644, &err), 0);
}

static void mkd(const char *root, const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
        struct moat_error err;
        assert_int_equal(moat_mkdir_p(p, 0755, &err), 0);
}

static char *get(const char *root, const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
        char *buf = NULL;
        struct moat_error err;
        if (moat_read_file(p, 1 << 20, &buf, NULL, &err) < 0)
                return xstrdup("<missing>");
        return buf;
}

#define assert_file(root, rel, expect)                                                                              \
        do {                                                                                                         \
                _cleanup_free_ char *got_ = get(root, rel);                                                          \
                assert_string_equal(got_, expect);                                                                   \
        } while (0)

static bool exists(const char *root, const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
        return access(p, F_OK) == 0;
}

static void cleanup_root(char *root)
{
        forget_root(root);
        struct moat_error err;
        assert_int_equal(moat_rm_rf(root, &err), 0);
        assert_false(access(root, F_OK) == 0);
        free(root);
}

static char *fake_v2(void)
{
        char *r = tmp_root();
        put(r, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        put(r, "cgroup.subtree_control", "");
        put(r, "cgroup.procs", "1\n");
        return r;
}

/* A v1 tree shaped like common hosts: cpu and cpuacct are symlinks to the joint mount. */
static char *fake_v1(bool with_pids)
{
        char *r = tmp_root();
        const char *dirs[] = {"cpu,cpuacct", "memory", "blkio", "devices", "freezer", "hugetlb", "systemd"};
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
                _cleanup_free_ char *rel = xasprintf("%s/cgroup.procs", dirs[i]);
                put(r, rel, "1\n");
        }
        if (with_pids)
                put(r, "pids/cgroup.procs", "1\n");
        put(r, "cpuset/cpuset.cpus", "0-3\n");
        put(r, "cpuset/cpuset.mems", "0\n");
        _cleanup_free_ char *l1 = xasprintf("%s/cpu", r), *l2 = xasprintf("%s/cpuacct", r);
        assert_int_equal(symlink("cpu,cpuacct", l1), 0);
        assert_int_equal(symlink("cpu,cpuacct", l2), 0);
        put(r, "unified/cgroup.controllers", "hugetlb\n");
        return r;
}

static void parse_ok(const char *js, struct moat_cgroup_resources *res)
{
        json_error_t jerr;
        json_t *j = json_loads(js, 0, &jerr);
        assert_non_null(j);
        struct moat_error err;
        moat_error_clear(&err);
        int r = moat_cgroup_resources_parse(j, res, &err);
        if (r < 0)
                fail_msg("parse %s: %s", js, err.msg);
        json_decref(j);
}

static void parse_fails(const char *js, const char *msg)
{
        json_error_t jerr;
        json_t *j = json_loads(js, JSON_DECODE_ANY, &jerr);
        assert_non_null(j);
        struct moat_cgroup_resources res;
        struct moat_error err;
        moat_error_clear(&err);
        int r = moat_cgroup_resources_parse(j, &res, &err);
        json_decref(j);
        if (r >= 0)
                fail_msg("parse %s: expected an error containing \"%s\"", js, msg);
        if (!strstr(err.msg, msg))
                fail_msg("parse %s: error \"%s\" does not contain \"%s\"", js, err.msg, msg);
        /* a failed parse leaves nothing to free */
        assert_int_equal(res.n_devices + res.n_unified + res.n_hugepages, 0);
        assert_null(res.cpuset_cpus);
}

/* ---- parser ---- */

static void test_parse_errors(void **state)
{
        parse_fails("[]", "linux.resources: expected an object");
        parse_fails("{\"memory\":[]}", "linux.resources.memory: expected an object");
        parse_fails("{\"memory\":{\"limit\":\"1g\"}}", "linux.resources.memory.limit: expected an integer");
        parse_fails("{\"memory\":{\"limit\":-2}}", "linux.resources.memory.limit: -2 is out of range");
        parse_fails("{\"memory\":{\"swappiness\":101}}", "linux.resources.memory.swappiness: 101 is out of range");
        parse_fails("{\"memory\":{\"disableOOMKiller\":1}}", "linux.resources.memory.disableOOMKiller: expected a boolean");
        parse_fails("{\"memory\":{\"kernel\":1048576}}", "linux.resources.memory.kernel: not supported");
        parse_fails("{\"memory\":{\"kernelTCP\":1}}", "linux.resources.memory.kernelTCP: not supported");
        parse_fails("{\"cpu\":{\"realtimeRuntime\":950000}}", "linux.resources.cpu.realtimeRuntime: not supported");
        parse_fails("{\"cpu\":{\"realtimePeriod\":1000000}}", "linux.resources.cpu.realtimePeriod: not supported");
        parse_fails("{\"cpu\":{\"shares\":-1}}", "linux.resources.cpu.shares");
        parse_fails("{\"cpu\":{\"cpus\":\"0-1;rm\"}}", "linux.resources.cpu.cpus: contains characters");
        parse_fails("{\"cpu\":{\"idle\":2}}", "linux.resources.cpu.idle");
        parse_fails("{\"pids\":{}}", "linux.resources.pids.limit: required");
        parse_fails("{\"pids\":{\"limit\":1.5}}", "linux.resources.pids.limit: expected an integer");
        parse_fails("{\"blockIO\":{\"weight\":5}}", "linux.resources.blockIO.weight");
        parse_fails("{\"blockIO\":{\"weightDevice\":[{\"minor\":0,\"weight\":100}]}}",
                    "linux.resources.blockIO.weightDevice[0].major: required");
        parse_fails("{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0}]}}",
                    "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required");
        parse_fails("{\"blockIO\":{\"throttleWriteIOPSDevice\":[1]}}",
                    "linux.resources.blockIO.throttleWriteIOPSDevice[0]: expected an object");
        parse_fails("{\"hugepageLimits\":[{\"pageSize\":\"2MB/../x\",\"limit\":1}]}",
                    "linux.resources.hugepageLimits[0].pageSize");
        parse_fails("{\"hugepageLimits\":[{\"pageSize\":\"2MB\"}]}", "linux.resources.hugepageLimits[0].limit: required");
        parse_fails("{\"devices\":[{\"allow\":true},{\"allow\":true,\"access\":\"rwx\"}]}",
                    "linux.resources.devices[1].access");
        parse_fails("{\"devices\":[{\"allow\":true,\"type\":\"p\"}]}", "linux.resources.devices[0].type");
        parse_fails("{\"devices\":[{\"type\":\"c\"}]}", "linux.resources.devices[0].allow: required");
        parse_fails("{\"unified\":{\"cgroup.procs\":\"1\"}}", "linux.resources.unified: key \"cgroup.procs\"");
        parse_fails("{\"unified\":{\"../../memory.max\":\"1\"}}", "linux.resources.unified: key");
        parse_fails("{\"unified\":{\"memory.high\":5}}", "linux.resources.unified.memory.high: expected a string");
        parse_fails("{\"network\":{\"classID\":1048577}}", "linux.resources.network.classID: not supported");
        parse_fails("{\"network\":{\"priorities\":[{\"name\":\"eth0\",\"priority\":1}]}}",
                    "linux.resources.network.priorities: not supported");
        parse_fails("{\"rdma\":{\"mlx5_1\":{\"hcaHandles\":3}}}", "linux.resources.rdma: not supported");
        /* bounded counts */
        _cleanup_free_ char *big = xmalloc(1025 * 16 + 64);
        size_t o = (size_t) sprintf(big, "{\"devices\":[");
        for (int i = 0; i < 1025; i++)
                o += (size_t) sprintf(big + o, "%s{\"allow\":true}", i ? "," : "");
        sprintf(big + o, "]}");
        parse_fails(big, "linux.resources.devices: more than 1024 entries");
}

static void test_parse_and_merge(void **state)
{
        struct moat_cgroup_resources base, upd;
        parse_ok("{\"memory\":{\"limit\":1048576,\"swap\":0,\"kernel\":0,\"checkBeforeUpdate\":true},"
                 "\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,\"cpus\":\"0-1\",\"mems\":\"\"},"
                 "\"pids\":{\"limit\":100},\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
                 "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rw\"}],"
                 "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}],"
                 "\"unified\":{\"memory.high\":\"900000\"},\"network\":{\"classID\":0},\"rdma\":{}}",
                 &base);
        assert_true(base.has_memory_limit);
        assert_int_equal(base.memory_limit, 1048576);
        assert_false(base.has_memory_swap); /* 0 is "unset", as runc treats it */
        assert_true(base.memory_check_before_update);
        assert_int_equal(base.cpu_shares, 1024);
        assert_int_equal(base.cpu_quota, 50000);
        assert_string_equal(base.cpuset_cpus, "0-1");
        assert_null(base.cpuset_mems);
        assert_int_equal(base.n_devices, 2);
        assert_false(base.devices[0].allow);
        assert_int_equal(base.devices[0].type, 'a');
        assert_int_equal(base.devices[0].major, -1);
        assert_int_equal(base.devices[1].major, 1);
        assert_string_equal(base.devices[1].access, "rw");
        assert_string_equal(base.hugepages[0].page_size, "2MB");

        parse_ok("{\"memory\":{\"limit\":-1},\"pids\":{\"limit\":0},\"cpu\":{\"cpus\":\"2\"},"
                 "\"hugepageLimits\":[{\"pageSize\":\"1GB\",\"limit\":0}],"
                 "\"unified\":{\"memory.high\":\"max\",\"pids.max\":\"7\"}}",
                 &upd);
        moat_cgroup_resources_merge(&base, &upd);
        moat_cgroup_resources_free(&upd);
        assert_int_equal(base.memory_limit, -1);
        assert_int_equal(base.pids_limit, 0);
        assert_int_equal(base.cpu_shares, 1024); /* untouched */
        assert_string_equal(base.cpuset_cpus, "2");
        assert_int_equal(base.n_hugepages, 1);
        assert_string_equal(base.hugepages[0].page_size, "1GB");
        assert_int_equal(base.n_devices, 2);
        assert_int_equal(base.n_unified, 2);
        assert_string_equal(base.unified_values[0], "max");
        assert_string_equal(base.unified_keys[1], "pids.max");
        moat_cgroup_resources_free(&base);

        struct moat_error err;
        assert_int_equal(moat_cgroup_resources_parse(NULL, &base, &err), 0);
        assert_false(base.has_memory_limit);
}

/* ---- detection and paths ---- */

static void test_detect(void **state)
{
        struct moat_error err;
        enum moat_cgroup_mode mode;
        char *v2 = fake_v2(), *v1 = fake_v1(true);
        assert_int_equal(moat_cgroup_detect(v2, &mode, &err), 0);
        assert_int_equal(mode, MOAT_CGROUP_V2);
        assert_int_equal(moat_cgroup_detect(v1, &mode, &err), 0);
        assert_int_equal(mode, MOAT_CGROUP_V1);
        _cleanup_free_ char *f = xasprintf("%s/cgroup.controllers", v2);
        assert_true(moat_cgroup_detect(f, &mode, &err) < 0);
        assert_non_null(strstr(err.msg, "cgroup root"));
        cleanup_root(v2);
        cleanup_root(v1);
}

static void path_refused(const char *root, const char *path, const char *msg)
{
        struct moat_error err;
        moat_error_clear(&err);
        struct moat_cgroup *cg = NULL;
        assert_true(moat_cgroup_create(root, path, "c1", NULL, &cg, &err) < 0);
        assert_null(cg);
        if (!strstr(err.msg, msg))
                fail_msg("path %s: error \"%s\" lacks \"%s\"", path, err.msg, msg);
}

static void path_is(const char *root, const char *path, const char *id, const char *want)
{
        struct moat_error err;
        _cleanup_cgroup_ struct moat_cgroup *cg = NULL;
        int r = moat_cgroup_create(root, path, id, NULL, &cg, &err);
        if (r < 0)
                fail_msg("create %s: %s", path ? path : "(null)", err.msg);
        assert_string_equal(moat_cgroup_path(cg), want);
        assert_true(exists(root, want + 1));
        assert_int_equal(moat_cgroup_destroy(cg, &err), 0);
        assert_false(exists(root, want + 1));
}

static void test_paths(void **state)
{
        char *r = fake_v2();
        path_refused(r, "/a/../b", "invalid component \"..\"");
        path_refused(r, "../b", "invalid component");
        path_refused(r, "/a/./b", "invalid component \".\"");
        path_refused(r, "system.slice:moat:abc", "systemd");
        path_refused(r, "/", "root cgroup");
        path_refused(r, "//", "root cgroup");
        path_refused(r, "/a\nb", "invalid component");
        path_is(r, NULL, "abc", "/moat/abc");
        path_is(r, "foo/bar", "x", "/moat/foo/bar");
        path_is(r, "/x//y/", "x", "/x/y");
        cleanup_root(r);
}

/* With no cgroupsPath the id becomes a path component, so it is checked like one. */
static void test_bad_ids(void **state)
{
        char *r = fake_v2();
        struct moat_error err;
        struct moat_cgroup *cg = NULL;
        assert_true(moat_cgroup_create(r, NULL, "..", NULL, &cg, &err) < 0);
        assert_non_null(strstr(err.msg, "invalid container id"));
        assert_true(moat_cgroup_create(r, NULL, "a/b", NULL, &cg, &err) < 0);
        assert_true(moat_cgroup_create(r, NULL, "", NULL, &cg, &err) < 0);
        /* an existing leaf is not ours: refused, and left alone */
        mkd(r, "moat/taken");
        assert_true(moat_cgroup_create(r, NULL, "taken", NULL, &cg, &err) < 0);
        assert_non_null(strstr(err.msg, "File exists"));
        assert_true(exists(r, "moat/taken"));
        cleanup_root(r);
}

/* ---- v2 ---- */

static const char *full_resources =
        "{\"memory\":{\"limit\":1048576,\"reservation\":524288,\"swap\":2097152},"
        "\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,\"burst\":1000,\"idle\":0,\"cpus\":\"0-1\","
        "\"mems\":\"0\"},"
        "\"pids\":{\"limit\":0},"
        "\"blockIO\":{\"weight\":500,\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":1000}],"
        "\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":1048576},{\"major\":8,\"minor\":16,"
        "\"rate\":2048}],\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":0,\"rate\":100}]},"
        "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}],"
        "\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,"
        "\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":136,\"access\":\"rw\"}]}";

static void test_v2_create_apply(void **state)
{
        char *r = fake_v2();
        struct moat_cgroup_resources res;
        parse_ok(full_resources, &res);
        struct moat_error err;
        _cleanup_cgroup_ struct moat_cgroup *cg = NULL;
        if (moat_cgroup_create(r, NULL, "c1", &res, &cg, &err) < 0)
                fail_msg("%s", err.msg);
        moat_cgroup_resources_free(&res);
        assert_int_equal(moat_cgroup_mode_of(cg), MOAT_CGROUP_V2);
        assert_string_equal(moat_cgroup_path(cg), "/moat/c1");
        /* delegation: the root and the "moat" parent enable what the root offers and Moat uses */
        assert_file(r, "cgroup.subtree_control", "+cpuset +cpu +io +memory +hugetlb +pids\n");
        assert_file(r, "moat/cgroup.subtree_control", "+cpuset +cpu +io +memory +hugetlb +pids\n");
        assert_file(r, "moat/c1/memory.max", "1048576\n");
        assert_file(r, "moat/c1/memory.low", "524288\n");
        assert_file(r, "moat/c1/memory.swap.max", "1048576\n"); /* swap - limit */
        assert_file(r, "moat/c1/cpu.weight", "39\n");           /* 1 + (1024-2)*9999/262142 */
        assert_file(r, "moat/c1/cpu.max", "50000 100000\n");
        assert_file(r, "moat/c1/cpu.max.burst", "1000\n");
        assert_file(r, "moat/c1/cpu.idle", "0\n");
        assert_file(r, "moat/c1/cpuset.cpus", "0-1\n");
        assert_file(r, "moat/c1/cpuset.mems", "0\n");
        assert_file(r, "moat/c1/pids.max", "max\n");
        assert_file(r, "moat/c1/io.weight", "4950\n8:0 10000\n"); /* 1 + (500-10)*9999/990 */
        assert_file(r, "moat/c1/io.max", "8:0 rbps=1048576\n8:16 rbps=2048\n8:0 wiops=100\n");
        assert_file(r, "moat/c1/hugetlb.2MB.max", "4194304\n");
        /* devices are for the eBPF filter on v2: accepted, nothing written */
        assert_false(exists(r, "moat/c1/devices.allow"));
        assert_true(moat_cgroup_dirfd(cg) >= 0);

        /* a second container: the delegation is already in place and is not written again */
        _cleanup_cgroup_ struct moat_cgroup *cg2 = NULL;
        assert_int_equal(moat_cgroup_create(r, "c2", NULL, NULL, &cg2, &err), 0);
        assert_file(r, "moat/cgroup.subtree_control", "+cpuset +cpu +io +memory +hugetlb +pids\n");
        assert_file(r, "cgroup.subtree_control", "+cpuset +cpu +io +memory +hugetlb +pids\n");

        /* update: quota unset ("max"), memory unlimited, swap unlimited, unified verbatim */
        struct moat_cgroup_resources upd;
        parse_ok("{\"memory\":{\"limit\":-1,\"swap\":-1},\"cpu\":{\"quota\":-1,\"period\":200000},"
                 "\"unified\":{\"memory.high\":\"900000\",\"cgroup.max.depth\":\"2\"}}",
                 &upd);
        if (moat_cgroup_apply(cg, &upd, &err) < 0)
                fail_msg("%s", err.msg);
        moat_cgroup_resources_free(&upd);
        assert_file(r, "moat/c1/memory.max", "1048576\nmax\n");
        assert_file(r, "moat/c1/memory.swap.max", "1048576\nmax\n");
        assert_file(r, "moat/c1/cpu.max", "50000 100000\nmax 200000\n");
        assert_file(r, "moat/c1/memory.high", "900000\n");
        assert_file(r, "moat/c1/cgroup.max.depth", "2\n");

        assert_int_equal(moat_cgroup_destroy(cg, &err), 0);
        assert_int_equal(moat_cgroup_destroy(cg2, &err), 0);
        assert_false(exists(r, "moat/c1"));
        assert_false(exists(r, "moat/c2"));
        assert_true(exists(r, "moat")); /* the shared parent stays */
        cleanup_root(r);
}

static void test_v2_refusals_roll_back(void **state)
{
        char *r = fake_v2();
        struct moat_error err;
        struct moat_cgroup *cg = NULL;
        struct moat_cgroup_resources res;
        /* a unified key of a controller the host lacks: refused, and nothing is left behind */
        parse_ok("{\"pids\":{\"limit\":10},\"unified\":{\"foo.bar\":\"1\"}}", &res);
        assert_true(moat_cgroup_create(r, "/a/b/c", NULL, &res, &cg, &err) < 0);
        moat_cgroup_resources_free(&res);
        assert_null(cg);
        assert_non_null(strstr(err.msg, "cgroup /a/b/c: linux.resources.unified: key \"foo.bar\""));
        assert_false(exists(r, "a")); /* the ancestors create made are gone too */

        parse_ok("{\"memory\":{\"limit\":2097152,\"swap\":1048576}}", &res);
        assert_true(moat_cgroup_create(r, NULL, "x", &res, &cg, &err) < 0);
        moat_cgroup_resources_free(&res);
        assert_non_null(strstr(err.msg, "linux.resources.memory.swap: 1048576 is below memory.limit 2097152"));
        assert_false(exists(r, "moat/x"));

        parse_ok("{\"memory\":{\"swappiness\":10}}", &res);
        assert_true(moat_cgroup_create(r, NULL, "x", &res, &cg, &err) < 0);
        moat_cgroup_resources_free(&res);
        assert_non_null(strstr(err.msg, "swappiness: not supported on cgroup v2"));

        parse_ok("{\"memory\":{\"swap\":1048576}}", &res);
        assert_true(moat_cgroup_create(r, NULL, "x", &res, &cg, &err) < 0);
        moat_cgroup_resources_free(&res);
        assert_non_null(strstr(err.msg, "a swap limit needs a memory limit"));
        assert_false(exists(r, "moat/x"));
        cleanup_root(r);
}

static void test_v2_lifecycle(void **state)
{
        char *r = fake_v2();
        struct moat_error err;
        _cleanup_cgroup_ struct moat_cgroup *cg = NULL;
        assert_int_equal(moat_cgroup_create(r, NULL, "life", NULL, &cg, &err), 0);
        int dfd = moat_cgroup_dirfd(cg);
        assert_true(dfd >= 0);
        assert_true(fcntl(dfd, F_GETFD) & FD_CLOEXEC);

        /* freeze waits for cgroup.events to say so; the fake says it at once */
        put(r, "moat/life/cgroup.events", "populated 1\nfrozen 1\n");
        assert_int_equal(moat_cgroup_freeze(cg, true, &err), 0);
        assert_int_equal(moat_cgroup_is_frozen(cg), 1);
        assert_int_equal(moat_cgroup_freeze(cg, false, &err), 0);
        assert_file(r, "moat/life/cgroup.freeze", "1\n0\n");

        /* SIGKILL uses cgroup.kill */
        assert_int_equal(moat_cgroup_kill_all(cg, SIGKILL, &err), 0);
        assert_file(r, "moat/life/cgroup.kill", "1\n");

        /* other signals: every pid, recursively, frozen around it */
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                alarm(60); /* never outlive the test, whatever happens to it */
                for (;;)
                        pause();
        }
        live_child = child;
        _cleanup_free_ char *procs = xasprintf("%d\n", (int) child);
        put(r, "moat/life/cgroup.procs", procs);
        put(r, "moat/life/sub/cgroup.procs", "");
        pid_t *pids = NULL;
        size_t n = 0;
        assert_int_equal(moat_cgroup_pids(cg, &pids, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_int_equal(pids[0], child);
        free(pids);
        put(r, "moat/life/cgroup.events", "frozen 1\n");
        assert_int_equal(moat_cgroup_kill_all(cg, SIGTERM, &err), 0);
        int status;
        assert_int_equal(waitpid(child, &status, 0), child);
        live_child = 0;
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
        assert_file(r, "moat/life/cgroup.freeze", "1\n0\n1\n0\n");

        /* nested cgroups count too */
        put(r, "moat/life/sub/cgroup.procs", "7\n8\n");
        assert_int_equal(moat_cgroup_pids(cg, &pids, &n, &err), 0);
        assert_int_equal(n, 3);
        free(pids);
        _cleanup_free_ char *sub = xasprintf("%s/moat/life/sub", r);
        assert_int_equal(moat_rm_rf(sub, &err), 0);

        /* re-open from the recorded path, as `delete` does, and remove */
        _cleanup_cgroup_ struct moat_cgroup *again = NULL;
        assert_int_equal(moat_cgroup_open(r, "/moat/life", &again, &err), 0);
        assert_int_equal(moat_cgroup_mode_of(again), MOAT_CGROUP_V2);
        assert_int_equal(moat_cgroup_destroy(again, &err), 0);
        assert_false(exists(r, "moat/life"));
        assert_int_equal(moat_cgroup_destroy(cg, &err), 0); /* already gone: fine */
        assert_true(moat_cgroup_open(r, "/moat/life", &again, &err) < 0);
        assert_true(moat_cgroup_open(r, "relative", &again, &err) < 0);
        cleanup_root(r);
}

static void test_chown(void **state)
{
        char *r = fake_v2();
        struct moat_error err;
        _cleanup_cgroup_ struct moat_cgroup *cg = NULL;
        assert_int_equal(moat_cgroup_create(r, NULL, "own", NULL, &cg, &err), 0);
        put(r, "moat/own/cgroup.procs", "");
        put(r, "moat/own/cgroup.threads", "");
        put(r, "moat/own/cgroup.subtree_control", "");
        put(r, "moat/own/memory.max", "max\n");
        uid_t uid = getuid() == 0 ? 100000 : getuid();
        if (moat_cgroup_chown(cg, uid, uid, &err) < 0)
                fail_msg("%s", err.msg);
        const char *owned[] = {"moat/own", "moat/own/cgroup.procs", "moat/own/cgroup.threads",
                               "moat/own/cgroup.subtree_control"};
        for (size_t i = 0; i < ARRAY_SIZE(owned); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", r, owned[i]);
                struct stat st;
                assert_int_equal(stat(p, &st), 0);
                assert_int_equal(st.st_uid, uid);
        }
        /* limits stay the host's: the container may not raise its own memory.max */
        _cleanup_free_ char *p = xasprintf("%s/moat/own/memory.max", r);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_uid, getuid());
        assert_int_equal(moat_cgroup_destroy(cg, &err), 0);
        cleanup_root(r);
}

static void test_v2_stats(void **state)
{
        char *r = fake_v2();
        struct moat_error err;
        _cleanup_cgroup_ struct moat_cgroup *cg = NULL;
        assert_int_equal(moat_cgroup_create(r, NULL, "st", NULL, &cg, &err), 0);
        put(r, "moat/st/memory.current", "4096\n");
        put(r, "moat/st/memory.max", "max\n");
        put(r, "moat/st/memory.peak", "8192\n");
        put(r, "moat/st/memory.events", "low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n");
        put(r, "moat/st/cpu.stat", "usage_usec 1500\nuser_usec 1000\n");
        put(r, "moat/st/pids.current", "3\n");
        put(r, "moat/st/pids.max", "100\n");
        put(r, "moat/st/io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2\n8:16 rbytes=5 wbytes=0\n");
        struct moat_cgroup_stats st;
        assert_int_equal(moat_cgroup_stats(cg, &st, &err), 0);
        assert_int_equal(st.memory_usage, 4096);
        assert_true(st.memory_limit == UINT64_MAX);
        assert_int_equal(st.memory_max_usage, 8192);
        assert_int_equal(st.oom_kills, 2);
        assert_int_equal(st.cpu_usage_ns, 1500000);
        assert_int_equal(st.pids_current, 3);
        assert_int_equal(st.pids_limit, 100);
        assert_int_equal(st.io_read_bytes, 15);
        assert_int_equal(st.io_write_bytes, 20);
        assert_int_equal(moat_cgroup_destroy(cg, &err), 0);
        cleanup_root(r);
}

/* A new process joins by itself: v1 through `tasks` (a thread moving itself, "0"), cgroup2
 * through clone3 into the leaf, or "0" to its cgroup.procs when clone3 could not. */
static void test_join_self(void **state)
{
        struct moat_error err;
        const char *v1[] = {"cpu,cpuacct", "memory", "blkio", "devices", "freezer", "hugetlb", "systemd", "pids",
                            "cpuset"};
        char *r = fake_v1(true);
        for (int cloned_in = 0; cloned_in <= 1; cloned_in++) {
                _cleanup_cgroup_ struct moat_cgroup *cg = NULL;
                const char *id = cloned_in ? "j1" : "j0";
                assert_int_equal(moat_cgroup_create(r, NULL, id, NULL, &cg, &err), 0);
                assert_int_equal(moat_cgroup_dirfd(cg), -1);
                assert_int_equal(moat_cgroup_join_prepare(cg, &err), 0);
                /* the hybrid host's cgroup2 view is the clone3 target; the v1 hierarchies are not */
                assert_true(moat_cgroup_dirfd(cg) >= 0);
                assert_false(moat_cgroup_clone_places_all(cg));
                assert_int_equal(moat_cgroup_join_self(cg, cloned_in, &err), 0);
                for (size_t i = 0; i < ARRAY_SIZE(v1); i++) {
                        _cleanup_free_ char *rel = xasprintf("%s/moat/%s/tasks", v1[i], id);
                        assert_file(r, rel, "0\n");
                        _cleanup_free_ char *procs = xasprintf("%s/moat/%s/cgroup.procs", v1[i], id);
                        assert_false(exists(r, procs));
                }
                /* (the fake tree's files appear when opened) */
                _cleanup_free_ char *u = xasprintf("unified/moat/%s/cgroup.procs", id);
                assert_file(r, u, cloned_in ? "" : "0\n");
                moat_cgroup_join_release(cg); /* nothing left to close */
        }
        cleanup_root(r);

        r = fake_v2();
        for (int cloned_in = 0; cloned_in <= 1; cloned_in++) {
                _cleanup_cgroup_ struct moat_cgroup *cg = NULL;
                const char *id = cloned_in ? "j1" : "j0";
                assert_int_equal(moat_cgroup_create(r, NULL, id, NULL, &cg, &err), 0);
                assert_int_equal(moat_cgroup_join_prepare(cg, &err), 0);
                assert_true(moat_cgroup_clone_places_all(cg));
                assert_int_equal(moat_cgroup_join_self(cg, cloned_in, &err), 0);
                _cleanup_free_ char *procs = xasprintf("moat/%s/cgroup.procs", id);
                assert_file(r, procs, cloned_in ? "" : "0\n");
        }
        cleanup_root(r);
}

/* ---- v1 ---- */

static void test_v1_create_apply(void **state)
{
        char *r = fake_v1(true);
        struct moat_cgroup_resources res;
        parse_ok(full_resources, &res);
        struct moat_error err;
        _cleanup_cgroup_ struct moat_cgroup *cg = NULL;
        if (moat_cgroup_create(r, NULL, "c1", &res, &cg, &err) < 0)
                fail_msg("%s", err.msg);
        moat_cgroup_resources_free(&res);
        assert_int_equal(moat_cgroup_mode_of(cg), MOAT_CGROUP_V1);
        assert_int_equal(moat_cgroup_dirfd(cg), -1);
        /* every hierarchy has the leaf; the cpu/cpuacct aliases are one hierarchy */
        const char *dirs[] = {"cpu,cpuacct", "memory", "blkio", "devices", "freezer", "hugetlb", "systemd",
                              "pids", "cpuset", "unified"};
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
                _cleanup_free_ char *rel = xasprintf("%s/moat/c1", dirs[i]);
                assert_true(exists(r, rel));
        }
        /* cpuset: each level created inherits the parent's cpus and mems, then the limit applies */
        assert_file(r, "cpuset/moat/cpuset.cpus", "0-3\n");
        assert_file(r, "cpuset/moat/cpuset.mems", "0\n");
        assert_file(r, "cpuset/moat/c1/cpuset.cpus", "0-3\n0-1\n");
        assert_file(r, "cpuset/moat/c1/cpuset.mems", "0\n0\n");
        assert_file(r, "memory/moat/c1/memory.limit_in_bytes", "1048576\n");
        assert_file(r, "memory/moat/c1/memory.memsw.limit_in_bytes", "2097152\n");
        assert_file(r, "memory/moat/c1/memory.soft_limit_in_bytes", "524288\n");
        assert_file(r, "cpu,cpuacct/moat/c1/cpu.shares", "1024\n");
        assert_file(r, "cpu,cpuacct/moat/c1/cpu.cfs_period_us", "100000\n");
        assert_file(r, "cpu,cpuacct/moat/c1/cpu.cfs_quota_us", "50000\n");
        assert_file(r, "cpu,cpuacct/moat/c1/cpu.cfs_burst_us", "1000\n");
        assert_file(r, "pids/moat/c1/pids.max", "max\n");
        assert_file(r, "blkio/moat/c1/blkio.weight", "500\n");
        assert_file(r, "blkio/moat/c1/blkio.weight_device", "8:0 1000\n");
        assert_file(r, "blkio/moat/c1/blkio.throttle.read_bps_device", "8:0 1048576\n8:16 2048\n");
        assert_file(r, "blkio/moat/c1/blkio.throttle.write_iops_device", "8:0 100\n");
        assert_file(r, "hugetlb/moat/c1/hugetlb.2MB.limit_in_bytes", "4194304\n");
        assert_file(r, "devices/moat/c1/devices.deny", "a *:* rwm\n");
        assert_file(r, "devices/moat/c1/devices.allow", "c 1:3 rwm\nc 136:* rw\n");

        /* pause/resume through the freezer */
        assert_int_equal(moat_cgroup_freeze(cg, true, &err), 0);
        assert_int_equal(moat_cgroup_is_frozen(cg), 1);
        assert_int_equal(moat_cgroup_freeze(cg, false, &err), 0);
        assert_int_equal(moat_cgroup_is_frozen(cg), 0);
        assert_file(r, "freezer/moat/c1/freezer.state", "FROZEN\nTHAWED\n");

        /* update: unlimited pids, quota off, unified refused on v1 */
        struct moat_cgroup_resources upd;
        parse_ok("{\"pids\":{\"limit\":-1},\"cpu\":{\"quota\":-1}}", &upd);
        assert_int_equal(moat_cgroup_apply(cg, &upd, &err), 0);
        moat_cgroup_resources_free(&upd);
        assert_file(r, "cpu,cpuacct/moat/c1/cpu.cfs_quota_us", "50000\n-1\n");
        parse_ok("{\"pids\":{\"limit\":5},\"unified\":{\"memory.high\":\"1\"}}", &upd);
        assert_true(moat_cgroup_apply(cg, &upd, &err) < 0);
        moat_cgroup_resources_free(&upd);
        assert_non_null(strstr(err.msg, "linux.resources.unified: needs cgroup v2"));
        assert_file(r, "pids/moat/c1/pids.max", "max\nmax\n"); /* refused before any write */

        put(r, "memory/moat/c1/memory.usage_in_bytes", "2048\n");
        put(r, "memory/moat/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
        put(r, "cpu,cpuacct/moat/c1/cpuacct.usage", "123\n");
        put(r, "blkio/moat/c1/blkio.throttle.io_service_bytes", "8:0 Read 10\n8:0 Write 4\n8:0 Total 14\nTotal 14\n");
        struct moat_cgroup_stats st;
        assert_int_equal(moat_cgroup_stats(cg, &st, &err), 0);
        assert_int_equal(st.memory_usage, 2048);
        assert_int_equal(st.oom_kills, 1);
        assert_int_equal(st.cpu_usage_ns, 123);
        assert_int_equal(st.io_read_bytes, 10);
        assert_int_equal(st.io_write_bytes, 4);

        /* checkBeforeUpdate refuses a limit under the current usage */
        parse_ok("{\"memory\":{\"limit\":1024,\"checkBeforeUpdate\":true}}", &upd);
        assert_true(moat_cgroup_apply(cg, &upd, &err) < 0);
        moat_cgroup_resources_free(&upd);
        assert_non_null(strstr(err.msg, "below the current usage 2048"));

        assert_int_equal(moat_cgroup_destroy(cg, &err), 0);
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
                _cleanup_free_ char *leaf = xasprintf("%s/moat/c1", dirs[i]), *parent = xasprintf("%s/moat", dirs[i]);
                assert_false(exists(r, leaf));
                assert_true(exists(r, parent));
        }
        cleanup_root(r);
}

static void test_v1_missing_controller(void **state)
{
        char *r = fake_v1(false);
        struct moat_error err;
        struct moat_cgroup *cg = NULL;
        struct moat_cgroup_resources res;
        parse_ok("{\"memory\":{\"limit\":1048576},\"pids\":{\"limit\":100}}", &res);
        assert_true(moat_cgroup_create(r, "/x/y", NULL, &res, &cg, &err) < 0);
        moat_cgroup_resources_free(&res);
        assert_non_null(strstr(err.msg, "linux.resources.pids: the pids cgroup controller is not available"));
        /* nothing half-made remains in any hierarchy */
        assert_false(exists(r, "memory/x"));
        assert_false(exists(r, "cpuset/x"));
        assert_false(exists(r, "unified/x"));
        /* hugetlb only in the hybrid cgroup2 tree (as on these machines): limited there */
        _cleanup_free_ char *hugedir = xasprintf("%s/hugetlb", r);
        assert_int_equal(moat_rm_rf(hugedir, &err), 0);
        parse_ok("{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}]}", &res);
        if (moat_cgroup_create(r, NULL, "h", &res, &cg, &err) < 0)
                fail_msg("%s", err.msg);
        moat_cgroup_resources_free(&res);
        assert_file(r, "unified/cgroup.subtree_control", "+hugetlb\n");
        assert_file(r, "unified/moat/cgroup.subtree_control", "+hugetlb\n");
        assert_file(r, "unified/moat/h/hugetlb.2MB.max", "4194304\n");
        /* holding limits, the cgroup2 view is joined for real (a failure there is one) */
        assert_int_equal(moat_cgroup_join_prepare(cg, &err), 0);
        assert_int_equal(moat_cgroup_join_self(cg, false, &err), 0);
        assert_file(r, "unified/moat/h/cgroup.procs", "0\n");
        assert_int_equal(moat_cgroup_destroy(cg, &err), 0);
        assert_false(exists(r, "unified/moat/h"));
        moat_cgroup_free(cg);

        /* not asking for pids is fine */
        parse_ok("{\"memory\":{\"limit\":1048576}}", &res);
        assert_int_equal(moat_cgroup_create(r, "/x/y", NULL, &res, &cg, &err), 0);
        moat_cgroup_resources_free(&res);
        assert_file(r, "memory/x/y/memory.limit_in_bytes", "1048576\n");
        assert_int_equal(moat_cgroup_destroy(cg, &err), 0);
        moat_cgroup_free(cg);

        /* an existing ancestor with empty cpus/mems (someone else's, or a racing create's) is filled
         * from the nearest one that has them, then the leaf */
        put(r, "cpuset/pre/cpuset.cpus", "\n");
        put(r, "cpuset/pre/cpuset.mems", "\n");
        assert_int_equal(moat_cgroup_create(r, "/pre/c", NULL, NULL, &cg, &err), 0);
        assert_file(r, "cpuset/pre/cpuset.cpus", "\n0-3\n");
        assert_file(r, "cpuset/pre/cpuset.mems", "\n0\n");
        assert_file(r, "cpuset/pre/c/cpuset.cpus", "0-3\n");
        assert_int_equal(moat_cgroup_destroy(cg, &err), 0);
        moat_cgroup_free(cg);
        cleanup_root(r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_parse_errors, remove_roots),
                cmocka_unit_test_teardown(test_parse_and_merge, remove_roots),
                cmocka_unit_test_teardown(test_detect, remove_roots),
                cmocka_unit_test_teardown(test_paths, remove_roots),
                cmocka_unit_test_teardown(test_bad_ids, remove_roots),
                cmocka_unit_test_teardown(test_v2_create_apply, remove_roots),
                cmocka_unit_test_teardown(test_v2_refusals_roll_back, remove_roots),
                cmocka_unit_test_teardown(test_v2_lifecycle, remove_roots),
                cmocka_unit_test_teardown(test_v2_stats, remove_roots),
                cmocka_unit_test_teardown(test_chown, remove_roots),
                cmocka_unit_test_teardown(test_join_self, remove_roots),
                cmocka_unit_test_teardown(test_v1_create_apply, remove_roots),
                cmocka_unit_test_teardown(test_v1_missing_controller, remove_roots),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
