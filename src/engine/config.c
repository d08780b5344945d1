/* config: a container's OCI config.json from three sources, in this order of precedence: the
 * user's flags, the image's config (Entrypoint, Cmd, Env, WorkingDir, User, StopSignal), and
 * Moat's secure defaults (moat_spec_default: 11 capabilities, no_new_privs, the default seccomp
 * profile, masked and read-only paths, the device allow list, pids limit 2048). */
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <ctype.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>

#include "engine/internal.h"

static const char *const adjectives[] = {
        "admiring", "agile", "amazing", "bold", "brave", "calm", "clever", "cool", "eager", "elegant",
        "epic", "fervent", "focused", "gallant", "gentle", "happy", "hopeful", "jolly", "keen", "kind",
        "loving", "lucid", "modest", "nifty", "noble", "patient", "quirky", "serene", "sharp", "stoic",
        "tender", "upbeat", "vibrant", "wise", "zealous", "youthful",
};
static const char *const surnames[] = {
        "agnesi", "babbage", "bardeen", "bohr", "curie", "darwin", "dijkstra", "einstein", "euler",
        "fermat", "feynman", "gauss", "goldberg", "hamilton", "hopper", "hypatia", "kepler", "knuth",
        "lamarr", "lovelace", "meitner", "newton", "noether", "pascal", "ritchie", "shannon", "thompson",
        "torvalds", "turing", "wozniak", "yalow", "zuse",
};

char *moat_engine_generate_name(unsigned seed)
{
        return xasprintf("%s_%s", adjectives[seed % ARRAY_SIZE(adjectives)],
                         surnames[(seed / ARRAY_SIZE(adjectives)) % ARRAY_SIZE(surnames)]);
}

static int read_in_root(int rootfd, const char *path, char **out, struct moat_error *err)
{
        struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        int fd = (int) syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        if (fd < 0)
                return -errno;
        /* a FIFO or device in the image must not block or feed us forever: a bounded regular file */
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (4 << 20)) {
                close(fd);
                return moat_error_set(err, 0, "%s: not a regular file of at most 4 MiB", path);
        }
        size_t max = (size_t) st.st_size, len = 0;
        char *buf = xmalloc(max + 1);
        ssize_t n;
        while (len < max && (n = read(fd, buf + len, max - len)) > 0)
                len += (size_t) n;
        buf[len] = '\0';
        *out = buf;
        int r = 0;
        close(fd);
        return r;
}

