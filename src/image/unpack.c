/* unpack: applying an untrusted layer tarball to an empty directory. Two libarchive readers are
 * chained: the outer one only decompresses (gzip, zstd or none) so the tar stream itself can be
 * hashed into the diff id; the inner one parses tar. Every entry is placed by a checked walk from
 * the layer root that opens each component O_NOFOLLOW, so neither "..", absolute names nor a
 * symlink the layer created can lead a write outside. OCI whiteouts become overlayfs ones. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "image/image.h"
#include "image/internal.h"
#include "image/lazy.h"

#define MAX_PATH_BYTES 4096
#define MAX_DEPTH 128
#define MAX_XATTRS 64
#define IO_BLOCK (256 * 1024)

struct unpack {
        struct archive *outer, *inner;
        struct moat_sha256 *h;
        int rootfd;
        const struct moat_image_limits *lim;
        uint64_t bytes, entries;
        /* cache of the last parent directory walked to; invalidated when anything is removed */
        char *cache_path;
        int cache_fd;
        char buf[IO_BLOCK];
};

static ssize_t inner_read(struct archive *a, void *data, const void **out)
{
        struct unpack *u = data;
        la_ssize_t n = archive_read_data(u->outer, u->buf, sizeof u->buf);
        if (n < 0) {
                archive_set_error(a, EIO, "decompress: %s", archive_error_string(u->outer));
                return -1;
        }
        moat_sha256_update(u->h, u->buf, (size_t) n);
        *out = u->buf;
        return n;
}

/* Split a tar name into clean components; refuse absolute names and "..". */
static int split_path(const char *name, char ***out, size_t *n, struct moat_error *err)
{
        if (!name)
                return moat_error_set(err, 0, "entry without a name (or not convertible)");
        size_t len = strnlen(name, MAX_PATH_BYTES + 1);
        if (len > MAX_PATH_BYTES)
                return moat_error_set(err, 0, "entry name longer than %d bytes", MAX_PATH_BYTES);
        if (name[0] == '/')
                return moat_error_set(err, 0, "absolute entry name %s refused", name);
        char **v = XNEW(char *, 1);
        size_t cnt = 0;
        const char *p = name;
        while (*p) {
                size_t l = strcspn(p, "/");
                if (l == 2 && p[0] == '.' && p[1] == '.') {
                        strv_free(v);
                        return moat_error_set(err, 0, "entry name %s contains \"..\"; refused", name);
                }
                if (l > 255) {
                        strv_free(v);
                        return moat_error_set(err, 0, "entry name %s has a component longer than 255 bytes", name);
                }
                if (l > 0 && !(l == 1 && p[0] == '.')) {
                        if (cnt >= MAX_DEPTH) {
                                strv_free(v);
                                return moat_error_set(err, 0, "entry name nested deeper than %d", MAX_DEPTH);
                        }
                        v = xrealloc(v, sizeof(char *) * (cnt + 2));
                        v[cnt++] = xstrndup(p, l);
                        v[cnt] = NULL;
                }
                p += l;
                if (*p == '/')
                        p++;
        }
        *out = v;
        *n = cnt;
        return 0;
}

static void cache_drop(struct unpack *u)
{
        free(u->cache_path);
        u->cache_path = NULL;
        if (u->cache_fd >= 0)
                close(u->cache_fd);
        u->cache_fd = -1;
}

/* Open (creating missing directories when create) comps[0..n) below the root, never following a
 * symlink: O_NOFOLLOW|O_DIRECTORY fails on a symlink or any non-directory. Returns an fd the
 * caller must not close when it equals the cache fd (we always return a dup). */
