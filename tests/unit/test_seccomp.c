/* Unit tests for seccomp: profile errors name their field, every action and operator compiles,
 * the default profile compiles and is cached, a corrupt cache is rebuilt, and filters really
 * work once loaded (in forked children, with no_new_privs, so the test runner stays unconfined). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "runtime/caps.h"
#include "runtime/seccomp.h"
#include "util/util.h"

static json_t *J(const char *text)
{
        json_error_t e;
        json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
        if (!j)
                fail_msg("bad test JSON: %s: %s", e.text, text);
        return j;
}

static char *make_tmpdir(void)
{
        char *d = xstrdup("/tmp/moat-seccomp-XXXXXX");
        assert_non_null(mkdtemp(d));
        return d;
}

static void test_parse_errors(void **state)
{
        static const struct {
                const char *json;
                const char *want;
        } cases[] = {
                { "[]", "linux.seccomp: must be an object" },
                { "{}", "linux.seccomp.defaultAction: must be a string" },
                { "{\"defaultAction\":\"SCMP_ACT_NOPE\"}", "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":1}", "linux.seccomp.defaultErrnoRet: only" },
                { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":99999}", "linux.seccomp.defaultErrnoRet: must be" },
                { "{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_VAX\"]}",
                  "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_BOGUS\"]}",
                  "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_BOGUS\"" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"archMap\":[]}", "linux.seccomp.archMap: unknown field" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}", "linux.seccomp.syscalls: must be an array" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_KILL\"}]}",
                  "linux.seccomp.syscalls[0].names: must be a non-empty" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_KILL\"},"
                  "{\"names\":[\"write\"],\"action\":\"SCMP_ACT_FOO\"}]}",
                  "linux.seccomp.syscalls[1].action: unknown action \"SCMP_ACT_FOO\"" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_KILL\","
                  "\"errnoRet\":1}]}",
                  "linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
                  "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_XX\"}]}]}",
                  "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_XX\"" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
                  "\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                  "linux.seccomp.syscalls[0].args[0].index: must be an integer from 0 to 5" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
                  "\"args\":[{\"index\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                  "linux.seccomp.syscalls[0].args[0].value: must be an integer" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
                  "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\",\"vlaue2\":3}]}]}",
                  "linux.seccomp.syscalls[0].args[0].vlaue2: unknown field" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
                  "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},{\"index\":1,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
                  "{\"index\":2,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},{\"index\":3,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
                  "{\"index\":4,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},{\"index\":5,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
                  "{\"index\":0,\"value\":2,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                  "linux.seccomp.syscalls[0].args: 7 conditions (at most 6)" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
                  "\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}}]}",
                  "linux.seccomp.syscalls[0].includes: a Docker profile field" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                  "linux.seccomp.listenerPath: required" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"]}",
                  "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs" },
                { "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":5}", "linux.seccomp.listenerPath: must be" },
                { "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\",\"socket\"],\"action\":"
                  "\"SCMP_ACT_ALLOW\"},{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
                  "\"value\":38,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                  "linux.seccomp.syscalls[1]: the conditional rule for \"socket\" would never apply: syscalls[0]" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                json_t *j = J(cases[i].json);
                struct moat_seccomp_program p;
                struct moat_error err;
                moat_error_clear(&err);
                int r = moat_seccomp_compile(j, NULL, &p, &err);
                json_decref(j);
                if (r >= 0)
                        fail_msg("case %zu compiled but should not: %s", i, cases[i].json);
                if (!strstr(err.msg, cases[i].want))
                        fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
                assert_null(p.filter);
        }
}

static void test_too_many_rules(void **state)
{
        json_t *j = J("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[]}");
        json_t *rules = json_object_get(j, "syscalls");
        for (int i = 0; i < 4097; i++)
                json_array_append_new(rules, J("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_LOG\"}"));
        struct moat_seccomp_program p;
        struct moat_error err;
        assert_true(moat_seccomp_compile(j, NULL, &p, &err) < 0);
        assert_non_null(strstr(err.msg, "linux.seccomp.syscalls: 4097 rules (at most 4096)"));
        json_decref(j);
}

static void compile_ok(const char *text)
{
        json_t *j = J(text);
        struct moat_seccomp_program p;
        struct moat_error err;
        moat_error_clear(&err);
        int r = moat_seccomp_compile(j, NULL, &p, &err);
        if (r < 0)
                fail_msg("%s: %s", text, err.msg);
        assert_non_null(p.filter);
        assert_true(p.len > 0);
        assert_false(p.cached);
        moat_seccomp_program_free(&p);
        json_decref(j);
}

static void test_every_action_and_op(void **state)
{
        static const char *const actions[] = { "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                                               "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE",
                                               "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY" };
        static const char *const ops[] = { "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
                                           "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ" };
        char buf[1024];
        for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
                /* as the default action (NOTIFY cannot be one) and as a rule's action */
                if (!streq(actions[i], "SCMP_ACT_NOTIFY")) {
                        snprintf(buf, sizeof buf,
                                 "{\"defaultAction\":\"%s\",\"syscalls\":[{\"names\":[\"getppid\"],"
                                 "\"action\":\"SCMP_ACT_ALLOW\"}]}",
                                 actions[i]);
                        compile_ok(buf);
                }
                snprintf(buf, sizeof buf,
                         "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/agent.sock\","
                         "\"syscalls\":[{\"names\":[\"getppid\",\"no_such_syscall\"],\"action\":\"%s\"%s}]}",
                         actions[i],
                         streq(actions[i], "SCMP_ACT_ERRNO") || streq(actions[i], "SCMP_ACT_TRACE") ? ",\"errnoRet\":42"
                                                                                                     : "");
                compile_ok(buf);
        }
        for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
                snprintf(buf, sizeof buf,
                         "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\","
                         "\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],\"syscalls\":[{\"names\":[\"personality\"],"
                         "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":255,\"valueTwo\":8,"
                         "\"op\":\"%s\"}]}]}",
                         ops[i]);
                compile_ok(buf);
        }
        /* two conditions on one argument: accepted, one rule each (runc's reading) */
        compile_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"socket\"],\"action\":"
                   "\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":38,\"op\":\"SCMP_CMP_EQ\"},"
                   "{\"index\":0,\"value\":40,\"op\":\"SCMP_CMP_EQ\"}]}]}");
        /* every flag */
        compile_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x\",\"listenerMetadata\":\"m\","
                   "\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\",\"SECCOMP_FILTER_FLAG_LOG\","
                   "\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\",\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],"
                   "\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}");
}

