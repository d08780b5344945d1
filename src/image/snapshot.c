/* snapshot: overlayfs over an image's unpacked layers with a fresh upper directory. Each layer is
 * passed with fsconfig("lowerdir+") (Linux >= 6.8), so the number of layers is not limited by
 * the one-page mount option string; older kernels fall back to mount(2) with short relative
 * lower paths (chdir into overlay/). */
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "image/image.h"
#include "image/internal.h"

static bool valid_id(const char *id)
{
        size_t n = strlen(id);
        if (n == 0 || n > 64 || id[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9') ||
                      id[i] == '_' || id[i] == '.' || id[i] == '-'))
                        return false;
        return true;
}

/* lowers: bottom first */
static int mount_new_api(char **lowers, size_t n, const char *upper, const char *work, const char *target,
                         struct moat_error *err)
{
        int fs = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        int r = 0;
        for (size_t i = n; i-- > 0 && r == 0;) /* topmost first */
                if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) < 0)
                        r = -errno;
        if (r == 0 && (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
                       fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0))
                r = -errno;
        if (r == 0 && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                r = moat_error_set(err, errno, "create overlay");
        int mfd = -1;
        if (r == 0 && (mfd = fsmount(fs, FSMOUNT_CLOEXEC, 0)) < 0)
                r = moat_error_set(err, errno, "fsmount overlay");
        if (r == 0 && move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                r = moat_error_set(err, errno, "move overlay to %s", target);
        if (mfd >= 0)
                close(mfd);
        close(fs);
        return r;
}

/* mount(2) takes all options in one page. Short names keep many layers under it: the snapshot gets
 * a directory of symlinks "0", "1", ... to its layers and the mount runs with that as the cwd, so
 * each lower dir costs a few bytes (256 layers fit). */
/* Layers given as detached mounts (fds: the idmapped clones) are attached at l/<i> first: before
 * Linux 6.5 or so overlayfs takes only layers in the mounter's mount namespace (EINVAL); it keeps
 * its own private clones, so they are detached again right after. */
static int mount_legacy(char **lowers, const int *fds, size_t n, const char *dir, const char *upper, const char *work,
                        const char *target, struct moat_error *err)
{
        _cleanup_free_ char *ldir = xasprintf("%s/l", dir);
        if (mkdir(ldir, 0700) < 0 && errno != EEXIST)
                return moat_error_set(err, errno, "create %s", ldir);
        size_t cap = 64 + strlen(upper) + strlen(work) + n * 8;
        _cleanup_free_ char *opts = xmalloc(cap);
        size_t off = (size_t) snprintf(opts, cap, "lowerdir=");
        size_t attached = 0;
        int r = 0;
        for (size_t i = n; r == 0 && i-- > 0;) {
                char name[24];
                snprintf(name, sizeof name, "%zu", i);
                _cleanup_free_ char *link = xasprintf("%s/%s", ldir, name);
                if (fds) {
                        if ((mkdir(link, 0700) < 0 && errno != EEXIST) ||
                            syscall(SYS_move_mount, fds[i], "", AT_FDCWD, link, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                                r = moat_error_set(err, errno, "attach layer %zu at %s", i, link);
                        else
                                attached = n - i;
                } else if (symlink(lowers[i], link) < 0 && errno != EEXIST)
                        r = moat_error_set(err, errno, "symlink %s", link);
                off += (size_t) snprintf(opts + off, cap - off, "%s%s", i + 1 < n ? ":" : "", name);
        }
        snprintf(opts + off, cap - off, ",upperdir=%s,workdir=%s", upper, work);
        if (r == 0 && strlen(opts) >= (size_t) sysconf(_SC_PAGESIZE))
                r = moat_error_set(err, E2BIG, "overlay options for %zu layers exceed a page", n);
        if (r == 0) {
                _cleanup_close_ int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (chdir(ldir) < 0)
                        r = moat_error_set(err, errno, "chdir %s", ldir);
                else if (mount("overlay", target, "overlay", 0, opts) < 0)
                        r = moat_error_set(err, errno, "mount overlay on %s", target);
                if (cwd >= 0 && fchdir(cwd) < 0 && r == 0)
                        r = moat_error_set(err, errno, "return to the working directory");
        }
        for (size_t k = 0; k < attached; k++) {
                _cleanup_free_ char *p = xasprintf("%s/%zu", ldir, n - 1 - k);
                umount2(p, MNT_DETACH);
                rmdir(p);
        }
        return r;
}

static int record(struct moat_image_store *s, const char *sql, const char *a, const char *b, const char *c,
                  struct moat_error *err)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = moat_db_prepare(s->db, sql, &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
        if (b)
                sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
        if (c)
                sqlite3_bind_text(st, 3, c, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return moat_db_error(s->db, rc, "snapshot record", err);
        return 0;
}

/* The layers as overlay lower dirs: their paths, or with ids, "/proc/self/fd/N" of an idmapped
 * clone of each (fds in *fds, closed by the caller once the overlay is mounted: it keeps its own
 * references). */
static int lower_paths(struct moat_image_store *s, char **layers, size_t n, const struct moat_snapshot_ids *ids,
                       char ***out, int **fds, struct moat_error *err)
{
        char **v = XNEW(char *, n + 1);
        *out = v;
        *fds = ids ? XNEW(int, n) : NULL;
        for (size_t i = 0; i < n; i++)
                if (ids)
                        (*fds)[i] = -1;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = moat_image_layer_path(s, layers[i]);
                if (!ids) {
                        v[i] = STEAL(p);
                        continue;
                }
                int t = (int) syscall(SYS_open_tree, AT_FDCWD, p, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
                if (t < 0)
                        return moat_error_set(err, errno, "open_tree layer %s", layers[i]);
                (*fds)[i] = t;
                struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) ids->userns_fd };
                if (syscall(SYS_mount_setattr, t, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
                        if (errno == EINVAL || errno == EOPNOTSUPP)
                                return moat_error_set(err, errno,
                                                      "the filesystem of %s cannot be idmapped, which a container "
                                                      "with its own user namespace needs (ext4, xfs and btrfs can; "
                                                      "9p, overlayfs and tmpfs before Linux 6.3 cannot): use a "
                                                      "--root on another filesystem, or --userns=host",
                                                      s->root);
                        return moat_error_set(err, errno, "idmap layer %s", layers[i]);
                }
                v[i] = xasprintf("/proc/self/fd/%d", t);
        }
        return 0;
}

static void close_all(int *fds, size_t n)
{
        for (size_t i = 0; fds && i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        free(fds);
}

/* The overlay of snapshots/<id> (dir) at mp: the layers under its upper and work dirs. */
static int mount_overlay(struct moat_image_store *s, char **layers, size_t n, const struct moat_snapshot_ids *ids,
                         const char *dir, const char *mp, struct moat_error *err)
{
        _cleanup_free_ char *upper = xasprintf("%s/upper", dir), *work = xasprintf("%s/work", dir);
        _cleanup_strv_ char **lowers = NULL;
        int *fds = NULL;
        int r = lower_paths(s, layers, n, ids, &lowers, &fds, err);
        if (r == 0) {
                /* MOAT_OVERLAY_LEGACY=1 forces the fallback (tests run it on new kernels too) */
                const char *legacy = getenv("MOAT_OVERLAY_LEGACY");
                r = legacy && streq(legacy, "1") ? -ENOSYS : mount_new_api(lowers, n, upper, work, mp, err);
                if (r == -EINVAL || r == -ENOSYS || r == -EPERM)
                        r = mount_legacy(lowers, fds, n, dir, upper, work, mp, err);
        }
        close_all(fds, n);
        return r;
}

int moat_image_snapshot_mount(struct moat_image_store *s, const char *image, const char *id, const char *target,
                              const struct moat_snapshot_ids *ids, char **mountpoint, struct moat_error *err)
{
        if (!valid_id(id))
                return moat_error_set(err, 0, "invalid snapshot id %s", id);
        char iid[MOAT_DIGEST_LEN + 1];
        int r = moat_image_resolve(s, image, iid, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **layers = NULL;
        size_t n;
        r = moat_image_layers(s, iid, &layers, &n, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *dir = xasprintf("%s/snapshots/%s", s->root, id);
        _cleanup_free_ char *upper = xasprintf("%s/upper", dir), *work = xasprintf("%s/work", dir);
        _cleanup_free_ char *mp = target ? xstrdup(target) : xasprintf("%s/merged", dir);
        if (mkdir(dir, 0700) < 0)
                return moat_error_set(err, errno, errno == EEXIST ? "snapshot %s exists" : "create snapshot %s", id);
        r = record(s, "INSERT INTO snapshots(id, image_id, mountpoint) VALUES(?, ?, ?)", id, iid, mp, err);
        if (r == 0 && (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0))
                r = moat_error_set(err, errno, "create snapshot dirs");
        /* what the container writes is stored with its host ids; its root owns the top */
        if (r == 0 && ids && chown(upper, ids->uid, ids->gid) < 0)
                r = moat_error_set(err, errno, "chown %s", upper);
        if (r == 0 && !target && mkdir(mp, 0755) < 0)
                r = moat_error_set(err, errno, "create %s", mp);
        if (r == 0 && n == 0) {
                /* overlayfs needs a lower layer: an image without layers gets an empty one */
                r = moat_error_set(err, 0, "image %s has no layers", image);
        }
        if (r == 0)
                r = mount_overlay(s, layers, n, ids, dir, mp, err);
        if (r < 0) {
                struct moat_error e2;
                record(s, "DELETE FROM snapshots WHERE id = ?", id, NULL, NULL, &e2);
                if (r != -EEXIST)
                        moat_rm_rf(dir, &e2);
                return moat_error_wrap(err, "mount snapshot %s of %s", id, image);
        }
        *mountpoint = STEAL(mp);
        return 0;
}

/* The snapshot's record: its image and where it is mounted. */
static int snapshot_row(struct moat_image_store *s, const char *id, char **image_id, char **mountpoint,
                        struct moat_error *err)
{
        if (!valid_id(id))
                return moat_error_set(err, 0, "invalid snapshot id %s", id);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = moat_db_prepare(s->db, "SELECT image_id, mountpoint FROM snapshots WHERE id = ?", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
                return moat_error_set(err, ENOENT, "no such snapshot %s", id);
        *image_id = xstrdup((const char *) sqlite3_column_text(st, 0));
        *mountpoint = xstrdup((const char *) sqlite3_column_text(st, 1));
        return 0;
}

int moat_image_snapshot_remount(struct moat_image_store *s, const char *id, const struct moat_snapshot_ids *ids,
                                struct moat_error *err)
{
        _cleanup_free_ char *iid = NULL, *mp = NULL;
        int r = snapshot_row(s, id, &iid, &mp, err);
        if (r < 0)
                return r;
        struct statfs sf;
        if (statfs(mp, &sf) < 0)
                return moat_error_set(err, errno, "snapshot %s: %s", id, mp);
        if (sf.f_type == OVERLAYFS_SUPER_MAGIC)
                return 0; /* still mounted: this boot's */
        _cleanup_strv_ char **layers = NULL;
        size_t n;
        if ((r = moat_image_layers(s, iid, &layers, &n, err)) < 0)
                return moat_error_wrap(err, "remount snapshot %s", id);
        _cleanup_free_ char *dir = xasprintf("%s/snapshots/%s", s->root, id);
        if ((r = mount_overlay(s, layers, n, ids, dir, mp, err)) < 0)
                return moat_error_wrap(err, "remount snapshot %s", id);
        return 0;
}

int moat_image_snapshot_remove(struct moat_image_store *s, const char *id, struct moat_error *err)
{
        _cleanup_free_ char *iid = NULL, *mp = NULL;
        int r = snapshot_row(s, id, &iid, &mp, err);
        if (r < 0)
                return r;
        if (umount2(mp, UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT) {
                if (errno != EBUSY || umount2(mp, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                        return moat_error_set(err, errno, "unmount %s", mp);
        }
        _cleanup_free_ char *dir = xasprintf("%s/snapshots/%s", s->root, id);
        /* moat_rm_rf never crosses into another filesystem: a mount left behind is not emptied */
        r = moat_rm_rf(dir, err);
        if (r < 0)
                return moat_error_wrap(err, "remove snapshot %s", id);
        return record(s, "DELETE FROM snapshots WHERE id = ?", id, NULL, NULL, err);
}
