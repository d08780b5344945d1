/* fs: whole-file reads and writes, atomic replace, mkdir -p and a same-filesystem rm -rf. */
#include "util.h"

#include <dirent.h>
#include <ftw.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

int moat_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

int moat_write_nosigpipe(int fd, const void *buf, size_t len)
{
        sigset_t pipe_set, old, pending;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        sigpending(&pending);
        bool was_pending = sigismember(&pending, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
        int r = moat_write_all(fd, buf, len);
        if (r == -EPIPE && !was_pending) {
                struct timespec zero = { 0, 0 };
                while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
                        ;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return r;
}

ssize_t moat_read_all(int fd, void *buf, size_t len)
{
        size_t got = 0;
        while (got < len) {
                ssize_t n = read(fd, (char *) buf + got, len - got);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                got += (size_t) n;
        }
        return (ssize_t) got;
}

int moat_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len, struct moat_error *err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return moat_error_set(err, errno, "open %s", path);
        size_t cap = max < 4096 ? max : 4096, used = 0;
        _cleanup_free_ char *buf = xmalloc(cap + 1);
        for (;;) {
                if (used == cap) {
                        if (cap >= max) {
                                char extra;
                                ssize_t n = read(fd, &extra, 1);
                                if (n == 0)
                                        break;
                                return moat_error_set(err, EFBIG, "read %s: larger than %zu bytes", path, max);
                        }
                        cap = cap * 2 > max ? max : cap * 2;
                        buf = xrealloc(buf, cap + 1);
                }
                ssize_t n = read(fd, buf + used, cap - used);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return moat_error_set(err, errno, "read %s", path);
                }
                if (n == 0)
                        break;
                used += (size_t) n;
        }
        buf[used] = '\0';
        if (len)
                *len = used;
        *out = STEAL(buf);
        return 0;
}

int moat_read_file(const char *path, size_t max, char **out, size_t *len, struct moat_error *err)
{
        return moat_read_file_at(AT_FDCWD, path, max, out, len, err);
}

int moat_write_file_at(int dirfd, const char *path, const char *buf, size_t len, int flags, mode_t mode,
                       struct moat_error *err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY | flags, mode);
        if (fd < 0)
                return moat_error_set(err, errno, "open %s", path);
        int r = moat_write_all(fd, buf, len);
        if (r < 0)
                return moat_error_set(err, -r, "write %s", path);
        return 0;
}

static int write_replace(const char *path, const char *buf, size_t len, mode_t mode, bool durable,
                         struct moat_error *err)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp-%d", path, (int) getpid());
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return moat_error_set(err, errno, "create %s", tmp);
        int r = moat_write_all(fd, buf, len);
        if (r == 0 && durable && fsync(fd) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return moat_error_set(err, -r, "write %s", tmp);
        }
        if (rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return moat_error_set(err, e, "rename %s to %s", tmp, path);
        }
        return 0;
}

int moat_write_file_atomic(const char *path, const char *buf, size_t len, mode_t mode, struct moat_error *err)
{
        return write_replace(path, buf, len, mode, true, err);
}

int moat_write_file_replace(const char *path, const char *buf, size_t len, mode_t mode, struct moat_error *err)
{
        return write_replace(path, buf, len, mode, false, err);
}

int moat_mkdir_p(const char *path, mode_t mode, struct moat_error *err)
{
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return moat_error_set(err, errno, "mkdir %s", p);
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return moat_error_set(err, errno, "mkdir %s", p);
        return 0;
}

static int rm_rf_at(int parent, const char *name, dev_t dev, int depth)
{
        if (depth > 256)
                return -ELOOP;
        struct stat st;
        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(parent, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        if (st.st_dev != dev)
                return -EXDEV; /* a mount point: never delete into another filesystem */
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int q = rm_rf_at(dirfd(d), de->d_name, dev, depth + 1);
                if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        if (r < 0)
                return r;
        return unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

int moat_rm_rf(const char *path, struct moat_error *err)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : moat_error_set(err, errno, "stat %s", path);
        int r = rm_rf_at(AT_FDCWD, path, st.st_dev, 0);
        if (r < 0)
                return moat_error_set(err, -r, "remove %s", path);
        return 0;
}

int moat_parse_int64(const char *s, long long *out)
{
        if (!s || !*s)
                return -EINVAL;
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *out = v;
        return 0;
}

int moat_parse_uint64(const char *s, unsigned long long *out)
{
        if (!s || !*s || *s == '-')
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *out = v;
        return 0;
}

int moat_parse_bytes(const char *s, int64_t *out)
{
        if (!s || !*s)
                return -EINVAL;
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || v < 0 || v != v)
                return -EINVAL;
        double mul = 1;
        switch (*end) {
        case 'b': case 'B': end++; break;
        case 'k': case 'K': mul = 1024; end++; break;
        case 'm': case 'M': mul = 1024 * 1024; end++; break;
        case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
        case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
        default: break;
        }
        /* docker's units are binary whatever the spelling: "64m", "64mb", "64MiB" */
        if (mul > 1 && (*end == 'i' || *end == 'I'))
                end++;
        if (*end == 'b' || *end == 'B')
                end++;
        if (*end || v * mul >= 9.2e18)
                return -EINVAL;
        *out = (int64_t) (v * mul);
        return 0;
}

unsigned long long moat_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long) ts.tv_sec * 1000000000ULL + (unsigned long long) ts.tv_nsec;
}

/* nftw passes no user data: the sum lives in a thread-local for the walk's duration */
static __thread int64_t du_total;

static int du_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
        (void) path;
        (void) f;
        if (flag == FTW_F || flag == FTW_SL)
                du_total += st->st_size;
        return 0;
}

int moat_disk_usage(const char *path, int64_t *out, struct moat_error *err)
{
        du_total = 0;
        if (nftw(path, du_one, 16, FTW_PHYS | FTW_MOUNT) < 0)
                return moat_error_set(err, errno, "size of %s", path);
        *out = du_total;
        return 0;
}
