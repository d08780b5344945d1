/* cgroup: backend detection, path rules and the lifecycle of a container's cgroup (create, join,
 * freeze, kill, destroy) on v1/hybrid and v2 hosts. The resource writers live in cgroup_apply.c,
 * the OCI parser in cgroup_resources.c. */
#include "cgroup_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

#define DEFAULT_ROOT "/sys/fs/cgroup"
#define MOAT_PARENT "moat"
#define PATH_MAX_LEN 4096
#define NAME_MAX_LEN 255
/* Controllers Moat enables for its subtree on v2, in the order the kernel lists them. */
static const char *const v2_wanted[] = {"cpuset", "cpu", "io", "memory", "hugetlb", "pids"};

static void sleep_ns(long ns)
{
        struct timespec ts = {.tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* ---- small file helpers ---- */

/* On a fake tree (unit tests) writes create the file and append, one line per write, so a test
 * sees every value written in order (several io.max or devices.allow lines, freeze then thaw). */
static int open_ctl(struct moat_cgroup *cg, struct cg_hier *h, const char *file, int flags)
{
        if (cg && cg->fake && (flags & O_ACCMODE) == O_WRONLY)
                flags = (flags & ~O_TRUNC) | O_CREAT | O_APPEND;
        if (h->dfd >= 0)
                return openat(h->dfd, file, flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0644);
        char p[PATH_MAX_LEN + 512];
        if ((size_t) snprintf(p, sizeof p, "%s/%s", h->dir, file) >= sizeof p) {
                errno = ENAMETOOLONG;
                return -1;
        }
        return open(p, flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0644);
}

static int write_err(struct cg_hier *h, const char *file, const char *val, int e, struct moat_error *err)
{
        size_t n = strlen(val);
        while (n && val[n - 1] == '\n')
                n--;
        return moat_error_set(err, e, "write %.*s to %s/%s", (int) (n > 200 ? 200 : n), val, h->dir, file);
}

int cg_open_write(struct moat_cgroup *cg, struct cg_hier *h, const char *file, struct moat_error *err)
{
        int fd = open_ctl(cg, h, file, O_WRONLY | O_TRUNC);
        if (fd < 0)
                return moat_error_set(err, errno, "open %s/%s", h->dir, file);
        return fd;
}

int cg_fd_write(struct moat_cgroup *cg, int fd, struct cg_hier *h, const char *file, const char *val,
                struct moat_error *err)
{
        size_t len = strlen(val);
        int r = moat_write_all(fd, val, len);
        if (r == 0 && cg->fake && (len == 0 || val[len - 1] != '\n'))
                r = moat_write_all(fd, "\n", 1);
        if (r < 0)
                return write_err(h, file, val, -r, err);
        return 0;
}

int cg_write_opt(struct moat_cgroup *cg, struct cg_hier *h, const char *file, const char *val,
                 struct moat_error *err)
{
        _cleanup_close_ int fd = open_ctl(cg, h, file, O_WRONLY | O_TRUNC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return -ENOENT;
                return write_err(h, file, val, errno, err);
        }
        return cg_fd_write(cg, fd, h, file, val, err);
}

int cg_write(struct moat_cgroup *cg, struct cg_hier *h, const char *file, const char *val, struct moat_error *err)
{
        int r = cg_write_opt(cg, h, file, val, err);
        if (r == -ENOENT)
                return write_err(h, file, val, ENOENT, err);
        return r;
}

int cg_read(struct cg_hier *h, const char *file, char *buf, size_t size, struct moat_error *err)
{
        _cleanup_close_ int fd = open_ctl(NULL, h, file, O_RDONLY);
        if (fd < 0)
                return moat_error_set(err, errno, "open %s/%s", h->dir, file);
        ssize_t n = moat_read_all(fd, buf, size - 1);
        if (n < 0)
                return moat_error_set(err, (int) -n, "read %s/%s", h->dir, file);
        buf[n] = '\0';
        return 0;
}

bool cg_kv_get(const char *text, const char *key, uint64_t *out)
{
        size_t kl = strlen(key);
        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                if (strncmp(l, key, kl) == 0 && l[kl] == ' ') {
                        *out = strtoull(l + kl + 1, NULL, 10);
                        return true;
                }
        }
        return false;
}

struct cg_hier *cg_hier_for(struct moat_cgroup *cg, const char *name)
{
        char pat[64];
        snprintf(pat, sizeof pat, ",%s,", name);
        for (size_t i = 0; i < cg->n_h; i++)
                if (!cg->h[i].aux && strstr(cg->h[i].ctls, pat))
                        return &cg->h[i];
        return NULL;
}

/* ---- detection and path rules ---- */

static bool is_v2_root(const char *root, bool *fake)
{
        struct statfs sfs;
        if (statfs(root, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
                *fake = false;
                return true;
        }
        char p[PATH_MAX_LEN + 32];
        snprintf(p, sizeof p, "%s/cgroup.controllers", root);
        *fake = true;
        return access(p, F_OK) == 0;
}

int moat_cgroup_detect(const char *root, enum moat_cgroup_mode *mode, struct moat_error *err)
{
        if (!root)
                root = DEFAULT_ROOT;
        struct stat st;
        if (stat(root, &st) < 0)
                return moat_error_set(err, errno, "cgroup root %s", root);
        if (!S_ISDIR(st.st_mode))
                return moat_error_set(err, ENOTDIR, "cgroup root %s", root);
        bool fake;
        *mode = is_v2_root(root, &fake) ? MOAT_CGROUP_V2 : MOAT_CGROUP_V1;
        return 0;
}

static bool valid_component(const char *s, size_t n)
{
        if (n == 0 || n > NAME_MAX_LEN)
                return false;
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

/* Resolve linux.cgroupsPath into "/a/b" relative to each hierarchy root. */
static int resolve_path(const char *path, const char *id, char **out, struct moat_error *err)
{
        if (!path || !*path) {
                if (!id || !valid_component(id, strlen(id)) || strchr(id, '/'))
                        return moat_error_set(err, EINVAL, "cgroup: invalid container id \"%s\"", id ? id : "");
                *out = xasprintf("/" MOAT_PARENT "/%s", id);
                return 0;
        }
        if (strlen(path) > PATH_MAX_LEN - 64)
                return moat_error_set(err, ENAMETOOLONG, "linux.cgroupsPath: longer than %d bytes", PATH_MAX_LEN - 64);
        if (strchr(path, ':'))
                return moat_error_set(err, EINVAL,
                                      "linux.cgroupsPath \"%s\": systemd-style \"slice:prefix:name\" paths need the "
                                      "systemd cgroup manager, which Moat does not support; use a path like "
                                      "\"/moat/<name>\"",
                                      path);
        char buf[PATH_MAX_LEN];
        size_t o = 0;
        if (path[0] != '/') {
                memcpy(buf, "/" MOAT_PARENT, sizeof MOAT_PARENT);
                o = sizeof MOAT_PARENT;
        }
        for (const char *p = path; *p;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                size_t n = strcspn(p, "/");
                if (!valid_component(p, n))
                        return moat_error_set(err, EINVAL,
                                              "linux.cgroupsPath \"%s\": invalid component \"%.*s\" (no \".\", \"..\", "
                                              "empty or control characters)",
                                              path, (int) (n > 64 ? 64 : n), p);
                buf[o++] = '/';
                memcpy(buf + o, p, n);
                o += n;
                p += n;
        }
        buf[o] = '\0';
        if (o == 0)
                return moat_error_set(err, EINVAL, "linux.cgroupsPath \"%s\": the root cgroup cannot be a container's",
                                      path);
        *out = xstrdup(buf);
        return 0;
}

/* ---- the handle ---- */

static void hier_free(struct cg_hier *h)
{
        free(h->ctls);
        free(h->dir);
        closep(&h->dfd);
        closep(&h->join_fd);
        strv_free(h->made); /* strv_free takes a NULL-terminated vector */
}

void moat_cgroup_free(struct moat_cgroup *cg)
{
        if (!cg)
                return;
        for (size_t i = 0; i < cg->n_h; i++)
                hier_free(&cg->h[i]);
        free(cg->h);
        free(cg->root);
        free(cg->path);
        free(cg);
}

static struct cg_hier *hier_add(struct moat_cgroup *cg, const char *mount, const char *ctls, bool aux)
{
        cg->h = xrealloc(cg->h, sizeof *cg->h * (cg->n_h + 1));
        struct cg_hier *h = &cg->h[cg->n_h++];
        memset(h, 0, sizeof *h);
        h->dfd = h->join_fd = -1;
        h->aux = aux;
        h->ctls = xasprintf(",%s,", ctls);
        h->dir = *mount ? xasprintf("%s/%s%s", cg->root, mount, cg->path) : xasprintf("%s%s", cg->root, cg->path);
        return h;
}

/* Build the handle: one entry per v1 mount (symlinked aliases such as cpu -> cpu,cpuacct are skipped,
 * the real directory's name lists its controllers), or the single v2 tree. */
static int cg_new(const char *root, char *path, struct moat_cgroup **out, struct moat_error *err)
{
        _cleanup_free_ char *p = path;
        if (!root)
                root = DEFAULT_ROOT;
        struct moat_cgroup *cg = XNEW(struct moat_cgroup, 1);
        _cleanup_cgroup_ struct moat_cgroup *guard = cg;
        cg->root = xstrdup(root);
        cg->path = STEAL(p);
        bool fake;
        if (is_v2_root(root, &fake)) {
                cg->mode = MOAT_CGROUP_V2;
                cg->fake = fake;
                hier_add(cg, "", "", false);
                *out = STEAL(guard);
                return 0;
        }
        cg->mode = MOAT_CGROUP_V1;
        DIR *d = opendir(root);
        if (!d)
                return moat_error_set(err, errno, "open cgroup root %s", root);
        struct dirent *de;
        bool unified = false;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                unsigned char t = de->d_type;
                if (t == DT_UNKNOWN) {
                        struct stat s;
                        if (fstatat(dirfd(d), de->d_name, &s, AT_SYMLINK_NOFOLLOW) < 0)
                                continue;
                        t = S_ISDIR(s.st_mode) ? DT_DIR : DT_REG;
                }
                if (t != DT_DIR)
                        continue;
                if (streq(de->d_name, "unified")) {
                        unified = true;
                        continue;
                }
                hier_add(cg, de->d_name, de->d_name, false);
        }
        closedir(d);
        if (cg->n_h == 0)
                return moat_error_set(err, ENOENT, "no cgroup hierarchies mounted under %s", root);
        /* one statfs tells a real host from a unit test's directory */
        _cleanup_free_ char *first = xstrndup(cg->h[0].dir, strlen(cg->h[0].dir) - strlen(cg->path));
        struct statfs sfs;
        cg->fake = !(statfs(first, &sfs) == 0 && sfs.f_type == CGROUP_SUPER_MAGIC);
        if (unified)
                hier_add(cg, "unified", "", true);
        *out = STEAL(guard);
        return 0;
}

enum moat_cgroup_mode moat_cgroup_mode_of(const struct moat_cgroup *cg) { return cg->mode; }
const char *moat_cgroup_path(const struct moat_cgroup *cg) { return cg->path; }
int moat_cgroup_dirfd(struct moat_cgroup *cg)
{
        if (cg->mode == MOAT_CGROUP_V2)
                return cg_v2(cg)->dfd;
        for (size_t i = 0; i < cg->n_h; i++)
                if (cg->h[i].aux)
                        return cg->h[i].dfd;
        return -1;
}

/* ---- create / destroy ---- */

/* Remove plain files a unit test's fake tree gained from our writes, so rmdir can work there. */
static void fake_clear(const char *dir)
{
        DIR *d = opendir(dir);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_type == DT_REG)
                        unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
}

/* rmdir, waiting while exited processes drain out of the cgroup (EBUSY), until *deadline
 * (monotonic ns; one budget of about a second shared by every hierarchy of one destroy). */
static int rmdir_wait(struct moat_cgroup *cg, const char *dir, unsigned long long *deadline)
{
        if (cg->fake)
                fake_clear(dir);
        long delay = 1000000L;
        for (;;) {
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        return -errno;
                unsigned long long now = moat_now_ns();
                if (*deadline == 0)
                        *deadline = now + 1000000000ULL;
                if (now >= *deadline)
                        return -EBUSY;
                sleep_ns(delay);
                if (delay < 64000000L)
                        delay *= 2;
        }
}

static void rollback(struct moat_cgroup *cg)
{
        unsigned long long deadline = 0;
        for (size_t i = 0; i < cg->n_h; i++) {
                struct cg_hier *h = &cg->h[i];
                closep(&h->dfd);
                h->dfd = -1;
                if (h->created)
                        (void) rmdir_wait(cg, h->dir, &deadline);
                h->created = false;
                for (size_t j = h->n_made; j-- > 0;) {
                        if (cg->fake)
                                fake_clear(h->made[j]);
                        (void) rmdir(h->made[j]); /* fails harmlessly if another container moved in */
                }
        }
}

static int make_ancestors(struct cg_hier *h, size_t base_len, struct moat_error *err);

/* mkdir the leaf; on ENOENT make the missing ancestors first, remembering them for rollback.
 * An existing leaf is refused: it is not ours, so we could neither limit nor remove it safely. */
static int make_leaf(struct cg_hier *h, size_t base_len, struct moat_error *err)
{
        if (mkdir(h->dir, 0755) == 0) {
                h->created = true;
                return 0;
        }
        if (errno == EEXIST)
                return moat_error_set(err, EEXIST, "create cgroup %s", h->dir);
        if (errno != ENOENT)
                return moat_error_set(err, errno, "create cgroup %s", h->dir);
        for (int attempt = 0;; attempt++) {
                int r = make_ancestors(h, base_len, err);
                if (r < 0)
                        return r;
                if (mkdir(h->dir, 0755) == 0)
                        break;
                /* ENOENT: a racing create's rollback removed a shared ancestor; make it again */
                if (errno != ENOENT || attempt == 3)
                        return moat_error_set(err, errno, "create cgroup %s", h->dir);
        }
        h->created = true;
        return 0;
}

static int make_ancestors(struct cg_hier *h, size_t base_len, struct moat_error *err)
{
        _cleanup_free_ char *p = xstrdup(h->dir);
        for (char *s = p + base_len + 1; (s = strchr(s, '/')); s++) {
                *s = '\0';
                if (mkdir(p, 0755) == 0) {
                        h->made = xrealloc(h->made, sizeof(char *) * (h->n_made + 2));
                        h->made[h->n_made++] = xstrdup(p);
                        h->made[h->n_made] = NULL;
                } else if (errno != EEXIST) {
                        return moat_error_set(err, errno, "create cgroup %s", p);
                }
                *s = '/';
        }
        return 0;
}

static bool blank(const char *s) { return s[strspn(s, " \t\n")] == '\0'; }

/* v1 cpuset: a new cpuset cgroup starts with empty cpus/mems and no task may join it until they
 * are set. Walk up from the leaf to the nearest ancestor that has both (ancestors this create made
 * are known empty and not read), then copy its values down level by level. An empty ancestor made
 * by someone else (a racing create, another tool) is filled too: nobody can be in it as it is. */
static int v1_cpuset_init(struct moat_cgroup *cg, struct cg_hier *h, size_t base_len, struct moat_error *err)
{
        static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
        char val[2][4096];
        char *levels[64];
        size_t n = 0;
        _cleanup_free_ char *p = xstrdup(h->dir);
        levels[n++] = xstrdup(p);
        int r = 0;
        for (;;) {
                char *slash = strrchr(p, '/');
                if (!slash || (size_t) (slash - p) < base_len) {
                        r = moat_error_set(err, EINVAL, "cpuset %s: no ancestor has cpus and mems", h->dir);
                        goto out;
                }
                *slash = '\0';
                bool made = false;
                for (size_t j = 0; j < h->n_made && !made; j++)
                        made = streq(h->made[j], p);
                if (!made) {
                        struct cg_hier ph = {.dir = p, .dfd = -1};
                        if ((r = cg_read(&ph, files[0], val[0], sizeof val[0], err)) < 0 ||
                            (r = cg_read(&ph, files[1], val[1], sizeof val[1], err)) < 0)
                                goto out;
                        if ((!blank(val[0]) && !blank(val[1])) || strlen(p) <= base_len)
                                break;
                }
                if (n == ARRAY_SIZE(levels)) {
                        r = moat_error_set(err, ELOOP, "cpuset %s: too deep", h->dir);
                        goto out;
                }
                levels[n++] = xstrdup(p);
        }
        while (n > 0 && r == 0) {
                struct cg_hier lh = {.dir = levels[n - 1], .dfd = -1};
                for (int i = 0; i < 2 && r == 0; i++)
                        r = cg_write(cg, &lh, files[i], val[i], err);
                free(levels[--n]);
        }
out:
        while (n > 0)
                free(levels[--n]);
        return r;
}

static bool word_in(const char *list, const char *w)
{
        size_t n = strlen(w);
        for (const char *p = list; *p;) {
                p += strspn(p, " \t\n+");
                size_t m = strcspn(p, " \t\n");
                if (m == n && strncmp(p, w, n) == 0)
                        return true;
                p += m;
        }
        return false;
}

/* v2: make sure every ancestor from the root down to the leaf's parent delegates the controllers
 * Moat uses (as far as the root offers them). Enabling all at once is tried first, one at a time
 * after that; a controller that cannot be enabled surfaces later as a clear write error if a limit
 * needs it. */
int cg_enable_controllers(struct moat_cgroup *cg, struct cg_hier *h, const char *const *wanted, size_t n_wanted,
                          struct moat_error *err)
{
        char avail[1024], cur[1024];
        size_t root_len = strlen(h->dir) - strlen(cg->path);
        /* fast path, no other read: the leaf already has them all (common once "moat" exists) */
        bool have_cur = !cg->fake && cg_read(h, "cgroup.controllers", cur, sizeof cur, NULL) == 0;
        if (have_cur) {
                size_t i;
                for (i = 0; i < n_wanted && word_in(cur, wanted[i]); i++)
                        ;
                if (i == n_wanted)
                        return 0;
        }
        _cleanup_free_ char *hroot = xstrndup(h->dir, root_len);
        struct cg_hier rooth = {.dir = hroot, .dfd = -1};
        if (cg_read(&rooth, "cgroup.controllers", avail, sizeof avail, err) < 0)
                return moat_error_wrap(err, "cgroup v2");
        const char *want[16];
        size_t n_want = 0;
        for (size_t i = 0; i < n_wanted && n_want < ARRAY_SIZE(want); i++)
                if (word_in(avail, wanted[i]))
                        want[n_want++] = wanted[i];
        /* or everything the root offers */
        if (have_cur) {
                size_t i;
                for (i = 0; i < n_want && word_in(cur, want[i]); i++)
                        ;
                if (i == n_want)
                        return 0;
        }
        _cleanup_free_ char *p = xstrdup(h->dir);
        char *s = p + root_len;
        for (;;) {
                *s = '\0';
                struct cg_hier lh = {.dir = p[0] ? p : "/", .dfd = -1};
                bool fresh = false;
                for (size_t j = 0; j < h->n_made; j++)
                        fresh |= streq(h->made[j], p);
                cur[0] = '\0';
                if (!fresh)
                        (void) cg_read(&lh, "cgroup.subtree_control", cur, sizeof cur, NULL);
                char add[256];
                size_t o = 0;
                for (size_t i = 0; i < n_want; i++)
                        if (!word_in(cur, want[i]))
                                o += snprintf(add + o, sizeof add - o, "%s+%s", o ? " " : "", want[i]);
                if (o && cg_write(cg, &lh, "cgroup.subtree_control", add, NULL) < 0) {
                        for (size_t i = 0; i < n_want; i++) {
                                if (word_in(cur, want[i]))
                                        continue;
                                char one[32];
                                snprintf(one, sizeof one, "+%s", want[i]);
                                (void) cg_write(cg, &lh, "cgroup.subtree_control", one, NULL);
                        }
                }
                *s = '/';
                s = strchr(s + 1, '/');
                if (!s)
                        break;
        }
        return 0;
}

int moat_cgroup_create(const char *root, const char *path, const char *id, const struct moat_cgroup_resources *res,
                       struct moat_cgroup **out, struct moat_error *err)
{
        char *rp = NULL;
        int r = resolve_path(path, id, &rp, err);
        if (r < 0)
                return r;
        _cleanup_cgroup_ struct moat_cgroup *cg = NULL;
        r = cg_new(root, rp, &cg, err);
        if (r < 0)
                return r;
        size_t path_len = strlen(cg->path);
        for (size_t i = 0; i < cg->n_h; i++) {
                struct cg_hier *h = &cg->h[i];
                struct moat_error scratch;
                r = make_leaf(h, strlen(h->dir) - path_len, h->aux ? &scratch : err);
                if (r < 0 && h->aux)
                        continue; /* the hybrid cgroup2 view is a courtesy, never a failure */
                if (r < 0)
                        goto fail;
                if (cg->mode == MOAT_CGROUP_V1 && strstr(h->ctls, ",cpuset,")) {
                        r = v1_cpuset_init(cg, h, strlen(h->dir) - path_len, err);
                        if (r < 0)
                                goto fail;
                }
        }
        if (cg->mode == MOAT_CGROUP_V2) {
                struct cg_hier *h = cg_v2(cg);
                h->dfd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (h->dfd < 0) {
                        r = moat_error_set(err, errno, "open cgroup %s", h->dir);
                        goto fail;
                }
                r = cg_enable_controllers(cg, h, v2_wanted, ARRAY_SIZE(v2_wanted), err);
                if (r < 0)
                        goto fail;
        }
        if (res) {
                r = moat_cgroup_apply(cg, res, err);
                if (r < 0)
                        goto fail;
        }
        *out = STEAL(cg);
        return 0;
fail:
        rollback(cg);
        return moat_error_wrap(err, "cgroup %s", cg->path);
}

int moat_cgroup_open(const char *root, const char *path, struct moat_cgroup **out, struct moat_error *err)
{
        if (!path || path[0] != '/')
                return moat_error_set(err, EINVAL, "cgroup: recorded path \"%s\" is not absolute", path ? path : "");
        char *rp = NULL;
        int r = resolve_path(path, NULL, &rp, err);
        if (r < 0)
                return r;
        _cleanup_cgroup_ struct moat_cgroup *cg = NULL;
        r = cg_new(root, rp, &cg, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < cg->n_h; i++)
                cg->h[i].created = true; /* create refuses existing leaves, so a recorded leaf is ours */
        struct cg_hier *h = &cg->h[0];
        if (cg->mode == MOAT_CGROUP_V2) {
                h->dfd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (h->dfd < 0)
                        return moat_error_set(err, errno, "open cgroup %s", h->dir);
        } else {
                struct stat st;
                if (stat(h->dir, &st) < 0)
                        return moat_error_set(err, errno, "open cgroup %s", h->dir);
        }
        *out = STEAL(cg);
        return 0;
}

int moat_cgroup_destroy(struct moat_cgroup *cg, struct moat_error *err)
{
        int ret = 0;
        unsigned long long deadline = 0;
        for (size_t i = 0; i < cg->n_h; i++) {
                struct cg_hier *h = &cg->h[i];
                closep(&h->dfd);
                h->dfd = -1;
                if (!h->created)
                        continue;
                int r = rmdir_wait(cg, h->dir, &deadline);
                if (r < 0 && !h->aux && ret == 0)
                        ret = moat_error_set(err, -r, "remove cgroup %s", h->dir);
                if (r == 0)
                        h->created = false;
        }
        return ret;
}

/* ---- processes ---- */

/* Writing a pid to any cgroup.procs takes the kernel's global threadgroup lock for writing, and
 * the first writer after a quiet spell waits an RCU grace period for it (5-14 ms on these hosts,
 * paid by every runtime that places its child that way). A single thread moving itself (v1
 * `tasks`, value 0) needs no such lock, so the new process joins each v1 hierarchy itself,
 * through files the runtime opened: the kernel checks the opener's credentials, so this works
 * after the child has entered a user namespace. cgroup2 does not let a thread leave its domain,
 * so there clone3(CLONE_INTO_CGROUP) places the process at birth (a read lock), with a write of
 * 0 to cgroup.procs as the fallback on kernels without it. */
int moat_cgroup_join_prepare(struct moat_cgroup *cg, struct moat_error *err)
{
        for (size_t i = 0; i < cg->n_h; i++) {
                struct cg_hier *h = &cg->h[i];
                bool v2 = cg->mode == MOAT_CGROUP_V2 || h->aux;
                if (h->join_fd >= 0 || (h->aux && !h->created))
                        continue;
                if (v2 && h->dfd < 0)
                        h->dfd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                const char *file = v2 ? "cgroup.procs" : "tasks";
                if ((!v2 || h->dfd >= 0) && (h->join_fd = open_ctl(cg, h, file, O_WRONLY)) >= 0)
                        continue;
                if (h->aux && !h->needed) {
                        closep(&h->dfd);
                        h->dfd = -1;
                        continue;
                }
                return moat_error_set(err, errno, "open %s/%s", h->dir, file);
        }
        return 0;
}

int moat_cgroup_join_self(struct moat_cgroup *cg, bool cloned_in, struct moat_error *err)
{
        int clone_fd = moat_cgroup_dirfd(cg);
        int r = 0;
        for (size_t i = 0; i < cg->n_h; i++) {
                struct cg_hier *h = &cg->h[i];
                if (h->join_fd < 0)
                        continue;
                bool placed = cloned_in && h->dfd >= 0 && h->dfd == clone_fd;
                const char *file = h->dfd >= 0 ? "cgroup.procs" : "tasks";
                struct moat_error scratch;
                bool optional = h->aux && !h->needed;
                if (!placed && r == 0) {
                        int w = cg_fd_write(cg, h->join_fd, h, file, "0", optional ? &scratch : err);
                        if (!optional)
                                r = w;
                }
                closep(&h->join_fd);
                h->join_fd = -1;
        }
        return r;
}

void moat_cgroup_join_release(struct moat_cgroup *cg)
{
        for (size_t i = 0; i < cg->n_h; i++) {
                closep(&cg->h[i].join_fd);
                cg->h[i].join_fd = -1;
        }
}

bool moat_cgroup_clone_places_all(const struct moat_cgroup *cg)
{
        return cg->mode == MOAT_CGROUP_V2;
}

int moat_cgroup_apply(struct moat_cgroup *cg, const struct moat_cgroup_resources *res, struct moat_error *err)
{
        if (!res)
                return 0;
        return cg->mode == MOAT_CGROUP_V2 ? cg_v2_apply(cg, res, err) : cg_v1_apply(cg, res, err);
}

int moat_cgroup_stats(struct moat_cgroup *cg, struct moat_cgroup_stats *st, struct moat_error *err)
{
        memset(st, 0, sizeof *st);
        return cg->mode == MOAT_CGROUP_V2 ? cg_v2_stats(cg, st, err) : cg_v1_stats(cg, st, err);
}

static int chown_at(struct cg_hier *h, const char *file, uid_t uid, gid_t gid, bool optional,
                    struct moat_error *err)
{
        char p[PATH_MAX_LEN + 512];
        snprintf(p, sizeof p, "%s%s%s", h->dir, file ? "/" : "", file ? file : "");
        if (lchown(p, uid, gid) < 0 && !(optional && errno == ENOENT))
                return moat_error_set(err, errno, "chown %s to %u:%u", p, (unsigned) uid, (unsigned) gid);
        return 0;
}

int moat_cgroup_chown(struct moat_cgroup *cg, uid_t uid, gid_t gid, struct moat_error *err)
{
        /* the files a delegatee needs (cgroup-v2.rst "Delegation Containment") */
        static const char *const v2_files[] = {"cgroup.procs", "cgroup.threads", "cgroup.subtree_control",
                                               "memory.oom.group", "memory.reclaim"};
        static const char *const v1_files[] = {"cgroup.procs", "tasks"};
        for (size_t i = 0; i < cg->n_h; i++) {
                struct cg_hier *h = &cg->h[i];
                if (h->aux && !h->created)
                        continue;
                bool v2 = cg->mode == MOAT_CGROUP_V2 || h->aux;
                int r = chown_at(h, NULL, uid, gid, false, err);
                const char *const *files = v2 ? v2_files : v1_files;
                size_t n = v2 ? ARRAY_SIZE(v2_files) : ARRAY_SIZE(v1_files);
                for (size_t j = 0; r == 0 && j < n; j++)
                        r = chown_at(h, files[j], uid, gid, j >= 2, err);
                if (r < 0 && !h->aux)
                        return r;
        }
        return 0;
}

/* ---- freezer ---- */

int moat_cgroup_is_frozen(struct moat_cgroup *cg)
{
        char buf[512];
        if (cg->mode == MOAT_CGROUP_V2) {
                uint64_t v = 0;
                if (cg_read(cg_v2(cg), "cgroup.events", buf, sizeof buf, NULL) < 0)
                        return -errno;
                return cg_kv_get(buf, "frozen", &v) && v == 1;
        }
        struct cg_hier *h = cg_hier_for(cg, "freezer");
        if (!h)
                return 0;
        if (cg_read(h, "freezer.state", buf, sizeof buf, NULL) < 0)
                return -errno;
        const char *state = buf;
        if (cg->fake) { /* the fake file logs every write: the last line is the state */
                size_t n = strlen(buf);
                while (n && buf[n - 1] == '\n')
                        buf[--n] = '\0';
                const char *nl = strrchr(buf, '\n');
                state = nl ? nl + 1 : buf;
        }
        return startswith(state, "FROZEN");
}

int moat_cgroup_freeze(struct moat_cgroup *cg, bool frozen, struct moat_error *err)
{
        struct cg_hier *h = cg->mode == MOAT_CGROUP_V2 ? cg_v2(cg) : cg_hier_for(cg, "freezer");
        if (!h)
                return moat_error_set(err, ENOTSUP, "%s cgroup %s: the freezer controller is not mounted under %s",
                                      frozen ? "freeze" : "thaw", cg->path, cg->root);
        const char *file = cg->mode == MOAT_CGROUP_V2 ? "cgroup.freeze" : "freezer.state";
        const char *val = cg->mode == MOAT_CGROUP_V2 ? (frozen ? "1" : "0") : (frozen ? "FROZEN" : "THAWED");
        int r = cg_write(cg, h, file, val, err);
        if (r < 0 || !frozen)
                return r;
        /* Freezing completes asynchronously: wait until every task has stopped. */
        long delay = 100000L;
        for (long waited = 0; waited < 2000000000L; waited += delay) {
                r = moat_cgroup_is_frozen(cg);
                if (r > 0)
                        return 0;
                if (r < 0) {
                        r = moat_error_set(err, -r, "freeze cgroup %s: read state", h->dir);
                        goto thaw;
                }
                sleep_ns(delay);
                if (delay < 16000000L)
                        delay *= 2;
                /* a v1 freeze can stall in FREEZING on a task in an uninterruptible sleep; asking again helps */
                if (cg->mode == MOAT_CGROUP_V1)
                        (void) cg_write(cg, h, file, val, NULL);
        }
        r = moat_error_set(err, ETIMEDOUT, "freeze cgroup %s", h->dir);
thaw:
        (void) cg_write(cg, h, file, cg->mode == MOAT_CGROUP_V2 ? "0" : "THAWED", NULL);
        return r;
}

/* ---- pids and kill ---- */

#define MAX_PIDS (1u << 22)

static int collect_pids(int dfd, const char *dir, int depth, pid_t **pids, size_t *n, size_t *cap,
                        struct moat_error *err)
{
        if (depth > 64)
                return moat_error_set(err, ELOOP, "list processes in %s: cgroup tree too deep", dir);
        _cleanup_free_ char *text = NULL;
        int r = moat_read_file_at(dfd, "cgroup.procs", 64u << 20, &text, NULL, err);
        if (r < 0)
                return moat_error_wrap(err, "list processes in %s", dir);
        for (char *p = text; *p;) {
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p) {
                        p++;
                        continue;
                }
                p = end;
                if (v <= 0)
                        continue;
                if (*n == *cap) {
                        if (*cap >= MAX_PIDS)
                                return moat_error_set(err, E2BIG, "list processes in %s: too many", dir);
                        *cap = *cap ? *cap * 2 : 64;
                        *pids = xrealloc(*pids, sizeof(pid_t) * *cap);
                }
                (*pids)[(*n)++] = (pid_t) v;
        }
        int fd = dup(dfd);
        if (fd < 0)
                return moat_error_set(err, errno, "list processes in %s", dir);
        (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return moat_error_set(err, errno, "list processes in %s", dir);
        }
        rewinddir(d);
        struct dirent *de;
        r = 0;
        while (r == 0 && (de = readdir(d))) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                _cleanup_close_ int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (sub < 0)
                        continue; /* removed meanwhile */
                _cleanup_free_ char *subdir = xasprintf("%s/%s", dir, de->d_name);
                r = collect_pids(sub, subdir, depth + 1, pids, n, cap, err);
        }
        closedir(d);
        return r;
}

