/* cp: copy files between the host and a container's root filesystem. The container side is
 * reached from a child process chrooted into the container's root, so no path or symlink in the
 * container can lead to the host's files; the host side is opened before the chroot and walked
 * through directory fds. Symlinks are copied as symlinks, never followed inside the tree; device
 * nodes, FIFOs and sockets are skipped. Volumes and tmpfs mounted inside the container are not
 * seen (only its root filesystem). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "engine/internal.h"

#define CP_MAX_DEPTH 64

static int copy_file(int sfd, int ddir, const char *name, mode_t mode)
{
        int dfd = openat(ddir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
        if (dfd < 0)
                return -errno;
        char buf[65536];
        ssize_t n;
        int r = 0;
        while ((n = read(sfd, buf, sizeof buf)) > 0)
                if (moat_write_all(dfd, buf, (size_t) n) < 0) {
                        r = -errno;
                        break;
                }
        if (n < 0)
                r = -errno;
        close(dfd);
        return r;
}

/* Who owns what a copy creates: the copier (docker cp to the host), fixed ids (cp into a container:
 * its root, which is the first id of its range on the host when it has its own user namespace),
 * or the source's owner and exact mode, less `shift` (a volume filled from an image: the image is
 * seen through the idmapped snapshot, the volume's files are kept as the image has them). */
struct owner {
        enum { OWN_CALLER, OWN_FIXED, OWN_SOURCE } how;
        uid_t uid; /* OWN_FIXED: the ids; OWN_SOURCE: subtracted from the source's */
        gid_t gid;
};

