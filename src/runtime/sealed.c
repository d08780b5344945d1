/* sealed: re-execute the runtime from a sealed memfd copy of itself. A process that joins a
 * container whose processes are already running (exec, or create into an existing pid namespace)
 * is visible to them; if its /proc/<pid>/exe were the runtime on disk, root in the container could
 * open it for writing and replace the host's runtime (CVE-2019-5736). A sealed memfd cannot be
 * written, grown or shrunk, and has no path on the host. */
#include "runtime/sealed.h"

#include <fcntl.h>
#include <jansson.h>
#include <linux/limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define MEMFD_NAME "moat-runtime"

extern char **environ;

/* Sealed means: /proc/self/exe is a memfd whose seals include all of ours. The name alone is not
 * enough (anyone can name a memfd), so check the seals on the file itself. */
bool moat_runtime_is_sealed(void)
{
        char link[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", link, sizeof link - 1);
        if (n < 0)
                return false;
        link[n] = '\0';
        if (strncmp(link, "/memfd:", 7) != 0)
                return false;
        int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        int seals = fcntl(fd, F_GET_SEALS);
        close(fd);
        return seals >= 0 && (seals & SEALS) == SEALS;
}

static int copy_self(int dst, struct moat_error *err)
{
        _cleanup_close_ int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (src < 0)
                return moat_error_set(err, errno, "open /proc/self/exe");
        struct stat st;
        if (fstat(src, &st) < 0)
                return moat_error_set(err, errno, "stat /proc/self/exe");
        off_t left = st.st_size;
        while (left > 0) {
                ssize_t n = sendfile(dst, src, NULL, (size_t) left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return moat_error_set(err, errno, "copy the runtime into a memfd");
                if (n == 0)
                        return moat_error_set(err, EIO, "copy the runtime into a memfd: short read");
                left -= n;
        }
        return 0;
}

int moat_runtime_ensure_sealed(int argc, char **argv, struct moat_error *err)
{
        (void) argc;
        if (moat_runtime_is_sealed())
                return 0;
        _cleanup_close_ int fd = memfd_create(MEMFD_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return moat_error_set(err, errno, "memfd_create for the sealed runtime copy");
        int r = copy_self(fd, err);
        if (r < 0)
                return r;
        if (fcntl(fd, F_ADD_SEALS, SEALS) < 0)
                return moat_error_set(err, errno, "seal the runtime copy");
        /* the same argv and environment; the seals are the marker, so nothing to clean up after */
        syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
        return moat_error_set(err, errno, "re-execute from the sealed runtime copy");
}
