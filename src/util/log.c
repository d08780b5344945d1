/* log: one sink per process, written with a single write() per line so lines from the parent and
 * the container-side child never interleave mid-line. */
#include "log.h"
#include "util.h"

#include <jansson.h>
#include <time.h>

static int log_fd = -1;
static bool log_json;
static enum moat_log_level log_max = MOAT_LOG_WARN;

void moat_log_setup(int fd, bool json, enum moat_log_level max)
{
        log_fd = fd;
        log_json = json;
        log_max = max;
}

int moat_log_fd(void)
{
        return log_fd < 0 ? 2 : log_fd;
}

static const char *level_name(enum moat_log_level l)
{
        switch (l) {
        case MOAT_LOG_ERROR: return "error";
        case MOAT_LOG_WARN: return "warning";
        case MOAT_LOG_INFO: return "info";
        default: return "debug";
        }
}

void moat_log(enum moat_log_level level, const char *fmt, ...)
{
        if (level > log_max)
                return;
        char msg[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);

        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        char when[64];
        snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);

        if (log_json) {
                json_t *o = json_pack("{s:s,s:s,s:s}", "level", level_name(level), "msg", msg, "time", when);
                char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
                if (s) {
                        _cleanup_free_ char *line = xasprintf("%s\n", s);
                        (void) moat_write_all(moat_log_fd(), line, strlen(line));
                }
                free(s);
                json_decref(o);
                return;
        }
        _cleanup_free_ char *line = log_fd < 0 ? xasprintf("%s\n", msg)
                                               : xasprintf("time=\"%s\" level=%s msg=\"%s\"\n", when,
                                                           level_name(level), msg);
        (void) moat_write_all(moat_log_fd(), line, strlen(line));
}
