/* Unit tests for caps: the name table, OCI parsing with errors that name field and value, and
 * the bounding/ambient/capset application checked in /proc/self/status of a forked child. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sys/prctl.h>
#include <sys/wait.h>

#include "runtime/caps.h"
#include "util/util.h"

static json_t *J(const char *text)
{
        json_error_t e;
        json_t *j = json_loads(text, 0, &e);
        if (!j)
                fail_msg("bad test JSON: %s: %s", e.text, text);
        return j;
}

static void test_names(void **state)
{
        for (int i = 0; i <= 40; i++) {
                const char *n = moat_cap_name(i);
                assert_non_null(n);
                assert_true(startswith(n, "CAP_"));
                assert_int_equal(moat_cap_from_name(n), i);
        }
        assert_null(moat_cap_name(41));
        assert_null(moat_cap_name(-1));
        assert_int_equal(moat_cap_from_name("CAP_NET_RAW"), 13);
        assert_int_equal(moat_cap_from_name("CAP_SYS_ADMIN"), 21);
        assert_int_equal(moat_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
        assert_int_equal(moat_cap_from_name("CAP_FOO"), -1);
        assert_int_equal(moat_cap_from_name("net_raw"), -1);
        assert_int_equal(moat_cap_from_name(NULL), -1);
        size_t n = 0;
        for (; moat_caps_default[n]; n++)
                assert_true(moat_cap_from_name(moat_caps_default[n]) >= 0);
        assert_int_equal(n, 11);
}

static void test_cap_last(void **state)
{
        _cleanup_free_ char *text = NULL;
        struct moat_error err;
        if (moat_read_file("/proc/sys/kernel/cap_last_cap", 64, &text, NULL, &err) < 0)
                skip();
        assert_int_equal(moat_cap_last(), atoi(text));
        assert_int_equal(moat_cap_last(), atoi(text)); /* cached */
}

static void test_parse(void **state)
{
        json_t *j = J("{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
                      "\"effective\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\",\"CAP_CHOWN\"],"
                      "\"inheritable\":[\"CAP_KILL\"],\"ambient\":[\"CAP_KILL\",\"CAP_KILL\"]}");
        struct moat_caps c;
        struct moat_error err;
        moat_error_clear(&err);
        assert_int_equal(moat_caps_parse(j, &c, &err), 0);
        assert_true(c.set);
        assert_int_equal(c.bounding, (1ULL << 0) | (1ULL << 5) | (1ULL << 10));
        assert_int_equal(c.effective, 1ULL << 5);
        assert_int_equal(c.permitted, (1ULL << 5) | 1ULL);
        assert_int_equal(c.inheritable, 1ULL << 5);
        assert_int_equal(c.ambient, 1ULL << 5);
        json_decref(j);

        assert_int_equal(moat_caps_parse(NULL, &c, &err), 0);
        assert_false(c.set);
        j = J("{}");
        assert_int_equal(moat_caps_parse(j, &c, &err), 0);
        assert_true(c.set);
        assert_int_equal(c.bounding | c.effective | c.permitted | c.inheritable | c.ambient, 0);
        json_decref(j);
}

