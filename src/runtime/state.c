/* state: one directory per container under the state root, holding state.json (the OCI state
 * plus what later commands need: the config, the cgroup path, the init's start time) and, while
 * the container is "created", the start socket. Commands that change a container hold an
 * exclusive flock on its directory. */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

bool moat_runtime_id_valid(const char *id)
{
        size_t n = id ? strlen(id) : 0;
        if (n == 0 || n > 1024 || id[0] == '.' || id[0] == '-')
                return false;
        for (const char *c = id; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                      *c == '_' || *c == '+' || *c == '-' || *c == '.'))
                        return false;
        return true;
}

const char *moat_status_name(enum moat_status s)
{
        switch (s) {
        case MOAT_STATUS_CREATING: return "creating";
        case MOAT_STATUS_CREATED: return "created";
        case MOAT_STATUS_RUNNING: return "running";
        case MOAT_STATUS_PAUSED: return "paused";
        default: return "stopped";
        }
}

unsigned long long moat_proc_start_time(pid_t pid)
{
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        char *p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
                return 0;
        /* p+2 is field 3 (state); starttime is field 22 */
        char st = p[2];
        if (st == 'Z' || st == 'X')
                return 0;
        p += 2;
        for (int field = 3; field < 22; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return 0;
                p++;
        }
        return strtoull(p, NULL, 10);
}

static int lock_dir(const char *dir, int *out, struct moat_error *err)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return moat_error_set(err, errno, "open %s", dir);
        if (flock(fd, LOCK_EX) < 0) {
                int e = errno;
                close(fd);
                return moat_error_set(err, e, "lock %s", dir);
        }
        *out = fd;
        return 0;
}

int moat_state_dir_create(const struct moat_runtime *rt, const char *id, struct moat_container *c,
                          struct moat_error *err)
{
        memset(c, 0, sizeof *c);
        c->dirfd = -1;
        if (mkdir(rt->root, 0700) < 0 && errno != EEXIST) {
                if (errno != ENOENT || moat_mkdir_p(rt->root, 0700, err) < 0)
                        return moat_error_set(err, errno, "create state root %s", rt->root);
        }
        c->dir = xasprintf("%s/%s", rt->root, id);
        if (mkdir(c->dir, 0700) < 0) {
                int e = errno;
                free(c->dir);
                c->dir = NULL;
                if (e == EEXIST)
                        return moat_error_set(err, EEXIST, "container with id \"%s\" already exists", id);
                return moat_error_set(err, e, "create state directory for %s", id);
        }
        c->id = xstrdup(id);
        c->state = json_object();
        return lock_dir(c->dir, &c->dirfd, err);
}

static void read_fields(struct moat_container *c)
{
        json_t *s = c->state;
        c->pid = (pid_t) json_integer_value(json_object_get(s, "pid"));
        c->pid_start = (unsigned long long) json_integer_value(json_object_get(s, "pidStartTime"));
        c->bundle = json_string_value(json_object_get(s, "bundle"));
        c->rootfs = json_string_value(json_object_get(s, "rootfs"));
        c->cgroup_path = json_string_value(json_object_get(s, "cgroupPath"));
        c->created = json_string_value(json_object_get(s, "created"));
}

int moat_state_load(const struct moat_runtime *rt, const char *id, struct moat_container *c, struct moat_error *err)
{
        memset(c, 0, sizeof *c);
        c->dirfd = -1;
        if (!moat_runtime_id_valid(id))
                return moat_error_set(err, 0, "invalid container id \"%s\"", id ? id : "");
        c->dir = xasprintf("%s/%s", rt->root, id);
        c->id = xstrdup(id);
        if (lock_dir(c->dir, &c->dirfd, err) < 0) {
                int code = err->code;
                moat_container_release(c);
                if (code == ENOENT)
                        return moat_error_set(err, ENOENT, "container \"%s\" does not exist", id);
                return -code;
        }
        _cleanup_free_ char *buf = NULL;
        size_t len;
        if (moat_read_file_at(c->dirfd, "state.json", 64 << 20, &buf, &len, err) < 0) {
                moat_container_release(c);
                return moat_error_wrap(err, "container \"%s\"", id);
        }
        json_error_t jerr;
        c->state = json_loadb(buf, len, 0, &jerr);
        if (!c->state || !json_is_object(c->state)) {
                moat_container_release(c);
                return moat_error_set(err, EIO, "container \"%s\": corrupt state file: %s", id, jerr.text);
        }
        read_fields(c);
        return 0;
}

