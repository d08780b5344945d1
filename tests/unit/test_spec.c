/* Unit tests for the OCI config parser: the default spec parses, every malformed field is refused
 * with an error that names it, and parsed values land where the runtime reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sys/mount.h>

#include "runtime/spec.h"

static json_t *base(void)
{
        json_t *d = moat_spec_default(false);
        json_object_set_new(json_object_get(d, "root"), "path", json_string("/tmp"));
        return d;
}

static void drop_namespace(json_t *doc, const char *type)
{
        json_t *nss = json_object_get(json_object_get(doc, "linux"), "namespaces");
        for (size_t i = 0; i < json_array_size(nss); i++)
                if (streq(json_string_value(json_object_get(json_array_get(nss, i), "type")), type)) {
                        json_array_remove(nss, i);
                        return;
                }
}

static void expect_error(json_t *doc, const char *needle)
{
        struct moat_spec s;
        struct moat_error err;
        moat_error_clear(&err);
        int r = moat_spec_parse(doc, "/bundle", &s, &err);
        if (r == 0) {
                moat_spec_free(&s);
                fail_msg("expected an error containing \"%s\", got success", needle);
        }
        if (!strstr(err.msg, needle))
                fail_msg("expected an error containing \"%s\", got \"%s\"", needle, err.msg);
        json_decref(doc);
}

static void test_default_parses(void **state)
{
        json_t *d = base();
        struct moat_spec s;
        struct moat_error err;
        assert_int_equal(moat_spec_parse(d, "/bundle", &s, &err), 0);
        assert_true(s.has_process);
        assert_true(s.process.no_new_privileges);
        assert_true(s.root_readonly);
        assert_true(s.ns[MOAT_NS_PID].present && !s.ns[MOAT_NS_PID].path);
        assert_true(s.ns[MOAT_NS_CGROUP].present);
        assert_false(s.ns[MOAT_NS_USER].present);
        assert_true(s.ns[MOAT_NS_TIME].present);
        assert_non_null(s.seccomp);
        assert_true(s.resources.has_pids_limit);
        assert_int_equal(s.resources.pids_limit, 2048);
        assert_int_equal(s.process.caps.bounding, 0x800405fbULL);
        assert_string_equal(s.hostname, "moat");
        /* /proc: nosuid, noexec, nodev */
        assert_string_equal(s.mounts[0].destination, "/proc");
        assert_int_equal(s.mounts[0].flags & (MS_NOSUID | MS_NOEXEC | MS_NODEV), MS_NOSUID | MS_NOEXEC | MS_NODEV);
        moat_spec_free(&s);
        json_decref(d);
}

static void test_relative_root_is_bundle_relative(void **state)
{
        json_t *d = moat_spec_default(false);
        struct moat_spec s;
        struct moat_error err;
        assert_int_equal(moat_spec_parse(d, "/b", &s, &err), 0);
        assert_string_equal(s.root_path, "/b/rootfs");
        moat_spec_free(&s);
        json_decref(d);
}