static void test_default_profile_compiles(void **state)
{
        static const char *const all[] = { "CAP_SYS_ADMIN", "CAP_NET_RAW", "CAP_SYS_PTRACE", "CAP_SYS_TIME",
                                           "CAP_SYS_MODULE", "CAP_SYSLOG", "CAP_BPF", "CAP_PERFMON", NULL };
        const char *const *sets[] = { moat_caps_default, all, NULL };
        for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
                json_t *prof = moat_seccomp_default_profile(sets[i]);
                assert_non_null(prof);
                struct moat_seccomp_program p;
                struct moat_error err;
                moat_error_clear(&err);
                int r = moat_seccomp_compile(prof, NULL, &p, &err);
                if (r < 0)
                        fail_msg("default profile %zu: %s", i, err.msg);
                assert_true(p.len > 100);
                assert_false(p.notify);
                moat_seccomp_program_free(&p);
                json_decref(prof);
        }
}

/* A poor man's fuzzer: every object member and array element of a small profile (and a sample
 * of the default one) replaced by values of the wrong kind. Nothing may crash or leak (the
 * sanitizer build runs this); errors must carry a message. */
static void mutate_and_compile(json_t *root, json_t *node, int *count)
{
        static const char *const junk[] = { "null", "\"x\"", "-1", "[]", "{}", "1e3", "[1,[2]]", "true" };
        if (json_is_object(node)) {
                const char *key;
                json_t *v;
                void *tmp;
                json_object_foreach_safe(node, tmp, key, v)
                {
                        json_incref(v);
                        for (size_t i = 0; i < ARRAY_SIZE(junk); i++) {
                                json_object_set_new(node, key, J(junk[i]));
                                struct moat_seccomp_program p;
                                struct moat_error err;
                                moat_error_clear(&err);
                                if (moat_seccomp_compile(root, NULL, &p, &err) < 0)
                                        assert_true(err.msg[0] != '\0');
                                moat_seccomp_program_free(&p);
                                (*count)++;
                        }
                        json_object_set(node, key, v);
                        mutate_and_compile(root, v, count);
                        json_decref(v);
                }
        } else if (json_is_array(node)) {
                size_t n = json_array_size(node);
                size_t step = n > 20 ? n / 7 : 1;
                for (size_t idx = 0; idx < n; idx += step) {
                        json_t *v = json_incref(json_array_get(node, idx));
                        for (size_t i = 0; i < ARRAY_SIZE(junk); i++) {
                                json_array_set_new(node, idx, J(junk[i]));
                                struct moat_seccomp_program p;
                                struct moat_error err;
                                moat_error_clear(&err);
                                if (moat_seccomp_compile(root, NULL, &p, &err) < 0)
                                        assert_true(err.msg[0] != '\0');
                                moat_seccomp_program_free(&p);
                                (*count)++;
                        }
                        json_array_set(node, idx, v);
                        mutate_and_compile(root, v, count);
                        json_decref(v);
                }
        }
}

