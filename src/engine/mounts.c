/* mounts: what a container gets mounted besides its root filesystem, from four sources — `-v`,
 * `--tmpfs`, `--mount` and the image's Volumes — parsed into one list (struct moat_mount_req),
 * then resolved (named volumes created on first use, anonymous ones made and filled from the
 * image) and turned into OCI mounts and docker's inspect fields by config.c. One path for all
 * four, so a check made for one (no bind of the host's /, clean targets) holds for all. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "engine/internal.h"

void moat_mount_reqs_free(struct moat_mount_req *m, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(m[i].source);
                free(m[i].target);
                free(m[i].propagation);
                free(m[i].spec);
        }
        free(m);
}

/* "/a//b/./c/" -> "/a/b/c"; NULL for a relative path, "..", or "/" itself */
char *moat_engine_clean_path(const char *t)
{
        if (!t || t[0] != '/')
                return NULL;
        _cleanup_free_ char *copy = xstrdup(t);
        char *out = xzalloc(strlen(t) + 2), *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (streq(c, "."))
                        continue;
                if (streq(c, "..")) {
                        free(out);
                        return NULL;
                }
                strcat(out, "/");
                strcat(out, c);
        }
        if (!out[0]) {
                free(out);
                return NULL;
        }
        return out;
}

static bool is_propagation(const char *s)
{
        static const char *const v[] = { "shared", "rshared", "slave", "rslave", "private", "rprivate" };
        for (size_t i = 0; i < ARRAY_SIZE(v); i++)
                if (streq(s, v[i]))
                        return true;
        return false;
}

static struct moat_mount_req *add(struct moat_mount_req **v, size_t *n, enum moat_mount_type type, const char *flag,
                                  const char *spec)
{
        *v = xrealloc(*v, sizeof **v * (*n + 1));
        struct moat_mount_req *m = &(*v)[(*n)++];
        memset(m, 0, sizeof *m);
        m->type = type;
        m->flag = flag;
        m->spec = spec ? xstrdup(spec) : NULL;
        m->tmpfs_mode = -1;
        return m;
}

/* shared and rshared are refused: the runtime keeps the container's root a slave of the host, so
 * mounts made in the container would not reach the host as docker's rshared promises */
static int check_propagation(struct moat_mount_req *m, const char *p, struct moat_error *err)
{
        if (streq(p, "shared") || streq(p, "rshared"))
                return moat_error_set(err, 0, "%s %s: propagation %s is not supported yet (mounts made in the "
                                              "container do not reach the host); use slave, rslave, private or "
                                              "rprivate", m->flag, m->spec, p);
        m->propagation = xstrdup(p);
        return 0;
}

/* A bind's host side: absolute, existing, and not the host's / by any name (a symlink to / is /).
 * The canonical path is what gets mounted, so a symlink swapped after create changes nothing. */
static int bind_source(struct moat_mount_req *m, const char *src, struct moat_error *err)
{
        if (!src || !*src)
                return moat_error_set(err, 0, "%s %s: a bind mount needs a source", m->flag, m->spec);
        if (src[0] != '/')
                return moat_error_set(err, 0, "%s %s: the bind source \"%s\" must be an absolute path", m->flag,
                                      m->spec, src);
        char real[PATH_MAX];
        if (!realpath(src, real)) {
                if (errno == ENOENT)
                        return moat_error_set(err, 0, "%s %s: bind source path does not exist: %s", m->flag, m->spec,
                                              src);
                return moat_error_set(err, errno, "%s %s: bind source path %s", m->flag, m->spec, src);
        }
        if (streq(real, "/"))
                return moat_error_set(err, EPERM, "%s %s: binding the host's / into a container is refused", m->flag,
                                      m->spec);
        m->source = xstrdup(real);
        return 0;
}

static int volume_source(struct moat_mount_req *m, const char *src, struct moat_error *err)
{
        if (!src || !*src) {
                m->anonymous = true;
                return 0;
        }
        if (!moat_engine_name_valid(src))
                return moat_error_set(err, 0, "%s %s: \"%s\" is not a valid volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]) "
                                              "nor an absolute host path", m->flag, m->spec, src);
        m->source = xstrdup(src);
        return 0;
}

