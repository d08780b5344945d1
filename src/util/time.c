/* time: the time values docker's --since/--until take — RFC 3339 (a date, a date and time with or
 * without a zone and fraction), unix seconds with an optional fraction, and Go durations ("10m",
 * "1h30m") counted back from now. */
#include <ctype.h>
#include <time.h>

#include "util/util.h"

/* Go's time.ParseDuration: [-+]?(N[.N]UNIT)+ with units ns us µs ms s m h. A bare "0" is not a
 * duration here: docker reads it as the unix time 0. */
static int parse_duration(const char *s, int64_t *out)
{
        static const struct { const char *unit; double ns; } units[] = {
                { "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
        };
        int sign = 1;
        if (*s == '-' || *s == '+')
                sign = *s++ == '-' ? -1 : 1;
        if (!*s)
                return -EINVAL;
        double total = 0;
        while (*s) {
                const char *start = s;
                while (isdigit((unsigned char) *s) || *s == '.')
                        s++;
                if (s == start || (s - start == 1 && *start == '.'))
                        return -EINVAL;
                char num[64];
                if ((size_t) (s - start) >= sizeof num)
                        return -EINVAL;
                memcpy(num, start, (size_t) (s - start));
                num[s - start] = '\0';
                if (strchr(num, '.') != strrchr(num, '.'))
                        return -EINVAL;
                double v = strtod(num, NULL);
                size_t best = 0;
                double mult = 0;
                for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                        size_t l = strlen(units[i].unit);
                        /* longest unit that matches and is not followed by a letter of a longer one */
                        if (strncmp(s, units[i].unit, l) == 0 && l > best && !isalpha((unsigned char) s[l]) &&
                            (unsigned char) s[l] != 0xc2) {
                                best = l;
                                mult = units[i].ns;
                        }
                }
                if (!best)
                        return -EINVAL;
                s += best;
                total += v * mult;
                if (total > 9.2e18)
                        return -ERANGE;
        }
        *out = sign * (int64_t) total;
        return 0;
}

static int digits(const char **p, int n, int *out)
{
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (!isdigit((unsigned char) (*p)[i]))
                        return -EINVAL;
                v = v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        *out = v;
        return 0;
}

/* YYYY-MM-DD[Thh[:mm[:ss[.frac]]]][Z|±hh:mm]; no zone: local time, as docker reads it. */
static int parse_rfc3339(const char *s, int64_t *out)
{
        struct tm tm = { 0 };
        int y, mo, d, h = 0, mi = 0, sec = 0;
        long frac = 0;
        const char *p = s;
        if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 || *p++ != '-' || digits(&p, 2, &d) < 0)
                return -EINVAL;
        if (*p == 'T' || *p == 't' || *p == ' ') {
                p++;
                if (digits(&p, 2, &h) < 0)
                        return -EINVAL;
                if (*p == ':') {
                        p++;
                        if (digits(&p, 2, &mi) < 0)
                                return -EINVAL;
                        if (*p == ':') {
                                p++;
                                if (digits(&p, 2, &sec) < 0)
                                        return -EINVAL;
                                if (*p == '.' || *p == ',') {
                                        p++;
                                        int n = 0;
                                        while (isdigit((unsigned char) *p)) {
                                                if (n < 9) {
                                                        frac = frac * 10 + (*p - '0');
                                                        n++;
                                                }
                                                p++;
                                        }
                                        if (n == 0)
                                                return -EINVAL;
                                        for (; n < 9; n++)
                                                frac *= 10;
                                }
                        }
                }
        }
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
                return -EINVAL;
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        time_t t;
        if (*p == 'Z' || *p == 'z') {
                p++;
                t = timegm(&tm);
        } else if (*p == '+' || *p == '-') {
                int sign = *p++ == '-' ? -1 : 1, zh, zm = 0;
                if (digits(&p, 2, &zh) < 0)
                        return -EINVAL;
                if (*p == ':')
                        p++;
                if (*p && digits(&p, 2, &zm) < 0)
                        return -EINVAL;
                if (zh > 23 || zm > 59)
                        return -EINVAL;
                t = timegm(&tm) - sign * (zh * 3600 + zm * 60);
        } else {
                tm.tm_isdst = -1;
                t = mktime(&tm);
        }
        if (*p)
                return -EINVAL;
        *out = (int64_t) t * 1000000000 + frac;
        return 0;
}

int moat_parse_time(const char *s, int64_t now_ns, int64_t *out_ns)
{
        if (!s || !*s)
                return -EINVAL;
        int64_t d;
        if (parse_duration(s, &d) == 0) {
                *out_ns = now_ns - d;
                return 0;
        }
        /* unix seconds[.fraction] */
        const char *p = s;
        while (isdigit((unsigned char) *p))
                p++;
        if (p != s && (*p == '\0' || *p == '.') && p - s <= 12) {
                long long sec = 0, frac = 0;
                for (const char *q = s; q < p; q++)
                        sec = sec * 10 + (*q - '0');
                if (*p == '.') {
                        int n = 0;
                        for (p++; isdigit((unsigned char) *p) && n < 9; p++, n++)
                                frac = frac * 10 + (*p - '0');
                        if (n == 0 || *p)
                                return -EINVAL;
                        for (; n < 9; n++)
                                frac *= 10;
                }
                *out_ns = (int64_t) sec * 1000000000 + frac;
                return 0;
        }
        return parse_rfc3339(s, out_ns);
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