int moat_cgroup_pids(struct moat_cgroup *cg, pid_t **pids, size_t *n, struct moat_error *err)
{
        *pids = NULL;
        *n = 0;
        struct cg_hier *h = &cg->h[0];
        if (cg->mode == MOAT_CGROUP_V1) {
                static const char *const pref[] = {"pids", "freezer", "memory"};
                for (size_t i = 0; i < ARRAY_SIZE(pref); i++) {
                        struct cg_hier *c = cg_hier_for(cg, pref[i]);
                        if (c) {
                                h = c;
                                break;
                        }
                }
        }
        _cleanup_close_ int dfd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return moat_error_set(err, errno, "open cgroup %s", h->dir);
        size_t cap = 0;
        int r = collect_pids(dfd, h->dir, 0, pids, n, &cap, err);
        if (r < 0) {
                free(*pids);
                *pids = NULL;
                *n = 0;
        }
        return r;
}

int moat_cgroup_kill_all(struct moat_cgroup *cg, int sig, struct moat_error *err)
{
        if (cg->mode == MOAT_CGROUP_V2 && sig == SIGKILL) {
                int r = cg_write_opt(cg, cg_v2(cg), "cgroup.kill", "1", err);
                if (r != -ENOENT)
                        return r;
        }
        /* Freeze first so no process can fork a child we would miss; without a freezer, signal anyway. */
        struct moat_error ferr;
        bool frozen = moat_cgroup_freeze(cg, true, &ferr) == 0;
        pid_t *pids = NULL;
        size_t n = 0;
        int r = moat_cgroup_pids(cg, &pids, &n, err);
        for (size_t i = 0; r == 0 && i < n; i++)
                if (kill(pids[i], sig) < 0 && errno != ESRCH)
                        r = moat_error_set(err, errno, "kill %d with signal %d", (int) pids[i], sig);
        free(pids);
        if (frozen) {
                int t = moat_cgroup_freeze(cg, false, r < 0 ? &ferr : err);
                if (r == 0 && t < 0)
                        r = t;
        }
        return r;
}