/* Find name (or numeric id) in a passwd/group file; fields: name:x:id:gid:... */
static int lookup(const char *file, const char *key, long *id, long *gid)
{
        bool numeric = key[strspn(key, "0123456789")] == '\0';
        char *save = NULL;
        for (char *line = strtok_r((char *) file, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[4] = { 0 };
                char *p = line;
                for (int i = 0; i < 4 && p; i++) {
                        f[i] = p;
                        p = strchr(p, ':');
                        if (p)
                                *p++ = '\0';
                }
                if (!f[2])
                        continue;
                bool match = numeric ? streq(f[2], key) : streq(f[0], key);
                if (!match)
                        continue;
                long long v;
                if (moat_parse_int64(f[2], &v) < 0 || v < 0 || v > 0x7fffffff)
                        continue;
                *id = (long) v;
                if (gid) {
                        *gid = -1;
                        if (f[3] && (p = strchr(f[3], ':')))
                                *p = '\0';
                        if (f[3] && moat_parse_int64(f[3], &v) == 0 && v >= 0 && v <= 0x7fffffff)
                                *gid = (long) v;
                }
                return 0;
        }
        return -ENOENT;
}

int moat_engine_resolve_user(const char *rootfs, const char *user, uid_t *uid, gid_t *gid, struct moat_error *err)
{
        *uid = 0;
        *gid = 0;
        if (!user || !*user)
                return 0;
        _cleanup_free_ char *u = xstrdup(user);
        char *g = strchr(u, ':');
        if (g)
                *g++ = '\0';
        _cleanup_close_ int rootfd = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (rootfd < 0)
                return moat_error_set(err, errno, "open %s", rootfs);
        long id = -1, pgid = -1;
        bool unum = u[0] && u[strspn(u, "0123456789")] == '\0';
        struct moat_error e2;
        _cleanup_free_ char *passwd = NULL;
        int r = read_in_root(rootfd, "/etc/passwd", &passwd, &e2);
        if (r == 0 && lookup(passwd, u, &id, &pgid) == 0) {
                /* found */
        } else if (unum) {
                long long v;
                if (moat_parse_int64(u, &v) < 0 || v > 0x7fffffff)
                        return moat_error_set(err, 0, "invalid user \"%s\"", user);
                id = (long) v;
                pgid = 0;
        } else
                return moat_error_set(err, 0, "unable to find user %s: no matching entries in passwd file", u);
        *uid = (uid_t) id;
        *gid = pgid >= 0 ? (gid_t) pgid : 0;
        if (g && *g) {
                long gg = -1;
                _cleanup_free_ char *group = NULL;
                if (read_in_root(rootfd, "/etc/group", &group, &e2) == 0 && lookup(group, g, &gg, NULL) == 0)
                        *gid = (gid_t) gg;
                else if (g[strspn(g, "0123456789")] == '\0') {
                        long long v;
                        if (moat_parse_int64(g, &v) < 0 || v > 0x7fffffff)
                                return moat_error_set(err, 0, "invalid group \"%s\"", g);
                        *gid = (gid_t) v;
                } else
                        return moat_error_set(err, 0, "unable to find group %s: no matching entries in group file", g);
        }
        return 0;
}

static json_t *strv_json(char **v)
{
        json_t *a = json_array();
        for (size_t i = 0; v && v[i]; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

static char *cap_name(const char *c)
{
        char *n = startswith(c, "CAP_") || startswith(c, "cap_") ? xstrdup(c) : xasprintf("CAP_%s", c);
        for (char *p = n; *p; p++)
                *p = (char) toupper((unsigned char) *p);
        return n;
}

static const char *const all_caps[] = {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
        "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
        "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

/* --privileged and ALL mean what this host can give (docker: the engine's own bounding set);
 * all_caps is in capability-number order. */
static void add_all_host_caps(json_t *cur)
{
        json_array_clear(cur);
        for (size_t i = 0; i < ARRAY_SIZE(all_caps); i++)
                if (prctl(PR_CAPBSET_READ, (unsigned long) i, 0, 0, 0) == 1)
                        json_array_append_new(cur, json_string(all_caps[i]));
}

static bool cap_known(const char *c)
{
        for (size_t i = 0; i < ARRAY_SIZE(all_caps); i++)
                if (streq(all_caps[i], c))
                        return true;
        return false;
}

static void caps_set(json_t *caps, json_t *list)
{
        const char *sets[] = { "bounding", "effective", "permitted" };
        for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
                json_object_set(caps, sets[i], list);
}

static int apply_caps(json_t *proc, const struct moat_container_opts *o, struct moat_error *err)
{
        json_t *caps = json_object_get(proc, "capabilities");
        json_t *cur = json_deep_copy(json_object_get(caps, "bounding"));
        if (o->privileged)
                add_all_host_caps(cur);
        for (size_t i = 0; o->cap_drop && o->cap_drop[i]; i++) {
                _cleanup_free_ char *n = cap_name(o->cap_drop[i]);
                if (streq(n, "CAP_ALL")) {
                        json_array_clear(cur);
                        continue;
                }
                if (!cap_known(n)) {
                        json_decref(cur);
                        return moat_error_set(err, 0, "--cap-drop: unknown capability \"%s\"", o->cap_drop[i]);
                }
                for (size_t k = json_array_size(cur); k-- > 0;)
                        if (streq(json_string_value(json_array_get(cur, k)), n))
                                json_array_remove(cur, k);
        }
        for (size_t i = 0; o->cap_add && o->cap_add[i]; i++) {
                _cleanup_free_ char *n = cap_name(o->cap_add[i]);
                if (streq(n, "CAP_ALL")) {
                        add_all_host_caps(cur);
                        continue;
                }
                if (!cap_known(n)) {
                        json_decref(cur);
                        return moat_error_set(err, 0, "--cap-add: unknown capability \"%s\"", o->cap_add[i]);
                }
                bool have = false;
                for (size_t k = 0; k < json_array_size(cur); k++)
                        have |= streq(json_string_value(json_array_get(cur, k)), n);
                if (!have)
                        json_array_append_new(cur, json_string(n));
        }
        caps_set(caps, cur);
        json_decref(cur);
        return 0;
}

static void env_set(json_t *env, const char *kv)
{
        const char *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t) (eq - kv) : strlen(kv);
        for (size_t i = 0; i < json_array_size(env); i++) {
                const char *s = json_string_value(json_array_get(env, i));
                if (s && strncmp(s, kv, klen) == 0 && s[klen] == '=') {
                        json_array_set_new(env, i, json_string(kv));
                        return;
                }
        }
        json_array_append_new(env, json_string(kv));
}

static json_t *mount_json(const char *dest, const char *type, const char *src, const char *const *opts, size_t n)
{
        json_t *o = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(o, json_string(opts[i]));
        return json_pack("{s:s,s:s,s:s,s:o}", "destination", dest, "type", type, "source", src, "options", o);
}

/* docker's merge of --health-* over the image's Healthcheck, and the daemon's checks. *out: NULL
 * when there is none at all; {"Test":["NONE"]} when disabled. Zero fields are left out, as docker
 * shows them. */
static int health_config(const struct moat_container_opts *o, json_t *icfg, json_t **out, struct moat_error *err)
{
        *out = NULL;
        json_t *img = json_object_get(icfg, "Healthcheck");
        bool flags = o->health_cmd || o->health_interval || o->health_timeout || o->health_start_period ||
                     o->health_start_interval || o->health_retries;
        if (o->no_healthcheck) {
                if (flags)
                        return moat_error_set(err, 0, "--no-healthcheck conflicts with --health-* options");
                *out = json_pack("{s:[s]}", "Test", "NONE");
                return 0;
        }
        if (!flags && !json_is_object(img))
                return 0;
        json_t *hc = json_is_object(img) ? json_deep_copy(img) : json_object();
        if (o->health_cmd)
                json_object_set_new(hc, "Test", json_pack("[s,s]", "CMD-SHELL", o->health_cmd));
        const struct {
                const char *key;
                int64_t v;
        } d[] = { { "Interval", o->health_interval }, { "Timeout", o->health_timeout },
                  { "StartPeriod", o->health_start_period }, { "StartInterval", o->health_start_interval } };
        for (size_t i = 0; i < ARRAY_SIZE(d); i++) {
                if (d[i].v)
                        json_object_set_new(hc, d[i].key, json_integer(d[i].v));
                json_t *v = json_object_get(hc, d[i].key);
                if (v && (!json_is_integer(v) || (json_integer_value(v) && json_integer_value(v) < 1000000))) {
                        json_decref(hc);
                        return moat_error_set(err, 0, "%s in Healthcheck cannot be less than 1ms", d[i].key);
                }
                if (v && !json_integer_value(v))
                        json_object_del(hc, d[i].key);
        }
        if (o->health_retries)
                json_object_set_new(hc, "Retries", json_integer(o->health_retries));
        json_t *rv = json_object_get(hc, "Retries");
        if (rv && (!json_is_integer(rv) || json_integer_value(rv) < 0 || json_integer_value(rv) > 1000000)) {
                json_decref(hc);
                return moat_error_set(err, 0, "Retries in Healthcheck cannot be negative");
        }
        if (rv && !json_integer_value(rv))
                json_object_del(hc, "Retries");
        json_t *test = json_object_get(hc, "Test");
        const char *kind = json_string_value(json_array_get(test, 0));
        size_t n = json_array_size(test);
        bool ok = kind && ((streq(kind, "NONE") && n == 1) || (streq(kind, "CMD") && n >= 2) ||
                           (streq(kind, "CMD-SHELL") && n == 2));
        for (size_t i = 1; ok && i < n; i++)
                ok = json_is_string(json_array_get(test, i));
        if (!ok) {
                json_decref(hc);
                if (!test)
                        return moat_error_set(err, 0, "--health-* options need a health check command: give "
                                                      "--health-cmd (the image has no Healthcheck)");
                return moat_error_set(err, 0, "the image's Healthcheck Test must be [\"NONE\"], [\"CMD\", ARG...] "
                                              "or [\"CMD-SHELL\", COMMAND]");
        }
        *out = hc;
        return 0;
}

char *moat_engine_health_arg(json_t *hc, json_t *shell)
{
        json_t *test = json_object_get(hc, "Test");
        const char *kind = json_string_value(json_array_get(test, 0));
        if (!kind || streq(kind, "NONE"))
                return NULL;
        json_t *argv = json_array();
        if (streq(kind, "CMD-SHELL")) {
                /* the image's SHELL, as docker runs CMD-SHELL checks; else /bin/sh -c */
                if (json_is_array(shell) && json_array_size(shell) > 0) {
                        json_array_extend(argv, shell);
                } else {
                        json_array_append_new(argv, json_string("/bin/sh"));
                        json_array_append_new(argv, json_string("-c"));
                }
        }
        for (size_t i = 1; i < json_array_size(test); i++)
                json_array_append(argv, json_array_get(test, i));
        /* docker's defaults for what is not set */
        int64_t iv = json_integer_value(json_object_get(hc, "Interval")),
                to = json_integer_value(json_object_get(hc, "Timeout")),
                sp = json_integer_value(json_object_get(hc, "StartPeriod")),
                si = json_integer_value(json_object_get(hc, "StartInterval")),
                re = json_integer_value(json_object_get(hc, "Retries"));
        json_t *a = json_pack("{s:o,s:I,s:I,s:I,s:I,s:I}", "Test", argv, "Interval", (json_int_t) (iv ? iv : 30000000000),
                              "Timeout", (json_int_t) (to ? to : 30000000000), "StartPeriod", (json_int_t) sp,
                              "StartInterval", (json_int_t) (si ? si : 5000000000), "Retries", (json_int_t) (re ? re : 3));
        char *s = json_dumps(a, JSON_COMPACT);
        json_decref(a);
        return s;
}

static json_t *strv_json_add(json_t *a, const char *s)
{
        json_array_append_new(a, json_string(s));
        return a;
}

/* The OCI mounts of the user's and the image's mount requests, after Moat's own (/proc, /dev...),
 * with docker's two inspect views of them (HostConfig.Mounts for --mount, the top-level Mounts). */
static void add_mounts(struct moat_engine *e, json_t *mounts, const struct moat_mount_req *mr, size_t n,
                       json_t *hc_mounts, json_t *insp, json_t *weak)
{
        for (size_t i = 0; i < n; i++) {
                const struct moat_mount_req *m = &mr[i];
                const char *rw = m->ro ? "ro" : "rw";
                bool from_mount = streq(m->flag, "--mount");
                json_t *hm = json_pack("{s:s,s:b}", "Target", m->target, "ReadOnly", m->ro);
                if (m->type == MOAT_MOUNT_REQ_BIND) {
                        const char *prop = m->propagation ? m->propagation : "rprivate";
                        const char *bo[] = { "rbind", "nosuid", "nodev", rw, prop };
                        json_array_append_new(mounts, mount_json(m->target, "bind", m->source, bo, ARRAY_SIZE(bo)));
                        json_object_update_new(hm, json_pack("{s:s,s:s,s:{s:s}}", "Type", "bind", "Source", m->source,
                                                         "BindOptions", "Propagation", prop));
                        json_array_append_new(insp, json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}", "Type", "bind", "Source",
                                                              m->source, "Destination", m->target, "Mode", "", "RW",
                                                              !m->ro, "Propagation", prop));
                        json_array_append_new(weak, json_pack("s+", m->inherited ? "--volumes-from=" : from_mount ? "--mount=" : "--volume=", m->spec));
                } else if (m->type == MOAT_MOUNT_REQ_VOLUME) {
                        _cleanup_free_ char *path = moat_engine_volume_path(e, m->source);
                        const char *vo[] = { "rbind", "nosuid", "nodev", rw, "rprivate" };
                        json_array_append_new(mounts, mount_json(m->target, "bind", path, vo, ARRAY_SIZE(vo)));
                        json_object_update_new(hm, json_pack("{s:s,s:s,s:{s:b}}", "Type", "volume", "Source",
                                                         m->anonymous ? "" : m->source, "VolumeOptions", "NoCopy",
                                                         m->nocopy));
                        json_array_append_new(insp, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s}", "Type", "volume",
                                                              "Name", m->source, "Source", path, "Destination",
                                                              m->target, "Driver", "local", "Mode", "", "RW", !m->ro,
                                                              "Propagation", ""));
                } else {
                        /* Moat's (and docker's) tmpfs defaults come first; the user's options may undo
                         * one (exec, suid, dev), never silently drop all three */
                        json_t *opts = json_pack("[s,s,s]", "nosuid", "nodev", "noexec");
                        _cleanup_free_ char *uo = m->source ? xstrdup(m->source) : NULL;
                        char *save = NULL;
                        for (char *p = uo ? strtok_r(uo, ",", &save) : NULL; p; p = strtok_r(NULL, ",", &save))
                                strv_json_add(opts, p);
                        if (m->ro)
                                strv_json_add(opts, "ro");
                        if (m->tmpfs_size > 0) {
                                char sz[32];
                                snprintf(sz, sizeof sz, "size=%lld", (long long) m->tmpfs_size);
                                strv_json_add(opts, sz);
                        }
                        if (m->tmpfs_mode >= 0) {
                                char md[32];
                                snprintf(md, sizeof md, "mode=%o", (unsigned) m->tmpfs_mode);
                                strv_json_add(opts, md);
                        }
                        json_array_append_new(mounts, json_pack("{s:s,s:s,s:s,s:o}", "destination", m->target, "type",
                                                                "tmpfs", "source", "tmpfs", "options", opts));
                        json_object_update_new(hm, json_pack("{s:s,s:s,s:{s:I,s:i}}", "Type", "tmpfs", "Source", "",
                                                         "TmpfsOptions", "SizeBytes", (json_int_t) m->tmpfs_size,
                                                         "Mode", m->tmpfs_mode < 0 ? 0 : m->tmpfs_mode));
                        json_array_append_new(insp, json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}", "Type", "tmpfs", "Source",
                                                              "", "Destination", m->target, "Mode", "", "RW", !m->ro,
                                                              "Propagation", ""));
                }
                if (from_mount)
                        json_array_append(hc_mounts, hm);
                json_decref(hm);
        }
}

