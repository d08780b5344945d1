/* Unit tests for util: errors wrap into chains, integers parse strictly, atomic writes replace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "util/util.h"

static void test_error_chain(void **state)
{
        struct moat_error err;
        moat_error_clear(&err);
        int r = moat_error_set(&err, EPERM, "mount %s", "/proc");
        assert_int_equal(r, -EPERM);
        assert_string_equal(err.msg, "mount /proc: Operation not permitted");
        r = moat_error_wrap(&err, "create container %s", "x");
        assert_int_equal(r, -EPERM);
        assert_string_equal(err.msg, "create container x: mount /proc: Operation not permitted");
        r = moat_error_set(&err, 0, "bad field");
        assert_int_equal(r, -EINVAL);
        assert_string_equal(err.msg, "bad field");
}

static void test_parse_ints(void **state)
{
        long long v;
        unsigned long long u;
        assert_int_equal(moat_parse_int64("-12", &v), 0);
        assert_int_equal(v, -12);
        assert_int_not_equal(moat_parse_int64("12x", &v), 0);
        assert_int_not_equal(moat_parse_int64("", &v), 0);
        assert_int_not_equal(moat_parse_int64("99999999999999999999", &v), 0);
        assert_int_equal(moat_parse_uint64("18446744073709551615", &u), 0);
        assert_int_not_equal(moat_parse_uint64("-1", &u), 0);
}

static void test_parse_bytes(void **state)
{
        int64_t v;
        assert_int_equal(moat_parse_bytes("100", &v), 0);
        assert_int_equal(v, 100);
        assert_int_equal(moat_parse_bytes("64m", &v), 0);
        assert_int_equal(v, 64 << 20);
        assert_int_equal(moat_parse_bytes("1.5G", &v), 0);
        assert_int_equal(v, 3LL << 29);
        assert_int_equal(moat_parse_bytes("512kb", &v), 0);
        assert_int_equal(v, 512 << 10);
        assert_int_not_equal(moat_parse_bytes("", &v), 0);
        assert_int_not_equal(moat_parse_bytes("-1m", &v), 0);
        assert_int_not_equal(moat_parse_bytes("lots", &v), 0);
        assert_int_not_equal(moat_parse_bytes("1q", &v), 0);
        assert_int_not_equal(moat_parse_bytes("nan", &v), 0);
        assert_int_not_equal(moat_parse_bytes("1e30", &v), 0);
}

static void test_atomic_write(void **state)
{
        char dir[] = "/tmp/moat-unit-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *path = xasprintf("%s/f", dir);
        struct moat_error err;
        assert_int_equal(moat_write_file_atomic(path, "one", 3, 0600, &err), 0);
        assert_int_equal(moat_write_file_atomic(path, "two!", 4, 0600, &err), 0);
        _cleanup_free_ char *buf = NULL;
        size_t len;
        assert_int_equal(moat_read_file(path, 100, &buf, &len, &err), 0);
        assert_int_equal(len, 4);
        assert_string_equal(buf, "two!");
        free(buf);
        buf = NULL;
        assert_int_equal(moat_read_file(path, 2, &buf, &len, &err), -EFBIG);
        assert_int_equal(moat_rm_rf(dir, &err), 0);
        assert_int_equal(access(dir, F_OK), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_error_chain),
                cmocka_unit_test(test_parse_ints),
                cmocka_unit_test(test_parse_bytes),
                cmocka_unit_test(test_atomic_write),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
