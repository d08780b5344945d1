/* mounts: the container's filesystem view, built in its own mount namespace: the rootfs bound
 * onto itself, every config mount resolved inside the root without following symlinks out of it
 * (openat2 RESOLVE_IN_ROOT) and mounted through its fd, default devices, pivot_root, then masked
 * and read-only paths, sysctls and a read-only root. */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

struct mount_attr_ {
        uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static int openat2_(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
        struct open_how how = { .flags = flags, .mode = 0, .resolve = resolve };
        return (int) syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

static void fdpath(char buf[static 32], int fd)
{
        snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

int moat_open_in_root(int rootfd, const char *path, bool create, bool want_file, struct moat_error *err)
{
        int fd = openat2_(rootfd, path, O_PATH | O_CLOEXEC, IN_ROOT);
        if (fd >= 0 || errno != ENOENT || !create) {
                if (fd < 0)
                        return moat_error_set(err, errno, "open %s inside the container root", path);
                return fd;
        }
        /* Create what is missing, one component at a time, each resolved from the root again. */
        _cleanup_free_ char *p = xstrdup(path);
        size_t len = strlen(p);
        for (size_t i = 1; i <= len; i++) {
                if (p[i] != '/' && p[i] != '\0')
                        continue;
                bool last = p[i] == '\0' || p[i + 1] == '\0';
                char saved = p[i];
                p[i] = '\0';
                _cleanup_close_ int cur = openat2_(rootfd, p, O_PATH | O_CLOEXEC, IN_ROOT);
                if (cur < 0 && errno == ENOENT) {
                        char *slash = strrchr(p, '/');
                        *slash = '\0';
                        _cleanup_close_ int parent = openat2_(rootfd, *p ? p : "/", O_PATH | O_DIRECTORY | O_CLOEXEC,
                                                              IN_ROOT);
                        *slash = '/';
                        if (parent < 0)
                                return moat_error_set(err, errno, "open parent of %s inside the container root", p);
                        int r;
                        if (last && want_file) {
                                r = openat(parent, slash + 1, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
                                if (r >= 0)
                                        close(r);
                        } else
                                r = mkdirat(parent, slash + 1, 0755);
                        if (r < 0 && errno != EEXIST)
                                return moat_error_set(err, errno, "create %s inside the container root", p);
                        cur = openat2_(rootfd, p, O_PATH | O_CLOEXEC, IN_ROOT);
                }
                if (cur < 0)
                        return moat_error_set(err, errno, "open %s inside the container root", p);
                p[i] = saved;
                if (last)
                        return steal_fd(&cur);
        }
        return moat_error_set(err, ENOENT, "open %s inside the container root", path);
}

/* Flags a remount must keep or the kernel refuses it inside a user namespace (locked flags). */
static unsigned long locked_flags(const char *path)
{
        struct statvfs sv;
        if (statvfs(path, &sv) < 0)
                return 0;
        unsigned long f = 0;
        if (sv.f_flag & ST_NOSUID)
                f |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
                f |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
                f |= MS_NOEXEC;
        if (sv.f_flag & ST_NOATIME)
                f |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME)
                f |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME)
                f |= MS_RELATIME;
        return f;
}

static int remount_bind(const char *path, unsigned long flags, unsigned long clear, struct moat_error *err)
{
        unsigned long keep = locked_flags(path) & ~clear;
        if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | flags | keep, NULL) < 0)
                return moat_error_set(err, errno, "remount %s", path);
        return 0;
}

static const unsigned long BIND_FLAGS = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
                                        MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW;

/* A detached clone of the mount's source, ready for move_mount. */
static int plain_tree(const struct moat_mount *m, struct moat_error *err)
{
        unsigned otflags = OPEN_TREE_CLONE | O_CLOEXEC | ((m->ext & MOAT_MOUNT_RBIND) ? AT_RECURSIVE : 0);
        if (m->ext & MOAT_MOUNT_SRC_NOFOLLOW)
                otflags |= AT_SYMLINK_NOFOLLOW;
        int tree = (int) syscall(SYS_open_tree, AT_FDCWD, m->source, otflags);
        if (tree < 0)
                return moat_error_set(err, errno, "bind mount source %s", m->source);
        return tree;
}