static bool device_perms_valid(const char *p)
{
        if (!*p || strlen(p) > 3)
                return false;
        for (const char *c = p; *c; c++)
                if (!strchr("rwm", *c) || strchr(c + 1, *c))
                        return false;
        return true;
}

struct device_set {
        json_t *nodes, *rules;
        const char *spec, *perms;
        size_t added;
};

static int add_device(struct device_set *ds, const struct stat *st, const char *path, struct moat_error *err)
{
        if (ds->added >= 1024)
                return moat_error_set(err, E2BIG, "--device %s: more than 1024 devices", ds->spec);
        size_t j;
        json_t *d;
        json_array_foreach(ds->nodes, j, d)
                if (streq(json_string_value(json_object_get(d, "path")), path))
                        return moat_error_set(err, 0, "--device %s: %s is given twice", ds->spec, path);
        const char *type = S_ISCHR(st->st_mode) ? "c" : "b";
        json_int_t maj = (json_int_t) major(st->st_rdev), min = (json_int_t) minor(st->st_rdev);
        json_array_append_new(ds->nodes, json_pack("{s:s,s:s,s:I,s:I,s:i,s:i,s:i}", "path", path, "type", type, "major",
                                                   maj, "minor", min, "fileMode", (int) (st->st_mode & 0777), "uid",
                                                   (int) st->st_uid, "gid", (int) st->st_gid));
        if (ds->rules)
                json_array_append_new(ds->rules, json_pack("{s:b,s:s,s:I,s:I,s:s}", "allow", 1, "type", type, "major",
                                                           maj, "minor", min, "access", ds->perms));
        ds->added++;
        return 0;
}