static int set_target(struct moat_mount_req *m, const char *t, struct moat_error *err)
{
        if (!t || !*t)
                return moat_error_set(err, 0, "%s %s: the target (destination in the container) is required", m->flag,
                                      m->spec);
        m->target = moat_engine_clean_path(t);
        if (!m->target)
                return moat_error_set(err, 0, "%s %s: the target \"%s\" must be an absolute path other than / "
                                              "without \"..\"", m->flag, m->spec, t);
        return 0;
}

size_t moat_engine_split_colons(char *s, char *part[4])
{
        size_t k = 0;
        memset(part, 0, sizeof(char *) * 4);
        for (char *p = s; p && k < 4; k++) {
                part[k] = p;
                p = strchr(p, ':');
                if (p)
                        *p++ = '\0';
        }
        return k;
}

/* -v SRC:DEST[:OPTS] | -v NAME:DEST[:OPTS] | -v DEST (an anonymous volume) */
static int parse_volume_flag(const char *spec, struct moat_mount_req **v, size_t *n, struct moat_error *err)
{
        _cleanup_free_ char *s = xstrdup(spec);
        char *part[4];
        size_t k = moat_engine_split_colons(s, part);
        if (k > 3 || !part[0][0])
                return moat_error_set(err, 0, "-v %s: invalid volume specification (SRC:DEST[:OPTS] or DEST)", spec);
        const char *src = k >= 2 ? part[0] : NULL, *dst = k >= 2 ? part[1] : part[0], *opts = k == 3 ? part[2] : NULL;
        bool bind = src && src[0] == '/';
        struct moat_mount_req *m = add(v, n, bind ? MOAT_MOUNT_REQ_BIND : MOAT_MOUNT_REQ_VOLUME, "-v", spec);
        int r = set_target(m, dst, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *o = xstrdup(opts ? opts : "");
        char *save = NULL;
        for (char *p = strtok_r(o, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
                if (streq(p, "ro") || streq(p, "rw"))
                        m->ro = streq(p, "ro");
                else if (streq(p, "nocopy") && !bind)
                        m->nocopy = true;
                else if (is_propagation(p) && bind) {
                        if ((r = check_propagation(m, p, err)) < 0)
                                return r;
                } else
                        return moat_error_set(err, 0, "-v %s: option \"%s\" is not supported (ro, rw; nocopy for a "
                                                      "volume; a propagation for a bind)", spec, p);
        }
        return bind ? bind_source(m, src, err) : volume_source(m, src, err);
}

/* --tmpfs DEST[:OPTIONS]: options are added to nosuid,nodev,noexec (exec, suid or dev undo one, as
 * with docker); they are passed to the kernel as the tmpfs's data. */
static int parse_tmpfs_flag(const char *spec, struct moat_mount_req **v, size_t *n, struct moat_error *err)
{
        _cleanup_free_ char *t = xstrdup(spec);
        char *opt = strchr(t, ':');
        if (opt)
                *opt++ = '\0';
        struct moat_mount_req *m = add(v, n, MOAT_MOUNT_REQ_TMPFS, "--tmpfs", spec);
        int r = set_target(m, t, err);
        if (r < 0)
                return r;
        if (opt && (strchr(opt, '\n') || strlen(opt) > 1024))
                return moat_error_set(err, 0, "--tmpfs %s: invalid options", spec);
        m->source = opt && *opt ? xstrdup(opt) : NULL; /* a tmpfs has no source: its options live here */
        return 0;
}

static int parse_bool(const char *v, bool *out)
{
        if (!v || streq(v, "true") || streq(v, "1"))
                *out = true;
        else if (streq(v, "false") || streq(v, "0"))
                *out = false;
        else
                return -1;
        return 0;
}

/* --mount type=bind|volume|tmpfs,source=..,target=..,readonly,bind-propagation=..,volume-nocopy,
 * tmpfs-size=..,tmpfs-mode=.. (docker's keys and their aliases) */
static int parse_mount_flag(const char *spec, struct moat_mount_req **v, size_t *n, struct moat_error *err)
{
        static const char *const later[] = { "bind-nonrecursive", "bind-recursive", "volume-driver", "volume-label",
                                             "volume-opt", "volume-subpath", "tmpfs-options", "consistency",
                                             "image-subpath", "bind-create-src" };
        _cleanup_free_ char *s = xstrdup(spec);
        const char *type = "volume", *src = NULL, *dst = NULL, *prop = NULL, *size = NULL, *mode = NULL;
        bool ro = false, nocopy = false, volume_opt = false;
        char *save = NULL;
        for (char *f = strtok_r(s, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
                char *val = strchr(f, '=');
                if (val)
                        *val++ = '\0';
                bool *flag = streq(f, "readonly") || streq(f, "ro") ? &ro : streq(f, "volume-nocopy") ? &nocopy : NULL;
                if (flag) {
                        if (parse_bool(val, flag) < 0)
                                return moat_error_set(err, 0, "--mount %s: invalid value for %s: \"%s\"", spec, f, val);
                        volume_opt |= flag == &nocopy;
                        continue;
                }
                for (size_t i = 0; i < ARRAY_SIZE(later); i++)
                        if (streq(f, later[i]))
                                return moat_error_set(err, 0, "--mount %s: the option %s is not supported yet",
                                                      spec, f);
                if (!val)
                        return moat_error_set(err, 0, "--mount %s: invalid field \"%s\": must be a key=value pair",
                                              spec, f);
                if (streq(f, "type"))
                        type = val;
                else if (streq(f, "source") || streq(f, "src"))
                        src = val;
                else if (streq(f, "target") || streq(f, "destination") || streq(f, "dst"))
                        dst = val;
                else if (streq(f, "bind-propagation"))
                        prop = val;
                else if (streq(f, "tmpfs-size"))
                        size = val;
                else if (streq(f, "tmpfs-mode"))
                        mode = val;
                else
                        return moat_error_set(err, 0, "--mount %s: unknown option \"%s\"", spec, f);
        }
        enum moat_mount_type t;
        if (streq(type, "bind"))
                t = MOAT_MOUNT_REQ_BIND;
        else if (streq(type, "volume"))
                t = MOAT_MOUNT_REQ_VOLUME;
        else if (streq(type, "tmpfs"))
                t = MOAT_MOUNT_REQ_TMPFS;
        else if (streq(type, "npipe") || streq(type, "cluster") || streq(type, "image"))
                return moat_error_set(err, 0, "--mount %s: mount type \"%s\" is not supported", spec, type);
        else
                return moat_error_set(err, 0, "--mount %s: unknown mount type \"%s\" (bind, volume or tmpfs)", spec,
                                      type);
        struct moat_mount_req *m = add(v, n, t, "--mount", spec);
        m->ro = ro;
        m->nocopy = nocopy;
        int r = set_target(m, dst, err);
        if (r < 0)
                return r;
        if (prop && t != MOAT_MOUNT_REQ_BIND)
                return moat_error_set(err, 0, "--mount %s: bind-propagation is only for type=bind", spec);
        if (volume_opt && t != MOAT_MOUNT_REQ_VOLUME)
                return moat_error_set(err, 0, "--mount %s: volume-nocopy is only for type=volume", spec);
        if ((size || mode) && t != MOAT_MOUNT_REQ_TMPFS)
                return moat_error_set(err, 0, "--mount %s: tmpfs-size and tmpfs-mode are only for type=tmpfs", spec);
        switch (t) {
        case MOAT_MOUNT_REQ_BIND:
                if (prop && !is_propagation(prop))
                        return moat_error_set(err, 0, "--mount %s: invalid bind-propagation \"%s\" (shared, slave, "
                                                      "private, rshared, rslave or rprivate)", spec, prop);
                if (prop && (r = check_propagation(m, prop, err)) < 0)
                        return r;
                return bind_source(m, src, err);
        case MOAT_MOUNT_REQ_VOLUME:
                return volume_source(m, src, err);
        case MOAT_MOUNT_REQ_TMPFS:
                if (src && *src)
                        return moat_error_set(err, 0, "--mount %s: a tmpfs has no source", spec);
                if (size && (moat_parse_bytes(size, &m->tmpfs_size) < 0 || m->tmpfs_size <= 0))
                        return moat_error_set(err, 0, "--mount %s: invalid tmpfs-size \"%s\"", spec, size);
                if (mode) {
                        char *end;
                        errno = 0;
                        long md = strtol(mode, &end, 8);
                        if (errno || *end || end == mode || md < 0 || md > 07777)
                                return moat_error_set(err, 0, "--mount %s: invalid tmpfs-mode \"%s\" (octal)", spec,
                                                      mode);
                        m->tmpfs_mode = (int) md;
                }
                return 0;
        }
        return 0;
}

static int by_depth(const void *a, const void *b)
{
        const struct moat_mount_req *x = a, *y = b;
        size_t dx = 0, dy = 0;
        for (const char *p = x->target; *p; p++)
                dx += *p == '/';
        for (const char *p = y->target; *p; p++)
                dy += *p == '/';
        return dx < dy ? -1 : dx > dy ? 1 : (x < y ? -1 : x > y);
}

static bool target_taken(const struct moat_mount_req *v, size_t n, const char *t)
{
        for (size_t k = 0; k < n; k++)
                if (streq(v[k].target, t))
                        return true;
        return false;
}

/* --volumes-from CONTAINER[:ro|:rw]: the container's volumes (named or anonymous: the same volume)
 * and binds (checked again, as a new -v would be) at the same targets, read-write as they were
 * unless :ro or :rw says otherwise; not its tmpfs mounts. A target the user mounted something on
 * keeps the user's mount. */
static int parse_volumes_from(struct moat_engine *e, const char *spec, struct moat_mount_req **v, size_t *n,
                              struct moat_error *err)
{
        _cleanup_free_ char *name = xstrdup(spec);
        char *mode = strrchr(name, ':');
        if (mode) {
                *mode++ = '\0';
                if (!streq(mode, "ro") && !streq(mode, "rw"))
                        return moat_error_set(err, 0, "--volumes-from %s: invalid mode \"%s\" (ro or rw)", spec, mode);
        }
        if (!e)
                return moat_error_set(err, 0, "--volumes-from %s: no engine to look the container up in", spec);
        struct moat_container_info c;
        int r = moat_engine_get(e, name, &c, err);
        if (r < 0)
                return moat_error_wrap(err, "--volumes-from %s", spec);
        size_t i;
        json_t *mt;
        size_t first = *n;
        json_array_foreach(json_object_get(c.config, "Mounts"), i, mt)
        {
                const char *type = json_string_value(json_object_get(mt, "Type"));
                const char *dst = json_string_value(json_object_get(mt, "Destination"));
                const char *src = json_string_value(json_object_get(mt, json_is_string(json_object_get(mt, "Name"))
                                                                                ? "Name"
                                                                                : "Source"));
                const char *prop = json_string_value(json_object_get(mt, "Propagation"));
                bool bind = type && streq(type, "bind");
                if (!type || !dst || !src || (!bind && !streq(type, "volume")) || target_taken(*v, first, dst))
                        continue;
                _cleanup_free_ char *what = xasprintf("%s (%s:%s)", name, src, dst);
                struct moat_mount_req *m = add(v, n, bind ? MOAT_MOUNT_REQ_BIND : MOAT_MOUNT_REQ_VOLUME,
                                               "--volumes-from", what);
                m->inherited = true;
                m->ro = mode ? streq(mode, "ro") : !json_is_true(json_object_get(mt, "RW"));
                m->nocopy = true; /* another container's volume is used as it is */
                if ((r = set_target(m, dst, err)) < 0)
                        break;
                if (bind && prop && !streq(prop, "rprivate") && (r = check_propagation(m, prop, err)) < 0)
                        break;
                if ((r = bind ? bind_source(m, src, err) : volume_source(m, src, err)) < 0)
                        break;
        }
        moat_container_info_clear(&c);
        return r;
}

int moat_mount_reqs_parse(struct moat_engine *e, const struct moat_container_opts *o, json_t *icfg,
                          struct moat_mount_req **out, size_t *n_out, struct moat_error *err)
{
        struct moat_mount_req *v = NULL;
        size_t n = 0;
        int r = 0;
        for (size_t i = 0; r == 0 && o->binds && o->binds[i]; i++)
                r = parse_volume_flag(o->binds[i], &v, &n, err);
        for (size_t i = 0; r == 0 && o->mounts && o->mounts[i]; i++)
                r = parse_mount_flag(o->mounts[i], &v, &n, err);
        for (size_t i = 0; r == 0 && o->tmpfs && o->tmpfs[i]; i++)
                r = parse_tmpfs_flag(o->tmpfs[i], &v, &n, err);
        for (size_t i = 0; r == 0 && i < n; i++)
                for (size_t k = 0; k < i; k++)
                        if (streq(v[i].target, v[k].target)) {
                                r = moat_error_set(err, 0, "Duplicate mount point: %s", v[i].target);
                                break;
                        }
        for (size_t i = 0; r == 0 && o->volumes_from && o->volumes_from[i]; i++)
                r = parse_volumes_from(e, o->volumes_from[i], &v, &n, err);
        /* the image's Volumes: an anonymous volume each, unless the user mounted something there */
        const char *path;
        json_t *val;
        if (r == 0 && json_object_size(json_object_get(icfg, "Volumes")) > 256)
                r = moat_error_set(err, E2BIG, "the image declares more than 256 Volumes");
        json_object_foreach(json_object_get(icfg, "Volumes"), path, val)
        {
                if (r < 0)
                        break;
                _cleanup_free_ char *t = moat_engine_clean_path(path);
                if (!t) {
                        r = moat_error_set(err, 0, "the image's volume \"%s\" is not a clean absolute path", path);
                        break;
                }
                if (target_taken(v, n, t))
                        continue;
                struct moat_mount_req *m = add(&v, &n, MOAT_MOUNT_REQ_VOLUME, "image volume", path);
                m->target = STEAL(t);
                m->anonymous = m->from_image = true;
        }
        if (r < 0) {
                moat_mount_reqs_free(v, n);
                return r;
        }
        /* parents before children, whatever the order of the flags (docker sorts the same way) */
        if (n)
                qsort(v, n, sizeof *v, by_depth);
        *out = v;
        *n_out = n;
        return 0;
}

/* ---- volumes ------------------------------------------------------------------------------- */

static void random_name(char out[65])
{
        unsigned char rnd[32];
        if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
                abort(); /* the kernel's CSPRNG does not fail once initialized */
        for (size_t i = 0; i < 32; i++)
                snprintf(out + 2 * i, 3, "%02x", rnd[i]);
}

static bool dir_empty(const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return false;
        DIR *d = fdopendir(fd);
        if (!d)
                return false;
        fd = -1;
        struct dirent *de;
        bool empty = true;
        while (empty && (de = readdir(d)))
                empty = streq(de->d_name, ".") || streq(de->d_name, "..");
        closedir(d);
        return empty;
}

int moat_mount_reqs_prepare(struct moat_engine *e, struct moat_mount_req *m, size_t n, const char *rootfs,
                            const struct moat_userns *uns, json_t *used, json_t *created, struct moat_error *err)
{
        for (size_t i = 0; i < n; i++) {
                if (m[i].type != MOAT_MOUNT_REQ_VOLUME)
                        continue;
                char gen[65];
                if (m[i].anonymous) {
                        random_name(gen);
                        m[i].source = xstrdup(gen);
                }
                json_t *d = NULL;
                if (m[i].inherited && moat_engine_volume_inspect(e, m[i].source, &d, err) < 0)
                        return moat_error_wrap(err, "%s %s", m[i].flag, m[i].spec);
                json_decref(d);
                json_t *labels = m[i].anonymous ? json_pack("{s:s}", MOAT_VOLUME_ANONYMOUS_LABEL, "") : NULL;
                int r = moat_engine_volume_make(e, m[i].source, labels, err);
                json_decref(labels);
                if (r < 0)
                        return moat_error_wrap(err, "%s %s", m[i].flag, m[i].spec);
                if (r > 0)
                        json_array_append_new(created, json_string(m[i].source));
                json_array_append_new(used, json_string(m[i].source));
                _cleanup_free_ char *data = moat_engine_volume_path(e, m[i].source);
                /* docker's copy-up: a new, empty volume gets what the image has at its target */
                if (!m[i].nocopy && dir_empty(data) &&
                    (r = moat_engine_copy_image_dir(rootfs, m[i].target, data, uns, err)) < 0)
                        return moat_error_wrap(err, "fill volume %s from the image's %s", m[i].source, m[i].target);
        }
        return 0;
}