static void test_parse_errors(void **state)
{
        static const struct {
                const char *json;
                const char *want;
        } cases[] = {
                { "[]", "process.capabilities: must be an object" },
                { "{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\",\"CAP_SETUID\",\"CAP_FOO\"]}",
                  "process.capabilities.bounding[3]: unknown capability \"CAP_FOO\"" },
                { "{\"effective\":\"CAP_CHOWN\"}", "process.capabilities.effective: must be an array of strings" },
                { "{\"permitted\":[1]}", "process.capabilities.permitted[0]: must be a string" },
                { "{\"ambiant\":[]}", "process.capabilities.ambiant: unknown field" },
                { "{\"effective\":[\"CAP_KILL\"]}", "process.capabilities.effective: CAP_KILL is not in the permitted set" },
                { "{\"bounding\":[\"cap_chown\"]}", "process.capabilities.bounding[0]: unknown capability \"cap_chown\"" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                json_t *j = J(cases[i].json);
                struct moat_caps c;
                struct moat_error err;
                moat_error_clear(&err);
                int r = moat_caps_parse(j, &c, &err);
                json_decref(j);
                if (r >= 0)
                        fail_msg("case %zu parsed but should not: %s", i, cases[i].json);
                assert_int_equal(r, -EINVAL);
                if (!strstr(err.msg, cases[i].want))
                        fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
        }
}

static void test_kernel_unknown_cap(void **state)
{
        int last = moat_cap_last();
        if (last >= 40)
                skip(); /* this kernel knows every capability we do */
        char text[128];
        snprintf(text, sizeof text, "{\"bounding\":[\"%s\"]}", moat_cap_name(last + 1));
        json_t *j = J(text);
        struct moat_caps c;
        struct moat_error err;
        assert_true(moat_caps_parse(j, &c, &err) < 0);
        assert_non_null(strstr(err.msg, "not supported by the running kernel"));
        json_decref(j);
}

static unsigned long long status_mask(const char *field)
{
        _cleanup_free_ char *text = NULL;
        struct moat_error err;
        if (moat_read_file("/proc/self/status", 1 << 16, &text, NULL, &err) < 0)
                return ~0ULL;
        char *p = strstr(text, field);
        if (!p)
                return ~0ULL;
        return strtoull(p + strlen(field), NULL, 16);
}

static int child_apply(void)
{
        json_t *j = J("{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\",\"CAP_SETPCAP\"],"
                      "\"effective\":[\"CAP_CHOWN\",\"CAP_KILL\"],\"permitted\":[\"CAP_CHOWN\",\"CAP_KILL\"],"
                      "\"inheritable\":[\"CAP_KILL\"],\"ambient\":[\"CAP_KILL\"]}");
        struct moat_caps c;
        struct moat_error err;
        if (moat_caps_parse(j, &c, &err) < 0)
                return 1;
        if (moat_caps_drop_bounding(&c, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 2;
        }
        /* idempotent: a second drop needs nothing (CAP_SETPCAP may already be gone) */
        if (moat_caps_drop_bounding(&c, &err) < 0)
                return 3;
        if (moat_caps_apply(&c, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 4;
        }
        if (status_mask("CapBnd:") != c.bounding)
                return 5;
        if (status_mask("CapEff:") != c.effective || status_mask("CapPrm:") != c.permitted)
                return 6;
        if (status_mask("CapInh:") != c.inheritable || status_mask("CapAmb:") != c.ambient)
                return 7;
        /* applying more than permitted now must fail, with a message */
        struct moat_caps more = c;
        more.permitted |= 1ULL << 21;
        more.effective |= 1ULL << 21;
        if (moat_caps_apply(&more, &err) != -EPERM || !strstr(err.msg, "capset"))
                return 8;
        return 0;
}

static void test_apply(void **state)
{
        if (geteuid() != 0 || prctl(PR_CAPBSET_READ, 8, 0, 0, 0) != 1)
                skip();
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(child_apply());
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* As runc and crun: an ambient capability the kernel could not raise (not inheritable) is dropped,
 * not an error, so configs written by `runc spec` run. */
static void test_ambient_not_inheritable_dropped(void **state)
{
        json_t *j = J("{\"permitted\":[\"CAP_KILL\",\"CAP_CHOWN\"],\"inheritable\":[\"CAP_CHOWN\"],"
                      "\"ambient\":[\"CAP_KILL\",\"CAP_CHOWN\"]}");
        struct moat_caps c;
        struct moat_error err;
        assert_int_equal(moat_caps_parse(j, &c, &err), 0);
        json_decref(j);
        assert_int_equal(c.ambient, 1ULL << 0 /* CAP_CHOWN */);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ambient_not_inheritable_dropped),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_cap_last),
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_kernel_unknown_cap),
                cmocka_unit_test(test_apply),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