int moat_state_save(struct moat_container *c, struct moat_error *err)
{
        _cleanup_free_ char *s = json_dumps(c->state, JSON_COMPACT);
        if (!s)
                return moat_error_set(err, ENOMEM, "serialise state");
        /* runtime state means nothing after a reboot: atomic rename, no fsync (a /run on disk
         * would pay milliseconds per create for nothing) */
        _cleanup_free_ char *path = xasprintf("%s/state.json", c->dir);
        int r = moat_write_file_replace(path, s, strlen(s), 0600, err);
        if (r == 0)
                read_fields(c);
        return r;
}

void moat_container_release(struct moat_container *c)
{
        if (c->dirfd >= 0)
                close(c->dirfd);
        c->dirfd = -1;
        json_decref(c->state);
        c->state = NULL;
        free(c->dir);
        free(c->id);
        c->dir = c->id = NULL;
}

int moat_container_cgroup(const struct moat_runtime *rt, struct moat_container *c, struct moat_cgroup **cg,
                          struct moat_error *err)
{
        *cg = NULL;
        if (!c->cgroup_path || !*c->cgroup_path)
                return 0;
        return moat_cgroup_open(rt->cgroup_root, c->cgroup_path, cg, err);
}

enum moat_status moat_container_status(struct moat_container *c, const struct moat_runtime *rt)
{
        if (c->pid <= 0)
                return json_is_true(json_object_get(c->state, "creating")) ? MOAT_STATUS_CREATING
                                                                             : MOAT_STATUS_STOPPED;
        unsigned long long st = moat_proc_start_time(c->pid);
        if (st == 0 || st != c->pid_start)
                return MOAT_STATUS_STOPPED;
        if (faccessat(c->dirfd, "start.sock", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return MOAT_STATUS_CREATED;
        struct moat_cgroup *cg = NULL;
        struct moat_error e;
        if (moat_container_cgroup(rt, c, &cg, &e) == 0 && cg) {
                int frozen = moat_cgroup_is_frozen(cg);
                moat_cgroup_free(cg);
                if (frozen > 0)
                        return MOAT_STATUS_PAUSED;
        }
        return MOAT_STATUS_RUNNING;
}

/* The owner is whoever owns the state directory, by name (runc shows the same). */
static const char *owner_of(struct moat_container *c)
{
        static char name[64];
        struct stat st;
        if (c->dirfd < 0 || fstat(c->dirfd, &st) < 0)
                return "";
        /* /etc/passwd read directly: the runtime is static and must not load NSS modules */
        snprintf(name, sizeof name, "#%u", (unsigned) st.st_uid);
        _cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
        char line[1024];
        while (f && fgets(line, sizeof line, f)) {
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                unsigned long long uid;
                char *c3 = strchr(c2 + 1, ':');
                if (!c3)
                        continue;
                *c3 = '\0';
                if (moat_parse_uint64(c2 + 1, &uid) == 0 && uid == st.st_uid) {
                        *c1 = '\0';
                        snprintf(name, sizeof name, "%s", line);
                        break;
                }
        }
        return name;
}

json_t *moat_container_oci_state(struct moat_container *c, enum moat_status st)
{
        json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s}", "ociVersion", "1.2.0", "id", c->id, "status",
                              moat_status_name(st), "pid", (json_int_t)(st == MOAT_STATUS_STOPPED ? 0 : c->pid),
                              "bundle", c->bundle ? c->bundle : "", "rootfs", c->rootfs ? c->rootfs : "", "created",
                              c->created ? c->created : "", "owner", owner_of(c));
        json_t *ann = json_object_get(c->state, "annotations");
        if (ann)
                json_object_set(o, "annotations", ann);
        return o;
}

int moat_state_remove(struct moat_container *c, struct moat_error *err)
{
        return moat_rm_rf(c->dir, err);
}
