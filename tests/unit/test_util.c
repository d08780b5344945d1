/* Unit tests for util: errors wrap into chains, integers parse strictly, atomic writes replace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
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
        /* docker's and runc's units.RAMInBytes spellings (moat-runtime update takes these too) */
        assert_int_equal(moat_parse_bytes("64MiB", &v), 0);
        assert_int_equal(v, 64 << 20);
        assert_int_equal(moat_parse_bytes("2gi", &v), 0);
        assert_int_equal(v, 2LL << 30);
        assert_int_not_equal(moat_parse_bytes("64i", &v), 0);
        assert_int_not_equal(moat_parse_bytes("64bi", &v), 0);
        assert_int_not_equal(moat_parse_bytes("64MiBB", &v), 0);
        assert_int_not_equal(moat_parse_bytes("", &v), 0);
        assert_int_not_equal(moat_parse_bytes("-1m", &v), 0);
        assert_int_not_equal(moat_parse_bytes("lots", &v), 0);
        assert_int_not_equal(moat_parse_bytes("1q", &v), 0);
        assert_int_not_equal(moat_parse_bytes("nan", &v), 0);
        assert_int_not_equal(moat_parse_bytes("1e30", &v), 0);
}

/* A write to a pipe whose reader is gone: -EPIPE, the process lives on, no SIGPIPE left pending,
 * and the signal mask as it was. */
static void test_write_nosigpipe(void **state)
{
        (void) state;
        int p[2];
        assert_int_equal(pipe(p), 0);
        close(p[0]);
        sigset_t before, after, pending;
        sigprocmask(SIG_SETMASK, NULL, &before);
        assert_int_equal(moat_write_nosigpipe(p[1], "x", 1), -EPIPE);
        sigprocmask(SIG_SETMASK, NULL, &after);
        assert_int_equal(sigismember(&after, SIGPIPE), sigismember(&before, SIGPIPE));
        sigpending(&pending);
        assert_false(sigismember(&pending, SIGPIPE));
        close(p[1]);
        /* and an ordinary write still works */
        assert_int_equal(pipe(p), 0);
        assert_int_equal(moat_write_nosigpipe(p[1], "ok", 2), 0);
        char buf[2];
        assert_int_equal(read(p[0], buf, 2), 2);
        close(p[0]);
        close(p[1]);
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

static void test_durations_and_timestamps(void **state)
{
        (void) state;
        int64_t v;
        assert_int_equal(moat_parse_duration("1h30m", &v), 0);
        assert_true(v == 5400LL * 1000000000);
        assert_int_equal(moat_parse_duration("250ms", &v), 0);
        assert_true(v == 250000000);
        assert_int_equal(moat_parse_duration("1.5s", &v), 0);
        assert_true(v == 1500000000);
        assert_int_equal(moat_parse_duration("0", &v), 0);
        assert_true(v == 0);
        assert_int_equal(moat_parse_duration("-2us", &v), 0);
        assert_true(v == -2000);
        const char *bad[] = { "", "10", "1x", "h", "1h 2m", ".s", "1e3s", "--1s" };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                assert_int_not_equal(moat_parse_duration(bad[i], &v), 0);
        int64_t now = 1700000000LL * 1000000000;
        assert_int_equal(moat_parse_timestamp("10m", now, &v), 0);
        assert_true(v == now - 600LL * 1000000000);
        assert_int_equal(moat_parse_timestamp("1700000000.5", now, &v), 0);
        assert_true(v == 1700000000LL * 1000000000 + 500000000);
        assert_int_equal(moat_parse_timestamp("2023-11-14T22:13:20Z", now, &v), 0);
        assert_true(v == now);
        assert_int_equal(moat_parse_timestamp("2023-11-14T22:13:20.123456789Z", now, &v), 0);
        assert_true(v == now + 123456789);
        assert_int_equal(moat_parse_timestamp("2023-11-15T00:13:20+02:00", now, &v), 0);
        assert_true(v == now);
        assert_int_equal(moat_parse_timestamp("2023-11-14", now, &v), 0);
        const char *badts[] = { "", "yesterday", "2023-13-01", "2023-11-14T25:00Z", "2023-11-14T22:13:20Zjunk",
                                "12abc", "1.2.3", "-5" };
        for (size_t i = 0; i < sizeof badts / sizeof *badts; i++)
                assert_int_not_equal(moat_parse_timestamp(badts[i], now, &v), 0);
        char buf[48];
        moat_format_rfc3339(now + 5, buf, sizeof buf);
        assert_string_equal(buf, "2023-11-14T22:13:20.000000005Z");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_error_chain),
                cmocka_unit_test(test_parse_ints),
                cmocka_unit_test(test_parse_bytes),
                cmocka_unit_test(test_write_nosigpipe),
                cmocka_unit_test(test_atomic_write),
                cmocka_unit_test(test_durations_and_timestamps),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