static void test_hostile_values(void **state)
{
        int count = 0;
        json_t *small = J("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,\"architectures\":"
                          "[\"SCMP_ARCH_X86_64\"],\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],\"listenerPath\":\"/a\","
                          "\"listenerMetadata\":\"m\",\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":"
                          "\"SCMP_ACT_ALLOW\"},{\"names\":[\"socket\"],\"action\":\"SCMP_ACT_NOTIFY\",\"args\":"
                          "[{\"index\":0,\"value\":1,\"valueTwo\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}");
        mutate_and_compile(small, small, &count);
        json_decref(small);
        assert_true(count > 100);
}

static double compile_ms(json_t *prof, const char *dir, bool *cached)
{
        struct moat_seccomp_program p;
        struct moat_error err;
        unsigned long long t0 = moat_now_ns();
        int r = moat_seccomp_compile(prof, dir, &p, &err);
        unsigned long long t1 = moat_now_ns();
        if (r < 0)
                fail_msg("%s", err.msg);
        *cached = p.cached;
        moat_seccomp_program_free(&p);
        return (double) (t1 - t0) / 1e6;
}

static void test_cache(void **state)
{
        _cleanup_free_ char *dir = make_tmpdir();
        _cleanup_free_ char *cache = xasprintf("%s/seccomp", dir);
        json_t *prof = moat_seccomp_default_profile(moat_caps_default);
        struct moat_seccomp_program a, b;
        struct moat_error err;
        assert_int_equal(moat_seccomp_compile(prof, cache, &a, &err), 0);
        assert_false(a.cached);
        assert_int_equal(moat_seccomp_compile(prof, cache, &b, &err), 0);
        assert_true(b.cached);
        assert_int_equal(a.len, b.len);
        assert_int_equal(a.flags, b.flags);
        assert_memory_equal(a.filter, b.filter, a.len * sizeof(struct sock_filter));

        char hex[65];
        assert_int_equal(moat_seccomp_cache_key(prof, hex, &err), 0);
        _cleanup_free_ char *path = xasprintf("%s/%s.bpf", cache, hex);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);

        /* A different profile is a different key. */
        json_t *other = moat_seccomp_default_profile((const char *const[]) { "CAP_SYS_ADMIN", NULL });
        char hex2[65];
        assert_int_equal(moat_seccomp_cache_key(other, hex2, &err), 0);
        assert_string_not_equal(hex, hex2);
        json_decref(other);

        /* Corruptions: each must be ignored and the file rebuilt to the same program. */
        for (int kind = 0; kind < 5; kind++) {
                _cleanup_free_ char *data = NULL;
                size_t len = 0;
                assert_int_equal(moat_read_file(path, 1 << 20, &data, &len, &err), 0);
                switch (kind) {
                case 0: len = len - 3; break;               /* truncated */
                case 1: data[0] ^= 0xff; break;             /* bad magic */
                case 2: data[len - 1] ^= 0x01; break;       /* a flipped bit in the program */
                case 3: len = 10; break;                    /* shorter than the header */
                case 4: memset(data + 16, 0xff, 4); break;  /* absurd length */
                }
                assert_int_equal(moat_write_file_atomic(path, data, len, 0600, &err), 0);
                struct moat_seccomp_program c;
                assert_int_equal(moat_seccomp_compile(prof, cache, &c, &err), 0);
                assert_false(c.cached);
                assert_int_equal(c.len, a.len);
                assert_memory_equal(c.filter, a.filter, a.len * sizeof(struct sock_filter));
                moat_seccomp_program_free(&c);
                assert_int_equal(moat_seccomp_compile(prof, cache, &c, &err), 0);
                assert_true(c.cached);
                moat_seccomp_program_free(&c);
        }
        /* A cache file others may write is not trusted. */
        assert_int_equal(chmod(path, 0666), 0);
        bool cached;
        compile_ms(prof, cache, &cached);
        assert_false(cached);

        moat_seccomp_program_free(&a);
        moat_seccomp_program_free(&b);
        json_decref(prof);
        assert_int_equal(moat_rm_rf(dir, &err), 0);
}