/* A directory: every device node under it (symlinks and other files skipped, not followed), at
 * the same place under the container path, as docker does for --device /dev/snd. */
static int add_device_dir(struct device_set *ds, const char *host, const char *path, int depth,
                          struct moat_error *err)
{
        if (depth > 8)
                return 0;
        DIR *d = opendir(host);
        if (!d)
                return moat_error_set(err, errno, "--device %s: read %s", ds->spec, host);
        struct dirent *de;
        int r = 0;
        while (r == 0 && (de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                _cleanup_free_ char *h = xasprintf("%s/%s", host, de->d_name);
                _cleanup_free_ char *c = xasprintf("%s/%s", path, de->d_name);
                if (S_ISDIR(st.st_mode))
                        r = add_device_dir(ds, h, c, depth + 1, err);
                else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
                        r = add_device(ds, &st, c, err);
        }
        closedir(d);
        return r;
}

/* --device HOST[:CONTAINER][:PERMS] (docker's parse: a middle part made of rwm is PERMS). The host
 * node is only stat()ed: the runtime makes a node of that type and number in the container's /dev
 * tmpfs, and the cgroup allows exactly PERMS on it. HOST may be a directory of devices. */
static int add_devices(json_t *linux_, const struct moat_container_opts *o, json_t *hc_devices, json_t *weak,
                       struct moat_error *err)
{
        json_t *nodes = json_object_get(linux_, "devices");
        if (!nodes)
                json_object_set_new(linux_, "devices", nodes = json_array());
        struct device_set ds = { .nodes = nodes,
                                 .rules = json_object_get(json_object_get(linux_, "resources"), "devices") };
        for (size_t i = 0; o->devices && o->devices[i]; i++) {
                const char *spec = o->devices[i];
                _cleanup_free_ char *s = xstrdup(spec);
                char *part[4];
                size_t k = moat_engine_split_colons(s, part);
                const char *host = part[0], *cont = NULL, *perms = "rwm";
                if (k == 2 && device_perms_valid(part[1]))
                        perms = part[1];
                else if (k >= 2)
                        cont = part[1];
                if (k == 3)
                        perms = part[2];
                if (k > 3 || !device_perms_valid(perms))
                        return moat_error_set(err, 0, "--device %s: expected HOST[:CONTAINER][:PERMS] with PERMS made "
                                                      "of r, w and m", spec);
                if (host[0] != '/')
                        return moat_error_set(err, 0, "--device %s: the host path must be absolute", spec);
                struct stat st;
                if (stat(host, &st) < 0)
                        return moat_error_set(err, errno, "--device %s: error gathering device information of %s",
                                              spec, host);
                if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISDIR(st.st_mode))
                        return moat_error_set(err, 0, "--device %s: %s is not a character or block device nor a "
                                                      "directory of them", spec, host);
                _cleanup_free_ char *path = moat_engine_clean_path(cont && *cont ? cont : host);
                if (!path || !startswith(path, "/dev/"))
                        return moat_error_set(err, 0, "--device %s: the path in the container must be a clean "
                                                      "absolute path under /dev/", spec);
                ds.spec = spec;
                ds.perms = perms;
                int r = S_ISDIR(st.st_mode) ? add_device_dir(&ds, host, path, 0, err) : add_device(&ds, &st, path, err);
                if (r < 0)
                        return r;
                json_array_append_new(hc_devices, json_pack("{s:s,s:s,s:s}", "PathOnHost", host, "PathInContainer",
                                                            path, "CgroupPermissions", perms));
                json_array_append_new(weak, json_pack("s+", "--device=", spec));
        }
        return 0;
}