static int own(int ddir, const char *dname, const struct stat *st, const struct owner *o)
{
        if (o->how == OWN_CALLER)
                return 0;
        /* below the shift: an id the snapshot's idmapping could not map, shown as nobody */
        uid_t u = o->how == OWN_FIXED ? o->uid : st->st_uid >= o->uid ? st->st_uid - o->uid : 65534;
        gid_t g = o->how == OWN_FIXED ? o->gid : st->st_gid >= o->gid ? st->st_gid - o->gid : 65534;
        /* chown first: it clears set-id bits */
        if (fchownat(ddir, dname, u, g, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (o->how == OWN_SOURCE && !S_ISLNK(st->st_mode) && fchmodat(ddir, dname, st->st_mode & 07777, 0) < 0)
                return -errno;
        return 0;
}

/* Copy the entry `name` of directory sdir into directory ddir as `dname`. */
static int copy_entry(int sdir, const char *name, int ddir, const char *dname, const struct owner *o, int depth)
{
        if (depth > CP_MAX_DEPTH)
                return -ELOOP;
        struct stat st;
        if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(sdir, name, target, sizeof target - 1);
                if (n < 0)
                        return -errno;
                target[n] = '\0';
                unlinkat(ddir, dname, 0);
                if (symlinkat(target, ddir, dname) < 0)
                        return -errno;
                return own(ddir, dname, &st, o);
        }
        if (S_ISREG(st.st_mode)) {
                int sfd = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (sfd < 0)
                        return -errno;
                int r = copy_file(sfd, ddir, dname, st.st_mode);
                close(sfd);
                return r < 0 ? r : own(ddir, dname, &st, o);
        }
        if (!S_ISDIR(st.st_mode))
                return 0; /* devices, FIFOs, sockets: never created */
        /* an existing directory keeps its owner, unless the source's is asked for */
        bool made = mkdirat(ddir, dname, st.st_mode & 07777) == 0;
        if (!made && errno != EEXIST)
                return -errno;
        if (made || o->how == OWN_SOURCE) {
                int r = own(ddir, dname, &st, o);
                if (r < 0)
                        return r;
        }
        int s = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int d = openat(ddir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0 || d < 0) {
                int e = errno;
                if (s >= 0)
                        close(s);
                if (d >= 0)
                        close(d);
                return -e;
        }
        DIR *dir = fdopendir(s);
        int r = 0;
        struct dirent *de;
        while (r == 0 && dir && (de = readdir(dir)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        r = copy_entry(dirfd(dir), de->d_name, d, de->d_name, o, depth + 1);
        if (dir)
                closedir(dir);
        close(d);
        return r;
}

/* Split "a/b/c" into the parent "a/b" (or ".") and the last component "c". */
static void split(const char *path, char **parent, char **base)
{
        _cleanup_free_ char *p = xstrdup(path);
        size_t n = strlen(p);
        while (n > 1 && p[n - 1] == '/')
                p[--n] = '\0';
        char *sl = strrchr(p, '/');
        if (!sl) {
                *parent = xstrdup(".");
                *base = xstrdup(p);
        } else if (sl == p) {
                *parent = xstrdup("/");
                *base = xstrdup(sl[1] ? sl + 1 : ".");
        } else {
                *sl = '\0';
                *parent = xstrdup(p);
                *base = xstrdup(sl + 1);
        }
}

/* src parent dir + name -> dst: into dst when it is a directory, else as dst. */
static int do_copy(int sparent, const char *sname, const char *dst, const struct owner *o)
{
        struct stat st;
        _cleanup_free_ char *dparent = NULL, *dbase = NULL;
        int ddir;
        const char *dname;
        if (stat(dst, &st) == 0 && S_ISDIR(st.st_mode)) {
                ddir = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                dname = sname;
        } else {
                split(dst, &dparent, &dbase);
                ddir = open(dparent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                dname = dbase;
        }
        if (ddir < 0)
                return -errno;
        int r = copy_entry(sparent, sname, ddir, dname, o, 0);
        close(ddir);
        return r;
}

/* Run fn in a child chrooted into rootfs; its result (0 or -errno) as a positive errno. */
static int in_root(const char *rootfs, int (*fn)(void *), void *arg)
{
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return errno;
        pid_t pid = fork();
        if (pid == 0) {
                close(pipefd[0]);
                int rr = chroot(rootfs) < 0 || chdir("/") < 0 ? -errno : fn(arg);
                int code = rr < 0 ? -rr : 0;
                (void) !write(pipefd[1], &code, sizeof code);
                _exit(0);
        }
        close(pipefd[1]);
        int code = EIO;
        if (pid < 0)
                code = errno;
        else if (read(pipefd[0], &code, sizeof code) != sizeof code)
                code = EIO;
        close(pipefd[0]);
        if (pid > 0)
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        return code;
}

struct cp_job {
        bool to_container;
        int host_fd;
        const char *src, *dst, *sparent, *sbase, *dname;
        const struct owner *to_ctr;
};

static int cp_in_root(void *arg)
{
        const struct cp_job *j = arg;
        if (j->to_container)
                return do_copy(j->host_fd, j->sbase, j->dst, j->to_ctr);
        int sdir = open(j->sparent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sdir < 0)
                return -errno;
        static const struct owner caller = { OWN_CALLER, 0, 0 };
        int r = copy_entry(sdir, j->sbase, j->host_fd, j->dname, &caller, 0);
        close(sdir);
        return r;
}

int moat_engine_cp(struct moat_engine *e, const char *name_or_id, const char *src, const char *dst, bool to_container,
                   struct moat_error *err)
{
        struct moat_container_info c;
        int r = moat_engine_get(e, name_or_id, &c, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *rootfs = xasprintf("%s/%s/rootfs", e->containers, c.id);
        struct owner to_ctr = { OWN_FIXED, 0, 0 };
        json_t *uns = json_object_get(c.config, "MoatUserns");
        if (uns) {
                to_ctr.uid = (uid_t) json_integer_value(json_object_get(uns, "HostUid"));
                to_ctr.gid = (gid_t) json_integer_value(json_object_get(uns, "HostGid"));
        }
        moat_container_info_clear(&c);
        _cleanup_free_ char *sparent = NULL, *sbase = NULL;
        split(src, &sparent, &sbase);
        /* the host side is opened here, before the child enters the container's root:
         * host -> container: the source's parent; container -> host: the destination directory */
        _cleanup_free_ char *dname = NULL;
        _cleanup_close_ int host_fd = -1;
        if (to_container) {
                host_fd = open(sparent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        } else {
                struct stat st;
                if (stat(dst, &st) == 0 && S_ISDIR(st.st_mode)) {
                        host_fd = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        dname = xstrdup(sbase);
                } else {
                        _cleanup_free_ char *dp = NULL;
                        split(dst, &dp, &dname);
                        host_fd = open(dp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                }
        }
        if (host_fd < 0)
                return moat_error_set(err, errno, "open %s", to_container ? src : dst);
        struct cp_job job = { .to_container = to_container, .host_fd = host_fd, .src = src, .dst = dst,
                              .sparent = sparent, .sbase = sbase, .dname = dname, .to_ctr = &to_ctr };
        int code = in_root(rootfs, cp_in_root, &job);
        if (code)
                return moat_error_set(err, code, "copy %s to %s", src, dst);
        return 0;
}

struct fill_job {
        const char *path;
        int dst_fd;
        struct owner own;
};

static int fill_in_root(void *arg)
{
        const struct fill_job *j = arg;
        int s = open(j->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        struct stat st;
        DIR *dir = fdopendir(s);
        if (!dir || fstat(s, &st) < 0) {
                close(s);
                return -errno;
        }
        int r = own(j->dst_fd, ".", &st, &j->own);
        struct dirent *de;
        while (r == 0 && (de = readdir(dir)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        r = copy_entry(dirfd(dir), de->d_name, j->dst_fd, de->d_name, &j->own, 1);
        closedir(dir);
        return r;
}

int moat_engine_copy_image_dir(const char *rootfs, const char *path, const char *dst, const struct moat_userns *uns,
                               struct moat_error *err)
{
        _cleanup_close_ int dfd = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return moat_error_set(err, errno, "open %s", dst);
        struct fill_job job = { .path = path, .dst_fd = dfd, .own = { OWN_SOURCE, uns ? uns->uid : 0, uns ? uns->gid : 0 } };
        int code = in_root(rootfs, fill_in_root, &job);
        if (code)
                return moat_error_set(err, code, "copy %s of the image into %s", path, dst);
        return 0;
}