/* Prints, does not assert: tests never assert timings (CONVENTIONS.md). */
static void test_cache_timing(void **state)
{
        _cleanup_free_ char *dir = make_tmpdir();
        json_t *prof = moat_seccomp_default_profile(moat_caps_default);
        bool cached;
        enum { N = 20 };
        double compile = 1e9, hit = 1e9, key = 1e9;
        for (int i = 0; i < N; i++) {
                double t = compile_ms(prof, NULL, &cached);
                compile = t < compile ? t : compile;
        }
        compile_ms(prof, dir, &cached);
        for (int i = 0; i < N; i++) {
                double t = compile_ms(prof, dir, &cached);
                assert_true(cached);
                hit = t < hit ? t : hit;
                char hex[65];
                struct moat_error err;
                unsigned long long t0 = moat_now_ns();
                moat_seccomp_cache_key(prof, hex, &err);
                double k = (double) (moat_now_ns() - t0) / 1e6;
                key = k < key ? k : key;
        }
        /* and the load itself, in a child (it cannot be undone) */
        struct moat_seccomp_program p;
        struct moat_error e2;
        assert_int_equal(moat_seccomp_compile(prof, dir, &p, &e2), 0);
        int pfd[2];
        assert_int_equal(pipe(pfd), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                unsigned long long t0 = moat_now_ns();
                int r = moat_seccomp_load(&p, &e2);
                unsigned long long dt = moat_now_ns() - t0;
                if (r < 0 || write(pfd[1], &dt, sizeof dt) != sizeof dt)
                        _exit(1);
                _exit(0);
        }
        unsigned long long load_ns = 0;
        assert_int_equal(read(pfd[0], &load_ns, sizeof load_ns), sizeof load_ns);
        waitpid(pid, NULL, 0);
        close(pfd[0]);
        close(pfd[1]);
        double build = 1e9;
        for (int i = 0; i < N; i++) {
                unsigned long long t0 = moat_now_ns();
                json_t *x = moat_seccomp_default_profile(moat_caps_default);
                double t = (double) (moat_now_ns() - t0) / 1e6;
                build = t < build ? t : build;
                json_decref(x);
        }
        fprintf(stderr, "building the default profile JSON: %.3f ms\n", build);
        _cleanup_free_ char *canon = json_dumps(prof, JSON_SORT_KEYS | JSON_COMPACT);
        fprintf(stderr,
                "seccomp default profile (%zu bytes JSON, %u BPF instructions): compile %.3f ms, cache hit %.3f ms "
                "(of which key %.3f ms), load %.3f ms; best of %d\n",
                strlen(canon), p.len, compile, hit, key, (double) load_ns / 1e6, N);
        moat_seccomp_program_free(&p);
        json_decref(prof);
        struct moat_error err;
        moat_rm_rf(dir, &err);
}

/* Run fn in a forked child with no_new_privs; the child's exit code is the result. */
static int in_child(int (*fn)(void *), void *arg)
{
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        _exit(100);
                _exit(fn(arg));
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFSIGNALED(status))
                return 1000 + WTERMSIG(status);
        return WEXITSTATUS(status);
}

static int load_or_exit(json_t *prof, struct moat_seccomp_program *p)
{
        struct moat_error err;
        if (moat_seccomp_compile(prof, NULL, p, &err) < 0) {
                fprintf(stderr, "compile: %s\n", err.msg);
                _exit(101);
        }
        int r = moat_seccomp_load(p, &err);
        if (r < 0) {
                fprintf(stderr, "load: %s\n", err.msg);
                _exit(102);
        }
        return r;
}

static int child_getppid_42(void *arg)
{
        json_t *prof = J("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\"],"
                         "\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":42}]}");
        struct moat_seccomp_program p;
        load_or_exit(prof, &p);
        errno = 0;
        long r = syscall(SYS_getppid);
        if (r != -1 || errno != 42)
                return 1;
        if (syscall(SYS_getpid) <= 0)
                return 2;
        return 0;
}

