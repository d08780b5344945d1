/* Fuzz target: layer unpacking. Any input is unpacked into a fresh directory below a scratch
 * directory; whatever happens, nothing may appear beside that directory. Needs root (chown,
 * whiteout devices). */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t entries(const char *dir)
{
        DIR *d = opendir(dir);
        size_t n = 0;
        struct dirent *de;
        while (d && (de = readdir(d)))
                n += de->d_name[0] != '.' || (de->d_name[1] && de->d_name[1] != '.');
        if (d)
                closedir(d);
        return n;
}

static char scratch[64];

static void remove_scratch(void)
{
        rmdir(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!scratch[0]) {
                snprintf(scratch, sizeof scratch, "/tmp/moat-fuzz-unpack-XXXXXX");
                if (!mkdtemp(scratch))
                        abort();
                atexit(remove_scratch);
        }
        _cleanup_free_ char *layer = xasprintf("%s/layer", scratch);
        if (mkdir(layer, 0755) < 0)
                abort();
        int fd = memfd_create("layer", MFD_CLOEXEC);
        if (fd < 0 || moat_write_all(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                abort();
        int dfd = open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct moat_image_limits lim = { 1 << 20, 1000 };
        char diff[MOAT_DIGEST_LEN + 1];
        struct moat_error err;
        moat_image_unpack_fd(fd, dfd, &lim, diff, &err);
        close(dfd);
        close(fd);
        assert(entries(scratch) == 1); /* only "layer" */
        if (moat_rm_rf(layer, &err) < 0)
                abort();
        return 0;
}
