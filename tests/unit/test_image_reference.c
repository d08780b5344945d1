/* Unit tests for image references: Docker's defaults, hosts with ports, digests, and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "image/reference.h"

static void check(const char *in, const char *domain, const char *path, const char *tag, const char *digest)
{
        struct moat_image_ref r;
        struct moat_error err;
        int rc = moat_image_ref_parse(in, &r, &err);
        if (rc != 0)
                fail_msg("%s: %s", in, err.msg);
        assert_string_equal(r.domain, domain);
        assert_string_equal(r.path, path);
        if (tag)
                assert_string_equal(r.tag, tag);
        else
                assert_null(r.tag);
        if (digest)
                assert_string_equal(r.digest, digest);
        else
                assert_null(r.digest);
        moat_image_ref_free(&r);
}

#define D "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_valid(void **state)
{
        check("busybox", "docker.io", "library/busybox", "latest", NULL);
        check("busybox:1.36", "docker.io", "library/busybox", "1.36", NULL);
        check("user/app", "docker.io", "user/app", "latest", NULL);
        check("docker.io/busybox", "docker.io", "library/busybox", "latest", NULL);
        check("index.docker.io/library/busybox:x", "docker.io", "library/busybox", "x", NULL);
        check("127.0.0.1:5000/team/app:1.2", "127.0.0.1:5000", "team/app", "1.2", NULL);
        check("localhost/app", "localhost", "app", "latest", NULL);
        check("localhost:5000/a/b/c", "localhost:5000", "a/b/c", "latest", NULL);
        check("registry.example/app@" D, "registry.example", "app", NULL, D);
        check("registry.example/app:t@" D, "registry.example", "app", "t", D);
        check("a.b/x__y.z-w--q", "a.b", "x__y.z-w--q", "latest", NULL);
        check("[::1]:5000/app", "[::1]:5000", "app", "latest", NULL);
        check("my-host.example.com:443/a:_T.-1", "my-host.example.com:443", "a", "_T.-1", NULL);
}

static void test_invalid(void **state)
{
        static const char *const bad[] = {
                "", "UPPER", "app:", ":tag", "app@sha256:abc", "app@md5:0123",
                "-app", "app-", "a..b", "a___b", "host:99999/app", "host:0/app", "host:/app",
                "app:-tag", "app:t/g", "/app", "app/", "a//b", "ho_st.com/app", "app name",
                "app:tag:tag2", "-h.com/app", "h.com/app@" D "x", "app\n",
                "app@" D "@" D, "[zz]/app",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                struct moat_image_ref r;
                struct moat_error err;
                if (moat_image_ref_parse(bad[i], &r, &err) == 0)
                        fail_msg("accepted %s as %s/%s", bad[i], r.domain, r.path);
        }
        char longname[600];
        memset(longname, 'a', sizeof longname - 1);
        longname[sizeof longname - 1] = '\0';
        struct moat_image_ref r;
        struct moat_error err;
        assert_true(moat_image_ref_parse(longname, &r, &err) < 0);
        char tag[200] = "app:";
        memset(tag + 4, 't', 129);
        tag[133] = '\0';
        assert_true(moat_image_ref_parse(tag, &r, &err) < 0);
}

static void test_strings(void **state)
{
        struct moat_image_ref r;
        struct moat_error err;
        assert_int_equal(moat_image_ref_parse("busybox", &r, &err), 0);
        _cleanup_free_ char *s = moat_image_ref_string(&r);
        assert_string_equal(s, "docker.io/library/busybox:latest");
        _cleanup_free_ char *f = moat_image_ref_familiar(s);
        assert_string_equal(f, "busybox:latest");
        assert_string_equal(moat_image_ref_api_host(&r), "registry-1.docker.io");
        moat_image_ref_free(&r);
        assert_int_equal(moat_image_ref_parse("h:1/a@" D, &r, &err), 0);
        _cleanup_free_ char *s2 = moat_image_ref_string(&r);
        assert_string_equal(s2, "h:1/a@" D);
        moat_image_ref_free(&r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid),
                cmocka_unit_test(test_invalid),
                cmocka_unit_test(test_strings),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