static void test_load_small_filter(void **state)
{
        assert_int_equal(in_child(child_getppid_42, NULL), 0);
}

/* Without no_new_privs and without CAP_SYS_ADMIN the kernel says EACCES; the error says why. */
static void test_load_without_nnp(void **state)
{
        json_t *prof = J("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],"
                         "\"action\":\"SCMP_ACT_ERRNO\"}]}");
        struct moat_seccomp_program p;
        struct moat_error err;
        assert_int_equal(moat_seccomp_compile(prof, NULL, &p, &err), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
                struct __user_cap_data_struct d[2];
                memset(d, 0, sizeof d);
                if (syscall(SYS_capset, &h, d) < 0)
                        _exit(1);
                int r = moat_seccomp_load(&p, &err);
                if (r != -EACCES || !strstr(err.msg, "no_new_privs"))
                        _exit(2);
                _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        moat_seccomp_program_free(&p);
        json_decref(prof);
}

#define EXPECT_ERRNO(call, want, code)                                                                           \
        do {                                                                                                     \
                errno = 0;                                                                                       \
                long _r = (call);                                                                                \
                if (_r >= 0 || errno != (want)) {                                                                \
                        fprintf(stderr, "%s: returned %ld errno %d, wanted errno %d\n", #call, _r, errno, (want)); \
                        return (code);                                                                           \
                }                                                                                                \
        } while (0)

static void *thread_fn(void *arg)
{
        return (void *) 7;
}

static int child_default_profile(void *arg)
{
        const char *const *caps = arg;
        json_t *prof = moat_seccomp_default_profile(caps);
        struct moat_seccomp_program p;
        load_or_exit(prof, &p);
        EXPECT_ERRNO(syscall(SYS_keyctl, 0, 0, 0, 0, 0), EPERM, 10);
        EXPECT_ERRNO(syscall(SYS_add_key, "user", "x", "y", 1, 0), EPERM, 11);
        EXPECT_ERRNO(unshare(CLONE_NEWUSER), EPERM, 12);
        EXPECT_ERRNO(unshare(CLONE_NEWNS), EPERM, 13);
        EXPECT_ERRNO(socket(38 /* AF_ALG */, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), EPERM, 14);
        EXPECT_ERRNO(socket(40 /* AF_VSOCK */, SOCK_STREAM | SOCK_CLOEXEC, 0), EPERM, 15);
        EXPECT_ERRNO(socket(17 /* AF_PACKET */, SOCK_RAW | SOCK_CLOEXEC, 0), EPERM, 16);
        /* garbage in the upper half of the family register must not get past the rule */
        EXPECT_ERRNO(syscall(SYS_socket, 0x100000026L, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), EPERM, 17);
        EXPECT_ERRNO(syscall(SYS_socket, 0x100000011L, SOCK_RAW | SOCK_CLOEXEC, 0), EPERM, 18);
        EXPECT_ERRNO(personality(0x0400000 /* READ_IMPLIES_EXEC */), EPERM, 19);
        EXPECT_ERRNO(syscall(SYS_clone3, NULL, 0), ENOSYS, 20);
        EXPECT_ERRNO(syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL), EPERM, 21);
        EXPECT_ERRNO(syscall(SYS_io_uring_setup, 1, NULL), EPERM, 22);
        EXPECT_ERRNO(syscall(SYS_bpf, 0, NULL, 0), EPERM, 23);
        EXPECT_ERRNO(syscall(SYS_userfaultfd, 0), EPERM, 24);
        /* ordinary life goes on */
        if (syscall(SYS_getpid) <= 0)
                return 30;
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 31;
        close(fd);
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return 32;
        close(s);
        s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return 33;
        close(s);
        if (personality(0xffffffff) < 0)
                return 34;
        pid_t pid = fork(); /* glibc's fork is clone without namespace flags */
        if (pid < 0)
                return 35;
        if (pid == 0)
                _exit(0);
        waitpid(pid, NULL, 0);
        /* glibc creates threads with clone3; ENOSYS must send it back to clone, which passes */
        pthread_t t;
        if (pthread_create(&t, NULL, thread_fn, NULL) != 0)
                return 36;
        void *ret = NULL;
        pthread_join(t, &ret);
        if (ret != (void *) 7)
                return 37;
        return 0;
}

static void test_default_profile_loaded(void **state)
{
        assert_int_equal(in_child(child_default_profile, (void *) moat_caps_default), 0);
}

static int child_net_raw(void *arg)
{
        json_t *prof = moat_seccomp_default_profile((const char *const[]) { "CAP_NET_RAW", NULL });
        struct moat_seccomp_program p;
        load_or_exit(prof, &p);
        /* allowed by seccomp now: whatever the kernel says, it is not our EPERM from the filter
         * (we run as root with NET_RAW here, so it should simply work) */
        int s = socket(17, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (s < 0 && errno == EPERM)
                return 1;
        EXPECT_ERRNO(socket(38, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), EPERM, 2);
        return 0;
}

static void test_default_profile_net_raw(void **state)
{
        if (prctl(PR_CAPBSET_READ, 13, 0, 0, 0) != 1 || geteuid() != 0)
                skip();
        assert_int_equal(in_child(child_net_raw, NULL), 0);
}

struct notify_ctx {
        const char *sock_path;
};

static int child_notify(void *arg)
{
        struct notify_ctx *nc = arg;
        char text[512];
        snprintf(text, sizeof text,
                 "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"%s\",\"listenerMetadata\":\"hello\","
                 "\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                 nc->sock_path);
        json_t *prof = J(text);
        struct moat_seccomp_program p;
        int fd = load_or_exit(prof, &p);
        if (fd <= 0 || !p.notify)
                return 1;
        char link[64], target[128] = { 0 };
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        if (readlink(link, target, sizeof target - 1) < 0 || !strstr(target, "seccomp"))
                return 2;
        struct moat_error err;
        if (moat_seccomp_send_listener(&p, fd, "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\","
                                               "\"pid\":4321,\"bundle\":\"/b\"}",
                                       &err) < 0) {
                fprintf(stderr, "send: %s\n", err.msg);
                return 3;
        }
        close(fd);
        /* the agent answers 4242 for us */
        if (syscall(SYS_getppid) != 4242)
                return 4;
        return 0;
}

static void test_notify_listener(void **state)
{
        _cleanup_free_ char *dir = make_tmpdir();
        _cleanup_free_ char *sp = xasprintf("%s/agent.sock", dir);
        int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(ls >= 0);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        strcpy(addr.sun_path, sp);
        assert_int_equal(bind(ls, (struct sockaddr *) &addr, sizeof addr), 0);
        assert_int_equal(listen(ls, 1), 0);

        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(ls);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        _exit(100);
                struct notify_ctx nc = { sp };
                _exit(child_notify(&nc));
        }
        int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        assert_true(c >= 0);
        char buf[4096] = { 0 };
        union {
                char b[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } ctl;
        struct iovec iov = { buf, sizeof buf - 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b };
        ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
        assert_true(n > 0);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        assert_non_null(cm);
        assert_int_equal(cm->cmsg_type, SCM_RIGHTS);
        int nfd;
        memcpy(&nfd, CMSG_DATA(cm), sizeof nfd);
        json_t *msg = J(buf);
        assert_string_equal(json_string_value(json_object_get(msg, "metadata")), "hello");
        assert_string_equal(json_string_value(json_array_get(json_object_get(msg, "fds"), 0)), "seccompFd");
        assert_int_equal(json_integer_value(json_object_get(msg, "pid")), 4321);
        assert_string_equal(json_string_value(json_object_get(json_object_get(msg, "state"), "id")), "c1");
        json_decref(msg);

        /* Be the agent: answer the child's getppid() with 4242. */
        struct seccomp_notif req;
        memset(&req, 0, sizeof req);
        assert_int_equal(ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req), 0);
        assert_int_equal(req.pid, pid);
        struct seccomp_notif_resp resp = { .id = req.id, .val = 4242, .error = 0, .flags = 0 };
        assert_int_equal(ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0);

        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        close(nfd);
        close(c);
        close(ls);
        struct moat_error err;
        moat_rm_rf(dir, &err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_too_many_rules),
                cmocka_unit_test(test_every_action_and_op),
                cmocka_unit_test(test_hostile_values),
                cmocka_unit_test(test_default_profile_compiles),
                cmocka_unit_test(test_cache),
                cmocka_unit_test(test_cache_timing),
                cmocka_unit_test(test_load_small_filter),
                cmocka_unit_test(test_load_without_nnp),
                cmocka_unit_test(test_default_profile_loaded),
                cmocka_unit_test(test_default_profile_net_raw),
                cmocka_unit_test(test_notify_listener),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
