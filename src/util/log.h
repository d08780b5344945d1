/* log: where a binary's diagnostics go. The library logs only through here; each main decides
 * the sink (stderr, or a --log file) and the format (runc's text or json lines). */
#ifndef MOAT_LOG_H
#define MOAT_LOG_H

#include <stdbool.h>

enum moat_log_level { MOAT_LOG_ERROR, MOAT_LOG_WARN, MOAT_LOG_INFO, MOAT_LOG_DEBUG };

/* fd < 0 means stderr. json selects {"level":..,"msg":..,"time":..} lines. */
void moat_log_setup(int fd, bool json, enum moat_log_level max);
int moat_log_fd(void);
void moat_log(enum moat_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define moat_debug(...) moat_log(MOAT_LOG_DEBUG, __VA_ARGS__)
#define moat_warn(...) moat_log(MOAT_LOG_WARN, __VA_ARGS__)

#endif
