/* Unit tests for util: errors wrap into chains, integers parse strictly, atomic writes replace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <time.h>
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

static void test_parse_time(void **state)
{
        const int64_t now = 1700000000LL * 1000000000;
        int64_t t;
        assert_int_equal(moat_parse_time("10m", now, &t), 0);
        assert_true(t == now - 600LL * 1000000000);
        assert_int_equal(moat_parse_time("1h30m", now, &t), 0);
        assert_true(t == now - 5400LL * 1000000000);
        assert_int_equal(moat_parse_time("1.5s", now, &t), 0);
        assert_true(t == now - 1500000000LL);
        assert_int_equal(moat_parse_time("1700000000", now, &t), 0);
        assert_true(t == now);
        assert_int_equal(moat_parse_time("1700000000.5", now, &t), 0);
        assert_true(t == now + 500000000);
        assert_int_equal(moat_parse_time("0", now, &t), 0); /* docker: the unix time 0, not a duration */
        assert_true(t == 0);
        assert_int_equal(moat_parse_time("2023-11-14T22:13:20Z", now, &t), 0);
        assert_true(t == now);
        assert_int_equal(moat_parse_time("2023-11-14T23:13:20.25+01:00", now, &t), 0);
        assert_true(t == now + 250000000);
        setenv("TZ", "UTC", 1);
        tzset();
        assert_int_equal(moat_parse_time("2023-11-14", now, &t), 0);
        assert_true(t == 1699920000LL * 1000000000);
        assert_int_equal(moat_parse_time("2023-11-14T22:13", now, &t), 0);
        assert_true(t == now - 20LL * 1000000000);
        static const char *const bad[] = { "", "10x", "m", "1.2.3s", "2023-13-01", "2023-11-14T25:00",
                                           "2023-11-14Tjunk", "1700000000.", "yesterday", "2023-11-14Z1" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_not_equal(moat_parse_time(bad[i], now, &t), 0);
        char buf[48];
        moat_format_rfc3339(now + 5, buf, sizeof buf);
        assert_string_equal(buf, "2023-11-14T22:13:20.000000005Z");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_error_chain),
                cmocka_unit_test(test_parse_ints),
                cmocka_unit_test(test_atomic_write),
                cmocka_unit_test(test_parse_time),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