/* --init: moat-init, bound read-only (nosuid, nodev) on the container's /dev tmpfs, so nothing is
 * written to the image and a read-only root works; it runs the command as its child. */
static int add_init(json_t *spec, json_t *args, struct moat_error *err)
{
        _cleanup_free_ char *init = moat_engine_find_helper("moat-init", "MOAT_INIT", "init");
        struct stat st;
        if (!init || stat(init, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR))
                return moat_error_set(err, ENOENT, "--init: moat-init was not found beside moat (or in $MOAT_INIT)");
        const char *io[] = { "bind", "ro", "nosuid", "nodev" };
        json_array_append_new(json_object_get(spec, "mounts"),
                              mount_json(MOAT_INIT_PATH, "bind", init, io, ARRAY_SIZE(io)));
        json_array_insert_new(args, 0, json_string("--"));
        json_array_insert_new(args, 0, json_string(MOAT_INIT_PATH));
        return 0;
}

static json_t *sub_object(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);
        if (!json_is_object(v))
                json_object_set_new(o, key, v = json_object());
        return v;
}

static bool cpu_list_valid(const char *s)
{
        size_t n = strlen(s);
        return n > 0 && n <= 256 && strspn(s, "0123456789,-") == n && isdigit((unsigned char) s[0]) &&
               isdigit((unsigned char) s[n - 1]);
}

