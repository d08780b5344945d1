/* time: the durations and timestamps docker's command line accepts (Go's time.ParseDuration
 * syntax; RFC3339 with or without fraction and zone, a bare date, unix seconds with a fraction),
 * as signed nanoseconds since the epoch. */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "util/util.h"

int moat_parse_duration(const char *s, int64_t *out)
{
        static const struct {
                const char *name;
                double ns;
        } units[] = { { "ns", 1 },   { "us", 1e3 },  { "\xc2\xb5s", 1e3 }, { "\xce\xbcs", 1e3 },
                      { "ms", 1e6 }, { "s", 1e9 },   { "m", 60e9 },        { "h", 3600e9 } };
        const char *p = s;
        bool neg = *p == '-';
        if (*p == '-' || *p == '+')
                p++;
        if (streq(p, "0")) {
                *out = 0;
                return 0;
        }
        if (!*p)
                return -EINVAL;
        double total = 0;
        while (*p) {
                const char *num = p;
                while (isdigit((unsigned char) *p))
                        p++;
                bool whole = p > num;
                if (*p == '.') {
                        p++;
                        const char *f = p;
                        while (isdigit((unsigned char) *p))
                                p++;
                        if (!whole && p == f)
                                return -EINVAL;
                } else if (!whole)
                        return -EINVAL;
                double v = strtod(num, NULL);
                size_t ul = 0;
                double mul = 0;
                for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                        size_t l = strlen(units[i].name);
                        /* longest match first: "ms" before "m" */
                        if (l > ul && strncmp(p, units[i].name, l) == 0) {
                                ul = l;
                                mul = units[i].ns;
                        }
                }
                if (!ul)
                        return -EINVAL; /* a number without a unit */
                p += ul;
                total += v * mul;
                if (total > (double) INT64_MAX)
                        return -ERANGE;
        }
        *out = neg ? -(int64_t) total : (int64_t) total;
        return 0;
}

static bool digits(const char **p, int n, int *v)
{
        *v = 0;
        for (int i = 0; i < n; i++, (*p)++) {
                if (!isdigit((unsigned char) **p))
                        return false;
                *v = *v * 10 + (**p - '0');
        }
        return true;
}

/* YYYY-MM-DD[THH[:MM[:SS[.F]]]][Z|±HH:MM]; without a zone the time is local. */
static int parse_datetime(const char *s, int64_t *out)
{
        const char *p = s;
        struct tm tm = { 0 };
        int y, mo, d, v;
        if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d))
                return -EINVAL;
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        long frac = 0;
        if (*p == 'T' || *p == 't') {
                p++;
                if (!digits(&p, 2, &v) || v > 23)
                        return -EINVAL;
                tm.tm_hour = v;
                if (*p == ':') {
                        p++;
                        if (!digits(&p, 2, &v) || v > 59)
                                return -EINVAL;
                        tm.tm_min = v;
                        if (*p == ':') {
                                p++;
                                if (!digits(&p, 2, &v) || v > 60)
                                        return -EINVAL;
                                tm.tm_sec = v;
                                if (*p == '.') {
                                        p++;
                                        int n = 0;
                                        for (; isdigit((unsigned char) *p); p++, n++)
                                                if (n < 9)
                                                        frac = frac * 10 + (*p - '0');
                                        if (n == 0)
                                                return -EINVAL;
                                        for (; n < 9; n++)
                                                frac *= 10;
                                }
                        }
                }
        }
        if (mo < 1 || mo > 12 || d < 1 || d > 31)
                return -EINVAL;
        time_t t;
        if (*p == 'Z' || *p == 'z') {
                p++;
                t = timegm(&tm);
        } else if (*p == '+' || *p == '-') {
                int sign = *p++ == '-' ? -1 : 1, hh, mm;
                if (!digits(&p, 2, &hh) || *p++ != ':' || !digits(&p, 2, &mm) || hh > 23 || mm > 59)
                        return -EINVAL;
                t = timegm(&tm) - sign * (hh * 3600 + mm * 60);
        } else {
                tm.tm_isdst = -1;
                t = mktime(&tm);
        }
        if (*p)
                return -EINVAL;
        *out = (int64_t) t * 1000000000 + frac;
        return 0;
}

int moat_parse_rfc3339(const char *s, int64_t *out)
{
        return parse_datetime(s, out);
}

int moat_parse_timestamp(const char *s, int64_t now, int64_t *out)
{
        int64_t d;
        if (!*s)
                return -EINVAL;
        if (!streq(s, "0") && moat_parse_duration(s, &d) == 0) {
                *out = now - d;
                return 0;
        }
        if (strchr(s, '-'))
                return parse_datetime(s, out);
        /* unix seconds, with an optional fraction */
        const char *dot = strchr(s, '.');
        _cleanup_free_ char *sec = dot ? xstrndup(s, (size_t) (dot - s)) : xstrdup(s);
        long long v;
        if (moat_parse_int64(sec, &v) < 0 || v < 0 || v > INT64_MAX / 1000000000 - 1)
                return -EINVAL;
        long frac = 0;
        if (dot) {
                int n = 0;
                const char *p = dot + 1;
                for (; *p; p++, n++) {
                        if (!isdigit((unsigned char) *p))
                                return -EINVAL;
                        if (n < 9)
                                frac = frac * 10 + (*p - '0');
                }
                for (; n < 9; n++)
                        frac *= 10;
        }
        *out = (int64_t) v * 1000000000 + frac;
        return 0;
}

int64_t moat_realtime_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void moat_format_rfc3339(int64_t ns, char *buf, size_t len)
{
        time_t t = (time_t) (ns / 1000000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        char d[32];
        strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, len, "%s.%09lldZ", d, (long long) (ns % 1000000000));
}