static int walk(struct unpack *u, char **comps, size_t n, bool create, const char *name, int *out,
                struct moat_error *err)
{
        _cleanup_free_ char *key = NULL;
        size_t kl = 0;
        for (size_t i = 0; i < n; i++)
                kl += strlen(comps[i]) + 1;
        key = xmalloc(kl + 1);
        key[0] = '\0';
        char *kp = key;
        for (size_t i = 0; i < n; i++)
                kp += sprintf(kp, "%s/", comps[i]);
        if (u->cache_path && streq(u->cache_path, key)) {
                *out = fcntl(u->cache_fd, F_DUPFD_CLOEXEC, 3);
                return *out < 0 ? moat_error_set(err, errno, "dup") : 0;
        }
        int fd = fcntl(u->rootfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return moat_error_set(err, errno, "dup");
        for (size_t i = 0; i < n; i++) {
                int nfd = openat(fd, comps[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0 && errno == ENOENT && create) {
                        if (mkdirat(fd, comps[i], 0755) < 0 && errno != EEXIST) {
                                int e = errno;
                                close(fd);
                                return moat_error_set(err, e, "%s: create parent %s", name, comps[i]);
                        }
                        nfd = openat(fd, comps[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (nfd < 0) {
                        int e = errno;
                        close(fd);
                        if (e == ELOOP || e == ENOTDIR)
                                return moat_error_set(err, 0, "%s: path goes through a symlink or non-directory "
                                                      "(%s); refused", name, comps[i]);
                        return moat_error_set(err, e, "%s: open %s", name, comps[i]);
                }
                close(fd);
                fd = nfd;
        }
        cache_drop(u);
        u->cache_path = STEAL(key);
        u->cache_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        *out = fd;
        return 0;
}

/* Remove whatever is at name in dirfd (a directory recursively), unless keep_dir and it is one. */
static int clear_slot(struct unpack *u, int dirfd, const char *name, bool keep_dir, bool *was_dir,
                      struct moat_error *err)
{
        struct stat st;
        *was_dir = false;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : moat_error_set(err, errno, "stat %s", name);
        if (S_ISDIR(st.st_mode)) {
                if (keep_dir) {
                        *was_dir = true;
                        return 0;
                }
                cache_drop(u);
                char proc[64];
                snprintf(proc, sizeof proc, "/proc/self/fd/%d", dirfd);
                /* rm -rf below a directory fd: resolve the fd's path only to hand to moat_rm_rf, which
                 * never follows symlinks. */
                char dpath[MAX_PATH_BYTES + 64];
                ssize_t l = readlink(proc, dpath, sizeof dpath - 1);
                if (l < 0)
                        return moat_error_set(err, errno, "readlink %s", proc);
                dpath[l] = '\0';
                _cleanup_free_ char *full = xasprintf("%s/%s", dpath, name);
                return moat_rm_rf(full, err);
        }
        cache_drop(u);
        if (unlinkat(dirfd, name, 0) < 0)
                return moat_error_set(err, errno, "replace %s", name);
        return 0;
}

static bool xattr_allowed(const char *name)
{
        /* trusted.* would let a layer plant overlayfs redirects/metacopy; security.* beyond file
         * capabilities belongs to the host's LSM. */
        return startswith(name, "user.") || streq(name, "security.capability");
}

static int apply_meta(int dirfd, const char *name, int fd, struct archive_entry *e, bool is_link, struct moat_error *err)
{
        uid_t uid = (uid_t) archive_entry_uid(e);
        gid_t gid = (gid_t) archive_entry_gid(e);
        if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return moat_error_set(err, errno, "chown %s", name);
        if (!is_link && fd >= 0) {
                if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
                        return moat_error_set(err, errno, "chmod %s", name);
                const char *xn;
                const void *xv;
                size_t xl;
                int count = 0;
                archive_entry_xattr_reset(e);
                while (archive_entry_xattr_next(e, &xn, &xv, &xl) == ARCHIVE_OK) {
                        if (++count > MAX_XATTRS)
                                return moat_error_set(err, 0, "%s: more than %d xattrs", name, MAX_XATTRS);
                        if (!xattr_allowed(xn) || xl > 65536)
                                continue;
                        if (fsetxattr(fd, xn, xv, xl, 0) < 0 && errno != ENOTSUP)
                                return moat_error_set(err, errno, "set xattr %s on %s", xn, name);
                }
        }
        if (archive_entry_mtime_is_set(e)) {
                struct timespec ts[2] = { { archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
                                          { archive_entry_mtime(e), archive_entry_mtime_nsec(e) } };
                utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
        }
        return 0;
}

static int write_data(struct unpack *u, int fd, struct archive_entry *e, const char *name, struct moat_error *err)
{
        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t off;
                int r = archive_read_data_block(u->inner, &buf, &size, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return moat_error_set(err, 0, "%s: read data: %s", name, archive_error_string(u->inner));
                if (off < 0 || (uint64_t) off + size > (uint64_t) archive_entry_size(e))
                        return moat_error_set(err, 0, "%s: data beyond the declared size", name);
                const char *p = buf;
                size_t left = size;
                while (left) {
                        ssize_t w = pwrite(fd, p, left, off);
                        if (w < 0) {
                                if (errno == EINTR)
                                        continue;
                                return moat_error_set(err, errno, "write %s", name);
                        }
                        p += w;
                        off += w;
                        left -= (size_t) w;
                }
        }
        /* sparse tails (holes at the end) */
        if (ftruncate(fd, archive_entry_size(e)) < 0)
                return moat_error_set(err, errno, "truncate %s", name);
        return 0;
}

static int whiteout(struct unpack *u, int dirfd, const char *base, const char *name, struct moat_error *err)
{
        const char *target = base + 4;
        if (streq(base, ".wh..wh..opq")) {
                if (fsetxattr(dirfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                        return moat_error_set(err, errno, "mark %s opaque", name);
                return 0;
        }
        if (startswith(base, ".wh..wh."))
                return 0; /* aufs bookkeeping (hard link dirs): nothing to apply */
        if (!*target || streq(target, ".") || streq(target, ".."))
                return moat_error_set(err, 0, "bad whiteout %s", name);
        bool was_dir;
        int r = clear_slot(u, dirfd, target, false, &was_dir, err);
        if (r < 0)
                return r;
        /* overlayfs's whiteout: a 0:0 character device. We create it; the layer cannot. */
        if (mknodat(dirfd, target, S_IFCHR | 0, makedev(0, 0)) < 0)
                return moat_error_set(err, errno, "create whiteout for %s", name);
        return 0;
}

static int entry(struct unpack *u, struct archive_entry *e, struct moat_error *err)
{
        const char *name = archive_entry_pathname(e);
        _cleanup_strv_ char **comps = NULL;
        size_t n;
        int r = split_path(name, &comps, &n, err);
        if (r < 0)
                return r;
        if (n == 0)
                return 0; /* the root itself ("./") */
        mode_t type = archive_entry_filetype(e);
        const char *hl = archive_entry_hardlink(e);
        if (!hl && (type == AE_IFCHR || type == AE_IFBLK))
                return moat_error_set(err, 0, "%s: device node in layer refused", name);
        if (!hl && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFIFO)
                return moat_error_set(err, 0, "%s: unsupported entry type 0%o", name, (unsigned) type);
        if (!hl && type == AE_IFREG) {
                int64_t sz = archive_entry_size(e);
                if (sz < 0 || (uint64_t) sz > u->lim->max_layer_bytes - u->bytes)
                        return moat_error_set(err, EFBIG, "%s: layer larger than the %llu-byte limit", name,
                                              (unsigned long long) u->lim->max_layer_bytes);
                u->bytes += (uint64_t) sz;
        }
        const char *base = comps[n - 1];
        _cleanup_close_ int dirfd = -1;
        r = walk(u, comps, n - 1, true, name, &dirfd, err);
        if (r < 0)
                return r;
        if (startswith(base, ".wh."))
                return whiteout(u, dirfd, base, name, err);

        bool was_dir = false;
        r = clear_slot(u, dirfd, base, type == AE_IFDIR && !hl, &was_dir, err);
        if (r < 0)
                return r;
        if (hl) {
                _cleanup_strv_ char **tc = NULL;
                size_t tn;
                r = split_path(hl, &tc, &tn, err);
                if (r < 0)
                        return moat_error_wrap(err, "%s: hard link", name);
                if (tn == 0)
                        return moat_error_set(err, 0, "%s: hard link to the root refused", name);
                _cleanup_close_ int tdir = -1;
                r = walk(u, tc, tn - 1, false, hl, &tdir, err);
                if (r < 0)
                        return moat_error_wrap(err, "%s: hard link target", name);
                struct stat st;
                if (fstatat(tdir, tc[tn - 1], &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return moat_error_set(err, errno, "%s: hard link target %s", name, hl);
                if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode) && !S_ISFIFO(st.st_mode))
                        return moat_error_set(err, 0, "%s: hard link to a non-file %s refused", name, hl);
                /* flags 0: link the entry itself, never what a symlink points to */
                if (linkat(tdir, tc[tn - 1], dirfd, base, 0) < 0)
                        return moat_error_set(err, errno, "%s: hard link to %s", name, hl);
                return 0;
        }
        switch (type) {
        case AE_IFDIR: {
                if (!was_dir && mkdirat(dirfd, base, 0700) < 0)
                        return moat_error_set(err, errno, "mkdir %s", name);
                _cleanup_close_ int fd = openat(dirfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return moat_error_set(err, errno, "open %s", name);
                return apply_meta(dirfd, base, fd, e, false, err);
        }
        case AE_IFREG: {
                _cleanup_close_ int fd = openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return moat_error_set(err, errno, "create %s", name);
                r = write_data(u, fd, e, name, err);
                if (r < 0)
                        return r;
                return apply_meta(dirfd, base, fd, e, false, err);
        }
        case AE_IFLNK: {
                const char *target = archive_entry_symlink(e);
                if (!target || strnlen(target, MAX_PATH_BYTES) >= MAX_PATH_BYTES)
                        return moat_error_set(err, 0, "%s: bad symlink target", name);
                /* The target is interpreted later inside the container's root, never by us. */
                if (symlinkat(target, dirfd, base) < 0)
                        return moat_error_set(err, errno, "symlink %s", name);
                return apply_meta(dirfd, base, -1, e, true, err);
        }
        case AE_IFIFO: {
                if (mkfifoat(dirfd, base, 0600) < 0)
                        return moat_error_set(err, errno, "mkfifo %s", name);
                if (fchownat(dirfd, base, (uid_t) archive_entry_uid(e), (gid_t) archive_entry_gid(e),
                             AT_SYMLINK_NOFOLLOW) < 0 ||
                    fchmodat(dirfd, base, archive_entry_perm(e) & 0777, 0) < 0)
                        return moat_error_set(err, errno, "fifo %s", name);
                return 0;
        }
        }
        return 0;
}

static int unpack_any(int fd, moat_unpack_read_fn rd, void *ud, int rootfd, const struct moat_image_limits *lim,
                      char diff_id_out[MOAT_DIGEST_LEN + 1], struct moat_error *err)
{
        if (moat_archive_load(err) < 0)
                return -1;
        struct unpack *u = XNEW(struct unpack, 1);
        u->rootfd = rootfd;
        u->lim = lim;
        u->cache_fd = -1;
        u->h = moat_sha256_new();
        u->outer = archive_read_new();
        u->inner = archive_read_new();
        if (!u->outer || !u->inner)
                abort();
        archive_read_support_filter_gzip(u->outer);
        archive_read_support_filter_zstd(u->outer);
        archive_read_support_format_raw(u->outer);
        archive_read_support_format_empty(u->outer);
        archive_read_support_format_tar(u->inner);
        int r = 0;
        struct archive_entry *e;
        int opened = rd ? archive_read_open(u->outer, ud, NULL, (archive_read_callback *) rd, NULL)
                        : archive_read_open_fd(u->outer, fd, IO_BLOCK);
        if (opened != ARCHIVE_OK) {
                r = moat_error_set(err, 0, "open layer: %s", archive_error_string(u->outer));
                goto out;
        }
        int ar = archive_read_next_header(u->outer, &e);
        if (ar == ARCHIVE_EOF) {
                r = moat_error_set(err, 0, "empty layer stream");
                goto out;
        }
        if (ar != ARCHIVE_OK) {
                r = moat_error_set(err, 0, "layer: %s", archive_error_string(u->outer));
                goto out;
        }
        if (archive_read_open(u->inner, u, NULL, inner_read, NULL) != ARCHIVE_OK) {
                r = moat_error_set(err, 0, "layer tar: %s", archive_error_string(u->inner));
                goto out;
        }
        for (;;) {
                ar = archive_read_next_header(u->inner, &e);
                if (ar == ARCHIVE_EOF)
                        break;
                if (ar < ARCHIVE_WARN) {
                        r = moat_error_set(err, 0, "layer tar: %s", archive_error_string(u->inner));
                        goto out;
                }
                if (++u->entries > lim->max_entries) {
                        r = moat_error_set(err, E2BIG, "layer has more than %llu entries",
                                           (unsigned long long) lim->max_entries);
                        goto out;
                }
                r = entry(u, e, err);
                if (r < 0)
                        goto out;
        }
        /* Hash what follows the end-of-archive marker too: the diff id covers the whole stream. */
        for (;;) {
                const void *dummy;
                la_ssize_t n = inner_read(u->inner, u, &dummy);
                if (n < 0) {
                        r = moat_error_set(err, 0, "layer: %s", archive_error_string(u->outer));
                        goto out;
                }
                if (n == 0)
                        break;
        }
        moat_sha256_final(u->h, diff_id_out);
        if (syncfs(rootfd) < 0)
                r = moat_error_set(err, errno, "sync layer");
out:
        cache_drop(u);
        archive_read_free(u->inner);
        archive_read_free(u->outer);
        moat_sha256_free(u->h);
        free(u);
        return r < 0 ? moat_error_wrap(err, "unpack layer") : 0;
}

int moat_image_unpack_fd(int fd, int rootfd, const struct moat_image_limits *lim, char diff_id_out[MOAT_DIGEST_LEN + 1],
                         struct moat_error *err)
{
        return unpack_any(fd, NULL, NULL, rootfd, lim, diff_id_out, err);
}

int moat_image_unpack_reader(moat_unpack_read_fn rd, void *ud, int rootfd, const struct moat_image_limits *lim,
                             char diff_id_out[MOAT_DIGEST_LEN + 1], struct moat_error *err)
{
        return unpack_any(-1, rd, ud, rootfd, lim, diff_id_out, err);
}

int moat_image_layer_commit_dir(struct moat_image_store *s, const char *tmp, const char *diff_id, struct moat_error *err)
{
        _cleanup_free_ char *dest = moat_image_layer_path(s, diff_id);
        if (rename(tmp, dest) < 0) {
                if (errno != EEXIST && errno != ENOTEMPTY)
                        return moat_error_set(err, errno, "rename %s to %s", tmp, dest);
                struct moat_error e2; /* another process unpacked it meanwhile */
                moat_rm_rf(tmp, &e2);
        }
        return 0;
}

int moat_image_layer_ensure(struct moat_image_store *s, const char *blob_digest, const char *diff_id,
                            struct moat_error *err)
{
        if (!moat_digest_valid(diff_id))
                return moat_error_set(err, 0, "invalid diff id");
        _cleanup_free_ char *dest = moat_image_layer_path(s, diff_id);
        if (access(dest, F_OK) == 0)
                return 0; /* shared with another image */
        _cleanup_close_ int bfd = -1;
        int r = moat_image_blob_open(s, blob_digest, &bfd, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *tmp = xasprintf("%s/tmp/layer-XXXXXX", s->root);
        if (!mkdtemp(tmp))
                return moat_error_set(err, errno, "create %s", tmp);
        _cleanup_close_ int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        char got[MOAT_DIGEST_LEN + 1];
        if (dfd < 0)
                r = moat_error_set(err, errno, "open %s", tmp);
        else if (fchmod(dfd, 0755) < 0)
                r = moat_error_set(err, errno, "chmod %s", tmp);
        else
                r = moat_image_unpack_fd(bfd, dfd, &s->limits, got, err);
        if (r == 0 && !streq(got, diff_id))
                r = moat_error_set(err, EBADMSG, "layer %s: content does not match its diff id %s (got %s)",
                                   blob_digest, diff_id, got);
        if (r == 0 && rename(tmp, dest) < 0) {
                if (errno == EEXIST || errno == ENOTEMPTY)
                        r = 1; /* another process unpacked it meanwhile */
                else
                        r = moat_error_set(err, errno, "rename %s to %s", tmp, dest);
        }
        if (r != 0) {
                struct moat_error e2;
                moat_rm_rf(tmp, &e2);
        }
        return r < 0 ? moat_error_wrap(err, "layer %s", diff_id) : 0;
}