int moat_engine_set_resources(json_t *res, const struct moat_engine_limits *l, struct moat_error *err)
{
        json_t *mem = json_object_get(res, "memory");
        int64_t limit = l->memory > 0 ? l->memory : (int64_t) json_integer_value(json_object_get(mem, "limit"));
        int64_t swap = (int64_t) json_integer_value(json_object_get(mem, "swap"));
        if (l->memory_swap) {
                if (limit <= 0)
                        return moat_error_set(err, 0, "--memory-swap needs -m/--memory");
                if (l->memory_swap > 0 && l->memory_swap < limit)
                        return moat_error_set(err, 0, "--memory-swap must be at least -m/--memory");
        } else if (l->memory > 0 && swap > 0 && l->memory > swap)
                return moat_error_set(err, 0, "the memory limit must be at most the memory+swap limit already set "
                                              "(%lld): update --memory-swap at the same time", (long long) swap);
        if (l->cpuset_cpus && !cpu_list_valid(l->cpuset_cpus))
                return moat_error_set(err, 0, "--cpuset-cpus %s: expected a list such as 0-2,4", l->cpuset_cpus);
        if (l->cpuset_mems && !cpu_list_valid(l->cpuset_mems))
                return moat_error_set(err, 0, "--cpuset-mems %s: expected a list such as 0-1", l->cpuset_mems);
        if (l->memory > 0)
                json_object_set_new(sub_object(res, "memory"), "limit", json_integer(l->memory));
        if (l->memory_swap)
                json_object_set_new(sub_object(res, "memory"), "swap", json_integer(l->memory_swap));
        if (l->cpu_shares)
                json_object_set_new(sub_object(res, "cpu"), "shares", json_integer((json_int_t) l->cpu_shares));
        if (l->cpus > 0) {
                json_t *cpu = sub_object(res, "cpu");
                json_object_set_new(cpu, "quota", json_integer((json_int_t) (l->cpus * 100000)));
                json_object_set_new(cpu, "period", json_integer(100000));
        }
        if (l->cpuset_cpus)
                json_object_set_new(sub_object(res, "cpu"), "cpus", json_string(l->cpuset_cpus));
        if (l->cpuset_mems)
                json_object_set_new(sub_object(res, "cpu"), "mems", json_string(l->cpuset_mems));
        if (l->pids_limit)
                json_object_set_new(sub_object(res, "pids"), "limit", json_integer(l->pids_limit));
        return 0;
}