static void test_malformed(void **state)
{
        json_t *d;

        d = base();
        json_object_del(d, "ociVersion");
        expect_error(d, "ociVersion: required");

        d = base();
        json_object_set_new(d, "ociVersion", json_string("2.0.0"));
        expect_error(d, "ociVersion");

        d = base();
        json_object_set_new(json_object_get(d, "process"), "args", json_string("sh"));
        expect_error(d, "process.args: expected an array");

        d = base();
        json_array_set_new(json_object_get(json_object_get(d, "process"), "args"), 0, json_integer(3));
        expect_error(d, "process.args[0]: expected a string");

        d = base();
        json_object_set_new(json_object_get(d, "process"), "args", json_array());
        expect_error(d, "process.args");

        d = base();
        json_object_set_new(json_object_get(d, "process"), "cwd", json_string("relative"));
        expect_error(d, "process.cwd");

        d = base();
        json_array_append_new(json_object_get(json_object_get(d, "linux"), "namespaces"),
                              json_pack("{s:s}", "type", "foo"));
        expect_error(d, "unknown namespace type \"foo\"");

        d = base();
        json_array_append_new(json_object_get(json_object_get(d, "linux"), "namespaces"),
                              json_pack("{s:s}", "type", "pid"));
        expect_error(d, "given twice");

        d = base();
        json_array_append_new(json_object_get(d, "mounts"), json_pack("{s:s}", "type", "tmpfs"));
        expect_error(d, "mounts[7].destination: required");

        d = base();
        json_array_append_new(json_object_get(d, "mounts"), json_pack("{s:s,s:s}", "destination", "rel", "type", "tmpfs"));
        expect_error(d, "must be an absolute path");

        d = base();
        json_array_append_new(json_object_get(d, "mounts"),
                              json_pack("{s:s,s:s}", "destination", "/a/../../etc", "type", "tmpfs"));
        expect_error(d, "without \"..\"");

        d = base();
        json_array_append_new(json_object_get(d, "mounts"),
                              json_pack("{s:s,s:s,s:[s]}", "destination", "/x", "type", "none", "options", "bind"));
        expect_error(d, "a bind mount needs a source");

        d = base();
        json_object_set_new(json_object_get(d, "process"), "rlimits",
                            json_pack("[{s:s,s:i,s:i}]", "type", "RLIMIT_FOO", "soft", 1, "hard", 1));
        expect_error(d, "unknown rlimit");

        d = base();
        json_object_set_new(json_object_get(d, "process"), "rlimits",
                            json_pack("[{s:s,s:i,s:i}]", "type", "RLIMIT_NOFILE", "soft", 10, "hard", 1));
        expect_error(d, "above the hard limit");

        d = base();
        json_object_del(d, "root");
        expect_error(d, "root: required");

        d = base();
        json_object_set_new(json_object_get(d, "linux"), "sysctl", json_pack("{s:s}", "kernel.panic", "1"));
        expect_error(d, "not namespaced");

        d = base();
        drop_namespace(d, "time");
        json_object_set_new(json_object_get(d, "linux"), "timeOffsets",
                            json_pack("{s:{s:i}}", "monotonic", "secs", 10));
        expect_error(d, "needs a new time namespace");

        d = base();
        json_object_set_new(json_object_get(d, "process"), "apparmorProfile", json_string("docker-default"));
        expect_error(d, "AppArmor is not enabled");

        d = base();
        json_object_set_new(json_object_get(d, "linux"), "intelRdt", json_pack("{s:s}", "closID", "x"));
        expect_error(d, "linux.intelRdt");

        d = base();
        json_object_set_new(d, "hooks", json_pack("{s:[{s:s}]}", "prestart", "path", "rel/hook"));
        expect_error(d, "hooks.prestart[0].path");

        d = base();
        json_object_set_new(d, "hooks", json_pack("{s:[]}", "preStart"));
        expect_error(d, "unknown hook stage");

        d = base();
        json_object_set_new(json_object_get(d, "linux"), "uidMappings",
                            json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", 1000, "size", 1));
        expect_error(d, "need a user namespace");

        d = base();
        json_object_set_new(json_object_get(d, "linux"), "devices",
                            json_pack("[{s:s,s:s,s:i,s:i}]", "path", "/etc/shadow", "type", "c", "major", 1, "minor", 3));
        expect_error(d, "under /dev");

        d = base();
        json_object_set_new(json_object_get(json_object_get(d, "linux"), "resources"), "pids",
                            json_pack("{s:s}", "limit", "many"));
        expect_error(d, "linux.resources.pids.limit");
}

static void test_mount_options(void **state)
{
        json_t *d = base();
        json_array_append_new(json_object_get(d, "mounts"),
                              json_pack("{s:s,s:s,s:[s,s,s,s,s]}", "destination", "/data", "source", "/srv", "options",
                                        "rbind", "ro", "rslave", "size=1k", "rnosymfollow"));
        struct moat_spec s;
        struct moat_error err;
        assert_int_equal(moat_spec_parse(d, "/b", &s, &err), 0);
        const struct moat_mount *m = &s.mounts[s.n_mounts - 1];
        assert_true(m->ext & MOAT_MOUNT_BIND);
        assert_true(m->ext & MOAT_MOUNT_RBIND);
        assert_true(m->flags & MS_RDONLY);
        assert_int_equal(m->propagation, MS_SLAVE | MS_REC);
        assert_string_equal(m->data, "size=1k");
        assert_true(m->rec_attr_set != 0);
        moat_spec_free(&s);
        json_decref(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_parses),
                cmocka_unit_test(test_relative_root_is_bundle_relative),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_mount_options),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