/* The same with the mount's idmapping applied. */
static int idmapped_tree(const struct moat_mount *m, struct moat_error *err)
{
        _cleanup_close_ int tree = plain_tree(m, err);
        if (tree < 0)
                return tree;
        _cleanup_close_ int ns = moat_userns_open(m->uid_mappings, m->n_uid_mappings, m->gid_mappings,
                                                   m->n_gid_mappings, err);
        if (ns < 0)
                return ns;
        struct mount_attr_ attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) ns };
        if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | ((m->ext & MOAT_MOUNT_RIDMAP) ? AT_RECURSIVE : 0),
                    &attr, sizeof attr) < 0)
                return moat_error_set(err, errno, "idmap mount %s", m->source);
        return steal_fd(&tree);
}

/* Idmapping a mount needs CAP_SYS_ADMIN over the source filesystem's user namespace, which a
 * process inside the container's user namespace lacks for any host filesystem; and a container
 * root that is nobody on the host may not even reach a bind's source (a 0700 directory on the
 * way). So when the container gets a user namespace of its own, the parent, still on the host,
 * opens every bind source as a detached tree (idmapped where the mount asks) before clone; the
 * child inherits the fds and only attaches them. A mapping's hostID is a host id, as in runc. */
int moat_mounts_prepare_trees(const struct moat_spec *spec, struct moat_error *err)
{
        for (size_t i = 0; i < spec->n_mounts; i++) {
                struct moat_mount *m = &spec->mounts[i];
                if (!(m->ext & MOAT_MOUNT_BIND))
                        continue;
                int fd = (m->ext & MOAT_MOUNT_IDMAP) ? idmapped_tree(m, err) : plain_tree(m, err);
                if (fd < 0) {
                        moat_mounts_release_trees(spec);
                        return moat_error_wrap(err, "mounts[%zu]", i);
                }
                m->host_tree = fd;
        }
        return 0;
}

void moat_mounts_release_trees(const struct moat_spec *spec)
{
        for (size_t i = 0; i < spec->n_mounts; i++)
                if (spec->mounts[i].host_tree > 0) {
                        close(spec->mounts[i].host_tree);
                        spec->mounts[i].host_tree = 0;
                }
}