int moat_engine_build_spec(struct moat_engine *e, const char *id, const struct moat_container_opts *o,
                           json_t *icfg, const char *rootfs, const struct moat_mount_req *mr, size_t n_mr,
                           json_t **spec_out, json_t **record_out, struct moat_error *err)
{
        json_t *spec = moat_spec_default(false);
        json_t *proc = json_object_get(spec, "process");
        json_t *linux_ = json_object_get(spec, "linux");
        int r;

        /* command: Entrypoint + Cmd; a given --entrypoint drops the image's Cmd (as docker does) */
        json_t *args = json_array();
        json_t *ep = o->entrypoint_set ? strv_json(o->entrypoint) : json_incref(json_object_get(icfg, "Entrypoint"));
        if (o->entrypoint_set && o->entrypoint && o->entrypoint[0] && !o->entrypoint[0][0])
                json_array_clear(ep);
        json_t *cmd = o->cmd ? strv_json(o->cmd)
                             : o->entrypoint_set ? json_array() : json_incref(json_object_get(icfg, "Cmd"));
        if (json_is_array(ep))
                json_array_extend(args, ep);
        if (json_is_array(cmd))
                json_array_extend(args, cmd);
        if (json_array_size(args) == 0) {
                json_decref(ep);
                json_decref(cmd);
                json_decref(args);
                json_decref(spec);
                return moat_error_set(err, 0, "no command specified");
        }
        json_object_set(proc, "args", args);
        json_object_set_new(proc, "terminal", json_boolean(o->tty));

        json_t *env = json_array();
        env_set(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(icfg, "Env"), i, v)
                if (json_is_string(v))
                        env_set(env, json_string_value(v));
        _cleanup_free_ char *hostname = o->hostname ? xstrdup(o->hostname) : xstrndup(id, 12);
        _cleanup_free_ char *hn = xasprintf("HOSTNAME=%s", hostname);
        env_set(env, hn);
        if (o->tty)
                env_set(env, "TERM=xterm");
        for (i = 0; o->env && o->env[i]; i++) {
                if (strchr(o->env[i], '=')) {
                        env_set(env, o->env[i]);
                } else if (getenv(o->env[i])) {
                        _cleanup_free_ char *kv = xasprintf("%s=%s", o->env[i], getenv(o->env[i]));
                        env_set(env, kv);
                }
        }
        json_object_set(proc, "env", env);

        const char *wd = o->workdir ? o->workdir : json_string_value(json_object_get(icfg, "WorkingDir"));
        if (!wd || !*wd)
                wd = "/";
        if (wd[0] != '/') {
                r = moat_error_set(err, 0, "the working directory '%s' is invalid, it needs to be an absolute path", wd);
                goto fail;
        }
        json_object_set_new(proc, "cwd", json_string(wd));

        const char *user = o->user ? o->user : json_string_value(json_object_get(icfg, "User"));
        uid_t uid;
        gid_t gid;
        if ((r = moat_engine_resolve_user(rootfs, user, &uid, &gid, err)) < 0)
                goto fail;
        json_object_set_new(proc, "user", json_pack("{s:i,s:i}", "uid", (int) uid, "gid", (int) gid));

        for (i = 0; o->ulimits && o->ulimits[i]; i++) {
                _cleanup_free_ char *u = xstrdup(o->ulimits[i]);
                char *val = strchr(u, '=');
                if (!val) {
                        r = moat_error_set(err, 0, "--ulimit %s: expected NAME=SOFT[:HARD]", o->ulimits[i]);
                        goto fail;
                }
                *val++ = '\0';
                char *hard = strchr(val, ':');
                if (hard)
                        *hard++ = '\0';
                unsigned long long soft_v, hard_v;
                _cleanup_free_ char *name = xasprintf("RLIMIT_%s", u);
                for (char *q = name; *q; q++)
                        *q = (char) toupper((unsigned char) *q);
                if (moat_rlimit_from_name(name) < 0 || moat_parse_uint64(val, &soft_v) < 0 ||
                    moat_parse_uint64(hard ? hard : val, &hard_v) < 0 || soft_v > hard_v) {
                        r = moat_error_set(err, 0, "--ulimit %s: expected NAME=SOFT[:HARD] with a known name and "
                                                   "SOFT <= HARD", o->ulimits[i]);
                        goto fail;
                }
                json_t *rl = json_object_get(proc, "rlimits");
                if (!rl)
                        json_object_set_new(proc, "rlimits", rl = json_array());
                for (size_t k = json_array_size(rl); k-- > 0;)
                        if (streq(json_string_value(json_object_get(json_array_get(rl, k), "type")), name))
                                json_array_remove(rl, k);
                json_array_append_new(rl, json_pack("{s:s,s:I,s:I}", "type", name, "soft", (json_int_t) soft_v, "hard",
                                                    (json_int_t) hard_v));
        }
        if ((r = apply_caps(proc, o, err)) < 0)
                goto fail;
        if (o->privileged)
                json_object_set_new(proc, "noNewPrivileges", json_false());

        json_object_set_new(spec, "root", json_pack("{s:s,s:b}", "path", rootfs, "readonly", o->read_only));
        json_object_set_new(spec, "hostname", json_string(hostname));

        /* resources */
        json_t *res = json_object_get(linux_, "resources");
        struct moat_engine_limits lim = { o->memory,      o->memory_swap, o->cpu_shares, o->cpus,
                                          o->pids_limit, o->cpuset_cpus,  o->cpuset_mems };
        if ((r = moat_engine_set_resources(res, &lim, err)) < 0)
                goto fail;
        if (o->privileged)
                json_object_set_new(res, "devices", json_pack("[{s:b,s:s}]", "allow", 1, "access", "rwm"));
        json_object_set_new(linux_, "cgroupsPath", json_pack("s+", "/moat/", id));

        if (o->network && streq(o->network, "host")) {
                json_t *ns = json_object_get(linux_, "namespaces");
                for (size_t k = json_array_size(ns); k-- > 0;)
                        if (streq(json_string_value(json_object_get(json_array_get(ns, k), "type")), "network"))
                                json_array_remove(ns, k);
        }
        if (o->privileged || (o->seccomp && streq(o->seccomp, "unconfined"))) {
                json_object_del(linux_, "seccomp");
        } else if (o->seccomp) {
                json_error_t je;
                json_t *prof = json_load_file(o->seccomp, JSON_REJECT_DUPLICATES, &je);
                if (!json_is_object(prof)) {
                        json_decref(prof);
                        r = moat_error_set(err, 0, "--security-opt seccomp=%s: %s", o->seccomp, je.text);
                        goto fail;
                }
                json_object_set_new(linux_, "seccomp", prof);
        }
        if (o->privileged) {
                json_object_set_new(linux_, "maskedPaths", json_array());
                json_object_set_new(linux_, "readonlyPaths", json_array());
        }

        json_t *health = NULL;
        if ((r = health_config(o, icfg, &health, err)) < 0)
                goto fail;
        /* last of the fallible steps: what they build is freed right here when they fail */
        json_t *hc_mounts = json_array(), *insp_mounts = json_array(), *weak = json_array();
        add_mounts(e, json_object_get(spec, "mounts"), mr, n_mr, hc_mounts, insp_mounts, weak);
        json_t *hc_devices = json_array();
        if ((r = add_devices(linux_, o, hc_devices, weak, err)) < 0 ||
            (o->init && (r = add_init(spec, args, err)) < 0)) {
                json_decref(hc_mounts);
                json_decref(insp_mounts);
                json_decref(weak);
                json_decref(hc_devices);
                json_decref(health);
                goto fail;
        }

        json_t *rec = json_pack("{s:s,s:O,s:O,s:O,s:s,s:s,s:b,s:b,s:s?}", "Image", o->image, "Entrypoint",
                                json_is_array(ep) ? ep : json_null(), "Cmd", json_is_array(cmd) ? cmd : json_null(),
                                "Env", env, "WorkingDir", wd, "User", user ? user : "", "Tty", o->tty, "OpenStdin",
                                o->interactive, "Hostname", hostname);
        const char *ss = o->stop_signal ? o->stop_signal : json_string_value(json_object_get(icfg, "StopSignal"));
        json_object_set_new(rec, "StopSignal", json_string(ss ? ss : "SIGTERM"));
        json_object_set_new(rec, "StopTimeout", json_integer(o->stop_timeout >= 0 ? o->stop_timeout : 10));
        if (health)
                json_object_set_new(rec, "Healthcheck", health);
        /* the image's SHELL (docker's Config.Shell): only strings, which CMD-SHELL checks run with */
        json_t *shell = json_object_get(icfg, "Shell");
        bool shell_ok = json_is_array(shell) && json_array_size(shell) > 0 && json_array_size(shell) <= 16;
        for (size_t k = 0; shell_ok && k < json_array_size(shell); k++)
                shell_ok = json_is_string(json_array_get(shell, k));
        if (shell_ok)
                json_object_set(rec, "Shell", shell);
        json_t *hc = json_pack("{s:b,s:b,s:b,s:s,s:I,s:I,s:I,s:o,s:o,s:o,s:o}", "AutoRemove", o->auto_remove,
                               "Privileged", o->privileged, "ReadonlyRootfs", o->read_only, "NetworkMode",
                               o->network ? o->network : "none", "Memory", (json_int_t) o->memory, "NanoCpus",
                               (json_int_t) (o->cpus * 1e9), "PidsLimit",
                               (json_int_t) (o->pids_limit ? o->pids_limit : 2048), "CapAdd", strv_json(o->cap_add),
                               "CapDrop", strv_json(o->cap_drop), "Binds", strv_json(o->binds), "Tmpfs",
                               strv_json(o->tmpfs));
        json_object_set_new(hc, "VolumesFrom", strv_json(o->volumes_from));
        json_t *so = json_array();
        json_array_append_new(so, json_string("no-new-privileges"));
        if (o->privileged || (o->seccomp && streq(o->seccomp, "unconfined")))
                json_array_append_new(so, json_string("seccomp=unconfined"));
        else if (o->seccomp)
                json_array_append_new(so, json_pack("s+", "seccomp=", o->seccomp));
        json_object_set_new(hc, "SecurityOpt", so);
        json_object_set_new(hc, "UsernsMode", json_string("host"));
        json_object_set_new(hc, "MemorySwap", json_integer(o->memory_swap));
        json_object_set_new(hc, "CpuShares", json_integer((json_int_t) o->cpu_shares));
        json_object_set_new(hc, "CpusetCpus", json_string(o->cpuset_cpus ? o->cpuset_cpus : ""));
        json_object_set_new(hc, "CpusetMems", json_string(o->cpuset_mems ? o->cpuset_mems : ""));
        json_object_set_new(hc, "Ulimits", strv_json(o->ulimits));
        const char *rp = o->restart ? o->restart : "no";
        const char *colon = strchr(rp, ':');
        json_object_set_new(hc, "RestartPolicy",
                            json_pack("{s:s%,s:i}", "Name", rp, colon ? (size_t) (colon - rp) : strlen(rp),
                                      "MaximumRetryCount", colon ? atoi(colon + 1) : 0));
        json_object_set_new(hc, "RestartPolicyString", json_string(rp));
        json_object_set_new(hc, "Mounts", hc_mounts);
        json_object_set_new(hc, "Devices", hc_devices);
        json_object_set_new(hc, "Init", json_boolean(o->init));
        json_object_set_new(rec, "HostConfig", hc);
        json_object_set_new(rec, "Mounts", insp_mounts);
        /* what this container gives up of Moat's defaults: shown by inspect, written to the event log
         * (binds and devices were added with their mounts and nodes above) */
        if (o->privileged)
                json_array_append_new(weak, json_string("--privileged"));
        for (i = 0; o->cap_add && o->cap_add[i]; i++)
                json_array_append_new(weak, json_pack("s+", "--cap-add=", o->cap_add[i]));
        if (!o->privileged && o->seccomp)
                json_array_append_new(weak, json_pack("s+", "--security-opt=seccomp=", o->seccomp));
        if (o->network && streq(o->network, "host"))
                json_array_append_new(weak, json_string("--network=host"));
        if ((o->userns && streq(o->userns, "host")) || o->privileged || (o->network && streq(o->network, "host")))
                json_array_append_new(weak, json_string("--userns=host"));
        if (o->pids_limit < 0)
                json_array_append_new(weak, json_string("--pids-limit=-1"));
        json_object_set_new(rec, "Weakenings", weak);
        json_object_set(rec, "Process", proc);

        json_decref(ep);
        json_decref(cmd);
        json_decref(args);
        json_decref(env);
        *spec_out = spec;
        *record_out = rec;
        return 0;
fail:
        json_decref(ep);
        json_decref(cmd);
        json_decref(args);
        json_decref(env);
        json_decref(spec);
        return r;
}
