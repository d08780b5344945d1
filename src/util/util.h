/* util: the error type, cleanup helpers, the xmalloc family and small fs/string helpers
 * every other module builds on. Nothing here knows about containers. */
#ifndef MOAT_UTIL_H
#define MOAT_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define MOAT_ERROR_MAX 2048

/* A caller-provided error object. `code` is a positive errno (or EINVAL for bad input). */
struct moat_error {
        int code;
        char msg[MOAT_ERROR_MAX];
};

/* Fill err with a formatted message; when errnum != 0 ": strerror(errnum)" is appended.
 * Returns -errnum (or -EINVAL when errnum is 0) so callers can `return moat_error_set(...)`. */
int moat_error_set(struct moat_error *err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Prefix the message already in err with "context: ". Returns -err->code. */
int moat_error_wrap(struct moat_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void moat_error_clear(struct moat_error *err)
{
        err->code = 0;
        err->msg[0] = '\0';
}

/* Out of memory is the one thing allowed to abort. */
void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define XNEW(type, n) ((type *) xzalloc(sizeof(type) * (n)))

/* cleanup helpers */
static inline void freep(void *p) { free(*(void **) p); }
static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}
void strv_free(char **v);
static inline void strv_freep(char ***v) { strv_free(*v); }
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_strv_ _cleanup_(strv_freep)

static inline void *steal_ptr(void *pp)
{
        void **p = pp, *v = *p;
        *p = NULL;
        return v;
}
#define STEAL(p) steal_ptr(&(p))
static inline int steal_fd(int *fd)
{
        int v = *fd;
        *fd = -1;
        return v;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define streq(a, b) (strcmp((a), (b)) == 0)
static inline bool startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

size_t strv_len(char *const *v);
/* The strings of v with sep between them (v may be NULL: ""). */
char *strv_join(char *const *v, const char *sep);

/* Read a whole file (at most max bytes, else -EFBIG). *out is NUL terminated. */
int moat_read_file(const char *path, size_t max, char **out, size_t *len, struct moat_error *err);
int moat_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len, struct moat_error *err);
/* Write buf to path (O_WRONLY|O_TRUNC, no create unless flags say), retrying short writes. */
int moat_write_file_at(int dirfd, const char *path, const char *buf, size_t len, int flags, mode_t mode,
                       struct moat_error *err);
/* Write a file atomically: temp name in the same directory, fsync, rename. */
int moat_write_file_atomic(const char *path, const char *buf, size_t len, mode_t mode, struct moat_error *err);
/* The same without fsync: readers never see a partial file, but a power loss may lose it. For
 * state that means nothing after a reboot (runtime state, pid files). */
int moat_write_file_replace(const char *path, const char *buf, size_t len, mode_t mode, struct moat_error *err);
/* mkdir -p with mode; existing directories are fine. */
int moat_mkdir_p(const char *path, mode_t mode, struct moat_error *err);
/* rm -rf that never crosses into another filesystem nor follows symlinks. */
int moat_rm_rf(const char *path, struct moat_error *err);
/* Apparent size (st_size) of the files and symlinks under path: docker's "SIZE" of a container's
 * writable layer or a volume. Symlinks are not followed, other filesystems not entered. */
int moat_disk_usage(const char *path, int64_t *out, struct moat_error *err);

int moat_write_all(int fd, const void *buf, size_t len);
/* moat_write_all to a pipe or socket whose reader may be gone: -EPIPE instead of a SIGPIPE that
 * ends the process (blocked for the write, and the one it raised taken back; the process's
 * signal dispositions are left alone, as library code must). */
int moat_write_nosigpipe(int fd, const void *buf, size_t len);
ssize_t moat_read_all(int fd, void *buf, size_t len);

/* Parse a decimal signed/unsigned integer strictly (whole string, range-checked). */
int moat_parse_int64(const char *s, long long *out);
int moat_parse_uint64(const char *s, unsigned long long *out);
/* "64m", "1.5g", "512k", "100" (bytes; b, k, m, g, t, binary units, optional trailing b). */
int moat_parse_bytes(const char *s, int64_t *out);

/* "KILL", "SIGKILL", "9", "RTMIN+1" -> the signal number; -1 when unknown (signal.c). */
int moat_signal_parse(const char *s);

/* Monotonic time in nanoseconds. */
unsigned long long moat_now_ns(void);

/* Times as docker's command line takes them (time.c), in nanoseconds. A Go duration
 * ("1h30m", "250ms", "0"); an RFC3339 time ("2024-05-01T10:00:00.5Z", "...+02:00"; without a
 * zone: local time; the time or its seconds may be left out); a timestamp is either of those
 * (a duration counts back from now) or unix seconds with an optional fraction. */
int moat_parse_duration(const char *s, int64_t *ns);
int moat_parse_rfc3339(const char *s, int64_t *unix_ns);
int moat_parse_timestamp(const char *s, int64_t now_unix_ns, int64_t *unix_ns);
/* Wall-clock time in nanoseconds since the epoch. */
int64_t moat_realtime_ns(void);
/* 2024-01-02T03:04:05.123456789Z */
void moat_format_rfc3339(int64_t ns, char *buf, size_t len);

#endif