static int mount_bind(int rootfd, const struct moat_spec *spec, const struct moat_mount *m, struct moat_error *err)
{
        (void) spec;
        struct stat st;
        int sr = m->host_tree > 0                       ? fstat(m->host_tree, &st)
                 : (m->ext & MOAT_MOUNT_SRC_NOFOLLOW) ? lstat(m->source, &st)
                                                      : stat(m->source, &st);
        if (sr < 0)
                return moat_error_set(err, errno, "bind mount source %s", m->source);
        _cleanup_close_ int target = moat_open_in_root(rootfd, m->destination, true, !S_ISDIR(st.st_mode), err);
        if (target < 0)
                return target;
        char tp[32];
        fdpath(tp, target);

        if (m->host_tree > 0) {
                /* made by the parent on the host (moat_mounts_prepare_trees) */
                if (syscall(SYS_move_mount, m->host_tree, "", target, "",
                            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        return moat_error_set(err, errno, "attach %s at %s", m->source, m->destination);
        } else if (m->ext & MOAT_MOUNT_IDMAP) {
                _cleanup_close_ int tree = idmapped_tree(m, err);
                if (tree < 0)
                        return tree;
                if (syscall(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        return moat_error_set(err, errno, "attach idmapped %s at %s", m->source, m->destination);
        } else {
                _cleanup_free_ char *src = NULL;
                if (m->ext & MOAT_MOUNT_SRC_NOFOLLOW) {
                        int sfd = open(m->source, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                        if (sfd < 0)
                                return moat_error_set(err, errno, "open bind source %s", m->source);
                        src = xasprintf("/proc/self/fd/%d", sfd);
                }
                unsigned long f = MS_BIND | ((m->ext & MOAT_MOUNT_RBIND) ? MS_REC : 0);
                if (mount(src ? src : m->source, tp, NULL, f, NULL) < 0)
                        return moat_error_set(err, errno, "bind mount %s on %s", m->source, m->destination);
        }
        if ((m->flags & BIND_FLAGS) || m->rec_attr_set || m->rec_attr_clr || m->propagation) {
                /* reopen: the fd we mounted on is the covered directory, not the new mount */
                _cleanup_close_ int mnt = moat_open_in_root(rootfd, m->destination, false, false, err);
                if (mnt < 0)
                        return mnt;
                char mp[32];
                fdpath(mp, mnt);
                if ((m->flags & BIND_FLAGS) && remount_bind(mp, m->flags & BIND_FLAGS, m->clear_flags, err) < 0)
                        return moat_error_wrap(err, "mount %s", m->destination);
                if (m->rec_attr_set || m->rec_attr_clr) {
                        struct mount_attr_ attr = { .attr_set = m->rec_attr_set, .attr_clr = m->rec_attr_clr };
                        if (syscall(SYS_mount_setattr, mnt, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
                                return moat_error_set(err, errno, "set recursive attributes on %s", m->destination);
                }
                if (m->propagation && mount(NULL, mp, NULL, m->propagation, NULL) < 0)
                        return moat_error_set(err, errno, "set propagation of %s", m->destination);
        }
        return 0;
}

static bool host_cgroup2(void)
{
        struct statfs sf;
        return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* type "cgroup": on a v2 host, cgroup2 itself; on v1/hybrid, a tmpfs with one mount per hierarchy.
 * Without a cgroup namespace of its own the container gets binds of its own cgroup directories. */
static int mount_cgroup(int rootfd, const struct moat_spec *spec, const struct moat_mount *m, struct moat_error *err)
{
        _cleanup_close_ int target = moat_open_in_root(rootfd, m->destination, true, false, err);
        if (target < 0)
                return target;
        char tp[32];
        fdpath(tp, target);
        unsigned long flags = m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
        bool own_ns = spec->ns[MOAT_NS_CGROUP].present;
        if (host_cgroup2()) {
                if (own_ns) {
                        if (mount("cgroup2", tp, "cgroup2", flags, NULL) < 0)
                                return moat_error_set(err, errno, "mount cgroup2 on %s", m->destination);
                        return 0;
                }
                /* our own cgroup: the first line of /proc/self/cgroup is "0::/path" on v2 */
                _cleanup_free_ char *buf = NULL;
                if (moat_read_file("/proc/self/cgroup", 65536, &buf, NULL, err) < 0)
                        return -err->code;
                char *p = strstr(buf, "0::");
                char *nl = p ? strchr(p, '\n') : NULL;
                if (nl)
                        *nl = '\0';
                _cleanup_free_ char *src = xasprintf("/sys/fs/cgroup%s", p ? p + 3 : "");
                if (mount(src, tp, NULL, MS_BIND | MS_REC, NULL) < 0)
                        return moat_error_set(err, errno, "bind %s on %s", src, m->destination);
                return (flags & MS_RDONLY) ? remount_bind(tp, flags, 0, err) : 0;
        }
        if (mount("tmpfs", tp, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k") < 0)
                return moat_error_set(err, errno, "mount tmpfs on %s", m->destination);
        _cleanup_close_ int dir = moat_open_in_root(rootfd, m->destination, false, false, err);
        if (dir < 0)
                return dir;
        char dp[32];
        fdpath(dp, dir);
        _cleanup_free_ char *own = NULL;
        if (moat_read_file("/proc/self/cgroup", 65536, &own, NULL, err) < 0)
                return -err->code;
        DIR *d = opendir("/sys/fs/cgroup");
        if (!d)
                return moat_error_set(err, errno, "open /sys/fs/cgroup");
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d)) && r == 0) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *hostp = xasprintf("/sys/fs/cgroup/%s", de->d_name);
                struct stat st;
                if (lstat(hostp, &st) < 0)
                        continue;
                if (S_ISLNK(st.st_mode)) {
                        char lt[256];
                        ssize_t n = readlink(hostp, lt, sizeof lt - 1);
                        if (n > 0) {
                                lt[n] = '\0';
                                _cleanup_free_ char *dpath = xasprintf("%s/%s", dp, de->d_name);
                                (void) !symlink(lt, dpath);
                        }
                        continue;
                }
                if (!S_ISDIR(st.st_mode))
                        continue;
                _cleanup_free_ char *sub = xasprintf("%s/%s", dp, de->d_name);
                if (mkdir(sub, 0755) < 0 && errno != EEXIST) {
                        r = moat_error_set(err, errno, "mkdir %s/%s", m->destination, de->d_name);
                        break;
                }
                bool unified = streq(de->d_name, "unified");
                _cleanup_free_ char *opts = streq(de->d_name, "systemd") ? xstrdup("none,name=systemd")
                                                                          : xstrdup(de->d_name);
                if (own_ns) {
                        if (mount("cgroup", sub, unified ? "cgroup2" : "cgroup", flags, unified ? NULL : opts) == 0)
                                continue;
                }
                /* bind the container's own directory in this hierarchy */
                const char *key = unified ? "0::" : de->d_name;
                char *rel = NULL;
                for (char *l = own; l && *l && !rel;) {
                        char *nl = strchr(l, '\n');
                        char *c1 = strchr(l, ':');
                        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                        if (c1 && c2 && (!nl || c2 < nl)) {
                                size_t kl = (size_t) (c2 - c1 - 1);
                                bool match = unified ? (c2 == c1 + 1)
                                                     : (kl == strlen(key) && strncmp(c1 + 1, key, kl) == 0) ||
                                                               (kl > 5 && startswith(c1 + 1, "name=") &&
                                                                streq(key, "systemd"));
                                if (match) {
                                        rel = xstrndup(c2 + 1, nl ? (size_t) (nl - c2 - 1) : strlen(c2 + 1));
                                }
                        }
                        l = nl ? nl + 1 : NULL;
                }
                _cleanup_free_ char *src = xasprintf("%s%s", hostp, rel ? rel : "");
                free(rel);
                if (mount(src, sub, NULL, MS_BIND | MS_REC, NULL) < 0) {
                        r = moat_error_set(err, errno, "bind %s on %s/%s", src, m->destination, de->d_name);
                        break;
                }
                if (flags & MS_RDONLY)
                        r = remount_bind(sub, flags, 0, err);
        }
        closedir(d);
        if (r < 0)
                return r;
        if (flags & MS_RDONLY && mount(NULL, dp, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return moat_error_set(err, errno, "remount %s read-only", m->destination);
        return 0;
}

static int mount_one(int rootfd, const struct moat_spec *spec, const struct moat_mount *m, struct moat_error *err)
{
        if (m->ext & MOAT_MOUNT_BIND)
                return mount_bind(rootfd, spec, m, err);
        if (streq(m->type, "cgroup") || streq(m->type, "cgroup2"))
                return mount_cgroup(rootfd, spec, m, err);
        if (m->ext & MOAT_MOUNT_TMPCOPYUP)
                return moat_error_set(err, ENOTSUP, "mount %s: tmpcopyup is not supported yet", m->destination);
        _cleanup_close_ int target = moat_open_in_root(rootfd, m->destination, true, false, err);
        if (target < 0)
                return target;
        char tp[32];
        fdpath(tp, target);
        unsigned long flags = m->flags & ~MS_REMOUNT;
        if (mount(m->source ? m->source : m->type, tp, m->type, flags, m->data) < 0)
                return moat_error_set(err, errno, "mount %s (%s) on %s", m->source ? m->source : m->type, m->type,
                                      m->destination);
        if (m->propagation || m->rec_attr_set || m->rec_attr_clr) {
                _cleanup_close_ int mnt = moat_open_in_root(rootfd, m->destination, false, false, err);
                if (mnt < 0)
                        return mnt;
                char mp[32];
                fdpath(mp, mnt);
                if (m->propagation && mount(NULL, mp, NULL, m->propagation, NULL) < 0)
                        return moat_error_set(err, errno, "set propagation of %s", m->destination);
                if (m->rec_attr_set || m->rec_attr_clr) {
                        struct mount_attr_ attr = { .attr_set = m->rec_attr_set, .attr_clr = m->rec_attr_clr };
                        if (syscall(SYS_mount_setattr, mnt, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
                                return moat_error_set(err, errno, "set recursive attributes on %s", m->destination);
                }
        }
        return 0;
}

static const struct {
        const char *name;
        unsigned major, minor;
} default_devices[] = {
        { "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
        { "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

static bool node_is(const struct stat *st, char type, unsigned major, unsigned minor)
{
        bool is_chr = S_ISCHR(st->st_mode), is_blk = S_ISBLK(st->st_mode);
        if (!((type == 'c' || type == 'u') ? is_chr : type == 'b' ? is_blk : S_ISFIFO(st->st_mode)))
                return false;
        return type == 'p' || (major(st->st_rdev) == major && minor(st->st_rdev) == minor);
}

/* The host's node for a device the config names under another path (docker's --device
 * /dev/null:/dev/mynull): looked up in /dev and its subdirectories (not followed: symlinks). */
static char *find_host_node(const char *dir, int depth, char type, unsigned major, unsigned minor)
{
        DIR *d = opendir(dir);
        if (!d)
                return NULL;
        char *found = NULL;
        struct dirent *de;
        while (!found && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name);
                struct stat st;
                if (lstat(p, &st) < 0)
                        continue;
                if (node_is(&st, type, major, minor))
                        found = STEAL(p);
                else if (S_ISDIR(st.st_mode) && depth < 2 && !streq(de->d_name, "pts") && !streq(de->d_name, "shm") &&
                         !streq(de->d_name, "mqueue"))
                        found = find_host_node(p, depth + 1, type, major, minor);
        }
        closedir(d);
        return found;
}

static int make_device(int rootfd, const char *path, char type, unsigned major, unsigned minor, mode_t mode,
                       uid_t uid, gid_t gid, bool in_userns, struct moat_error *err)
{
        if (in_userns) {
                /* mknod is not allowed in a user namespace: bind the host's node instead, the one at
                 * the same path when it is the device the config names, else one that is */
                struct stat st;
                _cleanup_free_ char *host = NULL;
                if (lstat(path, &st) < 0 || !node_is(&st, type, major, minor))
                        host = type == 'p' ? NULL : find_host_node("/dev", 0, type, major, minor);
                else
                        host = xstrdup(path);
                if (!host)
                        return moat_error_set(err, ENOENT, "device %s: the host has no node %c %u:%u to bind", path,
                                              type, major, minor);
                _cleanup_close_ int t = moat_open_in_root(rootfd, path, true, true, err);
                if (t < 0)
                        return t;
                char tp[32];
                fdpath(tp, t);
                if (mount(host, tp, NULL, MS_BIND, NULL) < 0)
                        return moat_error_set(err, errno, "bind device %s", path);
                return 0;
        }
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        *slash = '\0';
        _cleanup_close_ int dfd = moat_open_in_root(rootfd, *dir ? dir : "/", true, false, err);
        if (dfd < 0)
                return dfd;
        mode_t fmt = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
        if (mknodat(dfd, slash + 1, fmt | (mode & 07777), makedev(major, minor)) < 0) {
                if (errno != EEXIST)
                        return moat_error_set(err, errno, "mknod %s", path);
                /* an image file in the way: replace it, never reuse it */
                if (unlinkat(dfd, slash + 1, 0) < 0 ||
                    mknodat(dfd, slash + 1, fmt | (mode & 07777), makedev(major, minor)) < 0)
                        return moat_error_set(err, errno, "mknod %s", path);
        }
        if (fchownat(dfd, slash + 1, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return moat_error_set(err, errno, "chown %s", path);
        /* mknod applies the umask; the mode must be exact */
        _cleanup_close_ int nfd = openat(dfd, slash + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (nfd >= 0) {
                char np[32];
                fdpath(np, nfd);
                chmod(np, mode & 07777);
        }
        return 0;
}

static bool dev_is_tmpfs(const struct moat_spec *spec)
{
        for (size_t i = 0; i < spec->n_mounts; i++)
                if (streq(spec->mounts[i].destination, "/dev") && !(spec->mounts[i].ext & MOAT_MOUNT_BIND))
                        return true;
        return false;
}

static int setup_devices(int rootfd, const struct moat_spec *spec, struct moat_error *err)
{
        bool userns = spec->ns[MOAT_NS_USER].present;
        int r;
        if (dev_is_tmpfs(spec)) {
                for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
                        bool overridden = false;
                        for (size_t k = 0; k < spec->n_devices; k++)
                                if (streq(spec->devices[k].path, default_devices[i].name))
                                        overridden = true;
                        if (overridden)
                                continue;
                        r = make_device(rootfd, default_devices[i].name, 'c', default_devices[i].major,
                                        default_devices[i].minor, 0666, 0, 0, userns, err);
                        if (r < 0)
                                return r;
                }
                static const char *const links[][2] = {
                        { "/proc/self/fd", "fd" },      { "/proc/self/fd/0", "stdin" },
                        { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
                        { "pts/ptmx", "ptmx" },
                };
                _cleanup_close_ int dev = moat_open_in_root(rootfd, "/dev", false, false, err);
                if (dev < 0)
                        return dev;
                for (size_t i = 0; i < ARRAY_SIZE(links); i++)
                        if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
                                return moat_error_set(err, errno, "symlink /dev/%s", links[i][1]);
        }
        for (size_t i = 0; i < spec->n_devices; i++) {
                const struct moat_device *d = &spec->devices[i];
                r = make_device(rootfd, d->path, d->type, (unsigned) (d->major < 0 ? 0 : d->major),
                                (unsigned) (d->minor < 0 ? 0 : d->minor), d->has_mode ? d->mode : 0666,
                                d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0, userns, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The mount point holding `path` (longest mountinfo match on a component boundary). */
static char *mountpoint_of(const char *path)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return NULL;
        char *best = NULL, *line = NULL;
        size_t cap = 0, best_len = 0;
        while (getline(&line, &cap, f) > 0) {
                char mp[4096];
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
                        continue;
                /* mountinfo escapes space, tab, newline and backslash as \ooo */
                char *w = mp;
                for (char *r = mp; *r; r++) {
                        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] && r[3]) {
                                *w++ = (char) ((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                                r += 3;
                        } else
                                *w++ = *r;
                }
                *w = '\0';
                size_t l = strlen(mp);
                bool prefix = streq(mp, "/") || (strncmp(path, mp, l) == 0 && (path[l] == '/' || path[l] == '\0'));
                if (prefix && (l >= best_len || !best)) {
                        free(best);
                        best = xstrdup(mp);
                        best_len = l;
                }
        }
        free(line);
        return best;
}

int moat_mounts_setup_rootfs(const struct moat_spec *spec, struct moat_error *err)
{
        unsigned long prop = spec->rootfs_propagation ? spec->rootfs_propagation : (MS_SLAVE | MS_REC);
        /* nothing we mount may propagate back to the host */
        if (mount(NULL, "/", NULL, (prop & (MS_SHARED)) ? (MS_SLAVE | MS_REC) : prop, NULL) < 0)
                return moat_error_set(err, errno, "make / %s", (prop & MS_PRIVATE) ? "private" : "slave");
        /* pivot_root refuses a new root whose parent mount is shared; a recursive slave or
         * private / already rules that out, other propagations need the parent made private */
        unsigned long kind = prop & (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE);
        if (!(prop & MS_REC) || !(kind == MS_SLAVE || kind == MS_PRIVATE)) {
                _cleanup_free_ char *parent = mountpoint_of(spec->root_path);
                if (parent && mount(NULL, parent, NULL, MS_PRIVATE, NULL) < 0)
                        return moat_error_set(err, errno, "make %s (the rootfs's mount) private", parent);
        }
        if (mount(spec->root_path, spec->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
                return moat_error_set(err, errno, "bind the rootfs %s onto itself", spec->root_path);
        _cleanup_close_ int rootfd = open(spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return moat_error_set(err, errno, "open rootfs %s", spec->root_path);
        for (size_t i = 0; i < spec->n_mounts; i++) {
                int r = mount_one(rootfd, spec, &spec->mounts[i], err);
                if (r < 0)
                        return moat_error_wrap(err, "mounts[%zu]", i);
        }
        return setup_devices(rootfd, spec, err);
}

int moat_mounts_pivot(const struct moat_spec *spec, struct moat_error *err)
{
        _cleanup_close_ int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (oldroot < 0)
                return moat_error_set(err, errno, "open /");
        if (chdir(spec->root_path) < 0)
                return moat_error_set(err, errno, "chdir %s", spec->root_path);
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return moat_error_set(err, errno, "pivot_root %s", spec->root_path);
        /* the old root is now stacked under "."; detach it without touching the host's view */
        if (fchdir(oldroot) < 0)
                return moat_error_set(err, errno, "fchdir old root");
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return moat_error_set(err, errno, "make the old root a slave");
        if (umount2(".", MNT_DETACH) < 0)
                return moat_error_set(err, errno, "detach the old root");
        if (chdir("/") < 0)
                return moat_error_set(err, errno, "chdir /");
        if (spec->rootfs_propagation && mount(NULL, "/", NULL, spec->rootfs_propagation, NULL) < 0)
                return moat_error_set(err, errno, "set rootfs propagation");
        if (spec->root_readonly && remount_bind("/", MS_RDONLY, 0, err) < 0)
                return moat_error_wrap(err, "make the root read-only");
        return 0;
}

static int mask_path(int rootfd, const char *path, int devnull_fd, struct moat_error *err)
{
        _cleanup_close_ int fd = openat2_(rootfd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, IN_ROOT);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return moat_error_set(err, errno, "mask %s", path);
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return moat_error_set(err, errno, "stat %s", path);
        char tp[32];
        fdpath(tp, fd);
        if (S_ISDIR(st.st_mode)) {
                if (mount("tmpfs", tp, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=555") < 0)
                        return moat_error_set(err, errno, "mask %s with a read-only tmpfs", path);
                return 0;
        }
        if (S_ISLNK(st.st_mode))
                return 0; /* masking a link would mask whatever it points at */
        char np[32];
        fdpath(np, devnull_fd);
        if (mount(np, tp, NULL, MS_BIND, NULL) < 0)
                return moat_error_set(err, errno, "mask %s with /dev/null", path);
        return 0;
}

static int readonly_path(int rootfd, const char *path, struct moat_error *err)
{
        _cleanup_close_ int fd = openat2_(rootfd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, IN_ROOT);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return moat_error_set(err, errno, "make %s read-only", path);
        }
        char tp[32];
        fdpath(tp, fd);
        if (mount(tp, tp, NULL, MS_BIND | MS_REC, NULL) < 0)
                return moat_error_set(err, errno, "bind %s onto itself", path);
        _cleanup_close_ int mnt = openat2_(rootfd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, IN_ROOT);
        if (mnt < 0)
                return moat_error_set(err, errno, "reopen %s", path);
        fdpath(tp, mnt);
        return remount_bind(tp, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, err);
}

static int set_sysctls(int rootfd, const struct moat_spec *spec, struct moat_error *err)
{
        if (!spec->n_sysctls)
                return 0;
        _cleanup_close_ int sys = openat2_(rootfd, "/proc/sys", O_DIRECTORY | O_PATH | O_CLOEXEC, IN_ROOT);
        struct statfs sf;
        if (sys < 0 || fstatfs(sys, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
                return moat_error_set(err, sys < 0 ? errno : EPERM, "linux.sysctl: /proc/sys is not a procfs");
        for (size_t i = 0; i < spec->n_sysctls; i++) {
                _cleanup_free_ char *rel = xstrdup(spec->sysctls[i].key);
                for (char *c = rel; *c; c++)
                        if (*c == '.')
                                *c = '/';
                _cleanup_close_ int fd = openat2_(sys, rel, O_WRONLY | O_CLOEXEC | O_TRUNC,
                                                  RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
                if (fd < 0)
                        return moat_error_set(err, errno, "linux.sysctl: open /proc/sys/%s", rel);
                if (moat_write_all(fd, spec->sysctls[i].value, strlen(spec->sysctls[i].value)) < 0)
                        return moat_error_set(err, errno, "linux.sysctl: write %s=%s", spec->sysctls[i].key,
                                              spec->sysctls[i].value);
        }
        return 0;
}

/* Before pivot, while the host's /dev/null and /proc are still reachable: sysctls, masked and
 * read-only paths, all resolved inside the root. */
int moat_mounts_finish(const struct moat_spec *spec, int devnull_fd, struct moat_error *err)
{
        int r;
        _cleanup_close_ int rootfd = open(spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return moat_error_set(err, errno, "open %s", spec->root_path);
        if ((r = set_sysctls(rootfd, spec, err)) < 0)
                return r;
        for (size_t i = 0; spec->masked_paths && spec->masked_paths[i]; i++)
                if ((r = mask_path(rootfd, spec->masked_paths[i], devnull_fd, err)) < 0)
                        return r;
        for (size_t i = 0; spec->readonly_paths && spec->readonly_paths[i]; i++)
                if ((r = readonly_path(rootfd, spec->readonly_paths[i], err)) < 0)
                        return r;
        return 0;
}
