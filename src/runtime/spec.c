/* spec: parse and validate an OCI runtime-spec config for Linux. Strings are borrowed from the
 * JSON document (kept alive in spec->json); arrays are ours. Every error names its field. */
#include "spec.h"
#include "runtime/landlock.h"

#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#define MOUNT_ATTR__ATIME 0x00000070
#define MOUNT_ATTR_RELATIME 0x00000000
#define MOUNT_ATTR_NOATIME 0x00000010
#define MOUNT_ATTR_STRICTATIME 0x00000020
#define MOUNT_ATTR_NODIRATIME 0x00000080
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif

#define MAX_ARRAY 65536
#define MAX_MOUNTS 4096
#define MAX_IDMAPS 340 /* the kernel's limit for uid_map lines */
#define MAX_HOOKS 256

static const struct {
        const char *oci, *proc;
        int flag;
} ns_table[MOAT_NS_COUNT] = {
        [MOAT_NS_PID] = { "pid", "pid", CLONE_NEWPID },
        [MOAT_NS_NET] = { "network", "net", CLONE_NEWNET },
        [MOAT_NS_MNT] = { "mount", "mnt", CLONE_NEWNS },
        [MOAT_NS_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
        [MOAT_NS_UTS] = { "uts", "uts", CLONE_NEWUTS },
        [MOAT_NS_USER] = { "user", "user", CLONE_NEWUSER },
        [MOAT_NS_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP },
        [MOAT_NS_TIME] = { "time", "time", CLONE_NEWTIME },
};

const char *moat_ns_name(enum moat_ns_type t) { return ns_table[t].oci; }
const char *moat_ns_procname(enum moat_ns_type t) { return ns_table[t].proc; }
int moat_ns_clone_flag(enum moat_ns_type t) { return ns_table[t].flag; }

static const char *const hook_names[MOAT_HOOK_STAGES] = {
        "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};
const char *moat_hook_stage_name(enum moat_hook_stage s) { return hook_names[s]; }

static const struct {
        const char *name;
        int res;
} rlimit_table[] = {
        { "RLIMIT_AS", RLIMIT_AS },           { "RLIMIT_CORE", RLIMIT_CORE },
        { "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_DATA", RLIMIT_DATA },
        { "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_LOCKS", RLIMIT_LOCKS },
        { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
        { "RLIMIT_NICE", RLIMIT_NICE },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
        { "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_RSS", RLIMIT_RSS },
        { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
        { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

int moat_rlimit_from_name(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(rlimit_table); i++)
                if (streq(rlimit_table[i].name, name))
                        return rlimit_table[i].res;
        return -1;
}

/* ---- typed field access; `field` is the dotted name used in errors ---- */

static int want_type(json_t *v, json_type t, const char *field, const char *what, struct moat_error *err)
{
        if (!v || json_typeof(v) != t)
                return moat_error_set(err, 0, "%s: expected %s", field, what);
        return 0;
}

static int get_str(json_t *obj, const char *key, const char *field, bool required, const char **out,
                   struct moat_error *err)
{
        json_t *v = json_object_get(obj, key);
        *out = NULL;
        if (!v || json_is_null(v)) {
                if (required)
                        return moat_error_set(err, 0, "%s: required field is missing", field);
                return 0;
        }
        if (!json_is_string(v))
                return moat_error_set(err, 0, "%s: expected a string", field);
        if (json_string_length(v) > PATH_MAX * 4 || strlen(json_string_value(v)) != json_string_length(v))
                return moat_error_set(err, 0, "%s: string too long or contains NUL", field);
        *out = json_string_value(v);
        return 0;
}

static int get_bool(json_t *obj, const char *key, const char *field, bool *out, struct moat_error *err)
{
        json_t *v = json_object_get(obj, key);
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_boolean(v))
                return moat_error_set(err, 0, "%s: expected true or false", field);
        *out = json_is_true(v);
        return 0;
}

/* returns 1 when present */
static int get_int(json_t *obj, const char *key, const char *field, long long min, long long max, long long *out,
                   struct moat_error *err)
{
        json_t *v = json_object_get(obj, key);
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_integer(v))
                return moat_error_set(err, 0, "%s: expected an integer", field);
        long long x = json_integer_value(v);
        if (x < min || x > max)
                return moat_error_set(err, 0, "%s: %lld is out of range [%lld, %lld]", field, x, min, max);
        *out = x;
        return 1;
}

/* A uint64 that jansson may have stored as a negative json_int_t when it exceeds INT64_MAX is
 * not accepted: OCI values that large do not occur. */
static int get_u64(json_t *obj, const char *key, const char *field, uint64_t *out, struct moat_error *err)
{
        long long v;
        int r = get_int(obj, key, field, 0, LLONG_MAX, &v, err);
        if (r > 0)
                *out = (uint64_t) v;
        return r;
}

/* A NULL-terminated array of borrowed strings. */
static int get_strv(json_t *obj, const char *key, const char *field, bool required, char ***out,
                    struct moat_error *err)
{
        json_t *arr = json_object_get(obj, key);
        *out = NULL;
        if (!arr || json_is_null(arr)) {
                if (required)
                        return moat_error_set(err, 0, "%s: required field is missing", field);
                return 0;
        }
        if (!json_is_array(arr))
                return moat_error_set(err, 0, "%s: expected an array of strings", field);
        size_t n = json_array_size(arr);
        if (n > MAX_ARRAY)
                return moat_error_set(err, 0, "%s: more than %d entries", field, MAX_ARRAY);
        char **v = XNEW(char *, n + 1);
        for (size_t i = 0; i < n; i++) {
                json_t *s = json_array_get(arr, i);
                if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s)) {
                        free(v);
                        return moat_error_set(err, 0, "%s[%zu]: expected a string", field, i);
                }
                v[i] = (char *) json_string_value(s);
        }
        *out = v;
        return 0;
}

static bool path_is_clean_abs(const char *p)
{
        if (p[0] != '/')
                return false;
        for (const char *s = p; *s;) {
                while (*s == '/')
                        s++;
                const char *e = strchrnul(s, '/');
                if (e - s == 2 && s[0] == '.' && s[1] == '.')
                        return false;
                s = e;
        }
        return true;
}

static int parse_idmaps(json_t *arr, const char *field, struct moat_idmap **out, size_t *n, struct moat_error *err)
{
        *out = NULL;
        *n = 0;
        if (!arr || json_is_null(arr))
                return 0;
        if (!json_is_array(arr))
                return moat_error_set(err, 0, "%s: expected an array", field);
        size_t cnt = json_array_size(arr);
        if (cnt > MAX_IDMAPS)
                return moat_error_set(err, 0, "%s: more than %d ranges", field, MAX_IDMAPS);
        struct moat_idmap *m = XNEW(struct moat_idmap, cnt ? cnt : 1);
        for (size_t i = 0; i < cnt; i++) {
                json_t *e = json_array_get(arr, i);
                char f[160];
                snprintf(f, sizeof f, "%s[%zu]", field, i);
                if (want_type(e, JSON_OBJECT, f, "an object", err) < 0)
                        goto fail;
                long long c = -1, h = -1, s = -1;
                char ff[200];
                snprintf(ff, sizeof ff, "%s.containerID", f);
                if (get_int(e, "containerID", ff, 0, UINT32_MAX, &c, err) < 0)
                        goto fail;
                snprintf(ff, sizeof ff, "%s.hostID", f);
                if (get_int(e, "hostID", ff, 0, UINT32_MAX, &h, err) < 0)
                        goto fail;
                snprintf(ff, sizeof ff, "%s.size", f);
                if (get_int(e, "size", ff, 1, UINT32_MAX, &s, err) < 0)
                        goto fail;
                if (c < 0 || h < 0 || s < 0) {
                        moat_error_set(err, 0, "%s: containerID, hostID and size are required", f);
                        goto fail;
                }
                m[i] = (struct moat_idmap){ (uint32_t) c, (uint32_t) h, (uint32_t) s };
        }
        *out = m;
        *n = cnt;
        return 0;
fail:
        free(m);
        return -EINVAL;
}

/* ---- process ---- */

static int parse_user(json_t *u, const char *field, struct moat_user *out, struct moat_error *err)
{
        char f[128];
        if (!u || json_is_null(u))
                return moat_error_set(err, 0, "%s: required field is missing", field);
        if (want_type(u, JSON_OBJECT, field, "an object", err) < 0)
                return -EINVAL;
        long long v;
        snprintf(f, sizeof f, "%s.uid", field);
        int r = get_int(u, "uid", f, 0, UINT32_MAX - 1, &v, err);
        if (r < 0)
                return r;
        if (r == 0)
                return moat_error_set(err, 0, "%s: required field is missing", f);
        out->uid = (uid_t) v;
        snprintf(f, sizeof f, "%s.gid", field);
        r = get_int(u, "gid", f, 0, UINT32_MAX - 1, &v, err);
        if (r < 0)
                return r;
        if (r == 0)
                return moat_error_set(err, 0, "%s: required field is missing", f);
        out->gid = (gid_t) v;
        snprintf(f, sizeof f, "%s.umask", field);
        r = get_int(u, "umask", f, 0, 0777, &v, err);
        if (r < 0)
                return r;
        out->has_umask = r > 0;
        out->umask = (mode_t) v;
        json_t *ag = json_object_get(u, "additionalGids");
        if (ag && !json_is_null(ag)) {
                snprintf(f, sizeof f, "%s.additionalGids", field);
                if (!json_is_array(ag))
                        return moat_error_set(err, 0, "%s: expected an array of integers", f);
                size_t n = json_array_size(ag);
                if (n > 65536)
                        return moat_error_set(err, 0, "%s: more than 65536 groups", f);
                out->additional_gids = XNEW(gid_t, n ? n : 1);
                for (size_t i = 0; i < n; i++) {
                        json_t *g = json_array_get(ag, i);
                        if (!json_is_integer(g) || json_integer_value(g) < 0 ||
                            json_integer_value(g) >= (json_int_t) UINT32_MAX)
                                return moat_error_set(err, 0, "%s[%zu]: expected a gid", f, i);
                        out->additional_gids[i] = (gid_t) json_integer_value(g);
                }
                out->n_additional_gids = n;
        }
        if (json_object_get(u, "username") && !json_is_null(json_object_get(u, "username")))
                return moat_error_set(err, 0, "%s.username: only for Windows; not supported on Linux", field);
        return 0;
}

static int parse_rlimits(json_t *arr, const char *field, struct moat_process *p, struct moat_error *err)
{
        if (!arr || json_is_null(arr))
                return 0;
        if (!json_is_array(arr))
                return moat_error_set(err, 0, "%s: expected an array", field);
        size_t n = json_array_size(arr);
        if (n > 64)
                return moat_error_set(err, 0, "%s: too many entries", field);
        p->rlimits = XNEW(struct moat_rlimit, n ? n : 1);
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(arr, i);
                char f[128], ff[160];
                snprintf(f, sizeof f, "%s[%zu]", field, i);
                if (want_type(e, JSON_OBJECT, f, "an object", err) < 0)
                        return -EINVAL;
                const char *type;
                snprintf(ff, sizeof ff, "%s.type", f);
                if (get_str(e, "type", ff, true, &type, err) < 0)
                        return -EINVAL;
                int res = moat_rlimit_from_name(type);
                if (res < 0)
                        return moat_error_set(err, 0, "%s: unknown rlimit \"%s\"", ff, type);
                for (size_t j = 0; j < i; j++)
                        if (p->rlimits[j].resource == res)
                                return moat_error_set(err, 0, "%s: \"%s\" given twice", ff, type);
                uint64_t soft = 0, hard = 0;
                snprintf(ff, sizeof ff, "%s.soft", f);
                int rs = get_u64(e, "soft", ff, &soft, err);
                if (rs < 0)
                        return rs;
                snprintf(ff, sizeof ff, "%s.hard", f);
                int rh = get_u64(e, "hard", ff, &hard, err);
                if (rh < 0)
                        return rh;
                if (!rs || !rh)
                        return moat_error_set(err, 0, "%s: soft and hard are required", f);
                if (soft > hard)
                        return moat_error_set(err, 0, "%s: soft limit %llu is above the hard limit %llu", f,
                                              (unsigned long long) soft, (unsigned long long) hard);
                p->rlimits[i] = (struct moat_rlimit){ res, soft, hard };
                p->n_rlimits = i + 1;
        }
        return 0;
}

static int refuse_if_set(json_t *obj, const char *key, const char *field, const char *why, struct moat_error *err)
{
        json_t *v = json_object_get(obj, key);
        if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0) ||
            (json_is_object(v) && json_object_size(v) == 0) || (json_is_array(v) && json_array_size(v) == 0))
                return 0;
        return moat_error_set(err, ENOTSUP, "%s: %s", field, why);
}

int moat_spec_parse_process(json_t *proc, const char *field, struct moat_process *p, struct moat_error *err)
{
        char f[128];
        const char *s;
        memset(p, 0, sizeof *p);
        if (want_type(proc, JSON_OBJECT, field, "an object", err) < 0)
                return -EINVAL;
#define F(name) (snprintf(f, sizeof f, "%s." name, field), f)
        if (get_bool(proc, "terminal", F("terminal"), &p->terminal, err) < 0)
                return -EINVAL;
        json_t *cs = json_object_get(proc, "consoleSize");
        if (cs && !json_is_null(cs)) {
                long long v;
                if (want_type(cs, JSON_OBJECT, F("consoleSize"), "an object", err) < 0)
                        return -EINVAL;
                if (get_int(cs, "height", F("consoleSize.height"), 0, 65535, &v, err) < 0)
                        return -EINVAL;
                p->console_height = (unsigned) (json_object_get(cs, "height") ? v : 0);
                if (get_int(cs, "width", F("consoleSize.width"), 0, 65535, &v, err) < 0)
                        return -EINVAL;
                p->console_width = (unsigned) (json_object_get(cs, "width") ? v : 0);
        }
        if (parse_user(json_object_get(proc, "user"), F("user"), &p->user, err) < 0)
                return -EINVAL;
        if (get_strv(proc, "args", F("args"), true, &p->args, err) < 0)
                return -EINVAL;
        if (!p->args[0] || !p->args[0][0])
                return moat_error_set(err, 0, "%s.args: must name a program", field);
        if (json_object_get(proc, "commandLine") && !json_is_null(json_object_get(proc, "commandLine")))
                return moat_error_set(err, 0, "%s.commandLine: only for Windows; not supported on Linux", field);
        if (get_strv(proc, "env", F("env"), false, &p->env, err) < 0)
                return -EINVAL;
        for (size_t i = 0; p->env && p->env[i]; i++)
                if (!strchr(p->env[i], '=') || p->env[i][0] == '=')
                        return moat_error_set(err, 0, "%s.env[%zu]: \"%s\" is not NAME=VALUE", field, i,
                                              p->env[i]);
        if (get_str(proc, "cwd", F("cwd"), true, &s, err) < 0)
                return -EINVAL;
        if (s[0] != '/')
                return moat_error_set(err, 0, "%s.cwd: \"%s\" is not an absolute path", field, s);
        p->cwd = (char *) s;
        json_t *caps = json_object_get(proc, "capabilities");
        if (caps && !json_is_null(caps) && moat_caps_parse(caps, &p->caps, err) < 0)
                return moat_error_wrap(err, "%s.capabilities", field);
        if (parse_rlimits(json_object_get(proc, "rlimits"), F("rlimits"), p, err) < 0)
                return -EINVAL;
        if (get_bool(proc, "noNewPrivileges", F("noNewPrivileges"), &p->no_new_privileges, err) < 0)
                return -EINVAL;
        long long adj;
        int r = get_int(proc, "oomScoreAdj", F("oomScoreAdj"), -1000, 1000, &adj, err);
        if (r < 0)
                return r;
        p->has_oom_score_adj = r > 0;
        p->oom_score_adj = (int) adj;
        if (get_str(proc, "apparmorProfile", F("apparmorProfile"), false, &s, err) < 0)
                return -EINVAL;
        if (s && *s)
                return moat_error_set(err, ENOTSUP, "%s.apparmorProfile: AppArmor is not enabled on this host",
                                      field);
        if (get_str(proc, "selinuxLabel", F("selinuxLabel"), false, &s, err) < 0)
                return -EINVAL;
        if (s && *s)
                return moat_error_set(err, ENOTSUP, "%s.selinuxLabel: SELinux is not enabled on this host", field);
        if (refuse_if_set(proc, "scheduler", F("scheduler"), "not supported by moat-runtime yet", err) < 0 ||
            refuse_if_set(proc, "ioPriority", F("ioPriority"), "not supported by moat-runtime yet", err) < 0 ||
            refuse_if_set(proc, "execCPUAffinity", F("execCPUAffinity"), "not supported by moat-runtime yet",
                          err) < 0)
                return -ENOTSUP;
#undef F
        return 0;
}

void moat_process_free(struct moat_process *p)
{
        free(p->args);
        free(p->env);
        free(p->user.additional_gids);
        free(p->rlimits);
        memset(p, 0, sizeof *p);
}

/* ---- mounts ---- */

struct mount_opt {
        const char *name;
        bool clear;
        unsigned long flag;
};

static const struct mount_opt mount_opts[] = {
        { "ro", false, MS_RDONLY },         { "rw", true, MS_RDONLY },
        { "nosuid", false, MS_NOSUID },     { "suid", true, MS_NOSUID },
        { "nodev", false, MS_NODEV },       { "dev", true, MS_NODEV },
        { "noexec", false, MS_NOEXEC },     { "exec", true, MS_NOEXEC },
        { "sync", false, MS_SYNCHRONOUS },  { "async", true, MS_SYNCHRONOUS },
        { "dirsync", false, MS_DIRSYNC },   { "remount", false, MS_REMOUNT },
        { "mand", false, MS_MANDLOCK },     { "nomand", true, MS_MANDLOCK },
        { "noatime", false, MS_NOATIME },   { "atime", true, MS_NOATIME },
        { "nodiratime", false, MS_NODIRATIME }, { "diratime", true, MS_NODIRATIME },
        { "relatime", false, MS_RELATIME }, { "norelatime", true, MS_RELATIME },
        { "strictatime", false, MS_STRICTATIME }, { "nostrictatime", true, MS_STRICTATIME },
        { "lazytime", false, MS_LAZYTIME }, { "nolazytime", true, MS_LAZYTIME },
        { "silent", false, MS_SILENT },     { "loud", true, MS_SILENT },
        { "nosymfollow", false, MS_NOSYMFOLLOW }, { "symfollow", true, MS_NOSYMFOLLOW },
};

static const struct {
        const char *name;
        unsigned long flag;
} propagation_opts[] = {
        { "shared", MS_SHARED },          { "rshared", MS_SHARED | MS_REC },
        { "slave", MS_SLAVE },            { "rslave", MS_SLAVE | MS_REC },
        { "private", MS_PRIVATE },        { "rprivate", MS_PRIVATE | MS_REC },
        { "unbindable", MS_UNBINDABLE },  { "runbindable", MS_UNBINDABLE | MS_REC },
};

static const struct {
        const char *name;
        bool clear;
        unsigned long attr;
} rec_opts[] = {
        { "rro", false, MOUNT_ATTR_RDONLY },      { "rrw", true, MOUNT_ATTR_RDONLY },
        { "rnosuid", false, MOUNT_ATTR_NOSUID },  { "rsuid", true, MOUNT_ATTR_NOSUID },
        { "rnodev", false, MOUNT_ATTR_NODEV },    { "rdev", true, MOUNT_ATTR_NODEV },
        { "rnoexec", false, MOUNT_ATTR_NOEXEC },  { "rexec", true, MOUNT_ATTR_NOEXEC },
        { "rnodiratime", false, MOUNT_ATTR_NODIRATIME }, { "rdiratime", true, MOUNT_ATTR_NODIRATIME },
        { "rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW }, { "rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW },
};

static int parse_propagation(const char *s, unsigned long *out)
{
        for (size_t i = 0; i < ARRAY_SIZE(propagation_opts); i++)
                if (streq(s, propagation_opts[i].name)) {
                        *out = propagation_opts[i].flag;
                        return 0;
                }
        return -EINVAL;
}

static int parse_mount(json_t *m, const char *field, struct moat_mount *out, struct moat_error *err)
{
        char f[128];
        const char *s;
        if (want_type(m, JSON_OBJECT, field, "an object", err) < 0)
                return -EINVAL;
        snprintf(f, sizeof f, "%s.destination", field);
        if (get_str(m, "destination", f, true, &s, err) < 0)
                return -EINVAL;
        if (!path_is_clean_abs(s))
                return moat_error_set(err, 0, "%s: \"%s\" must be an absolute path without \"..\"", f, s);
        out->destination = (char *) s;
        snprintf(f, sizeof f, "%s.type", field);
        if (get_str(m, "type", f, false, &s, err) < 0)
                return -EINVAL;
        out->type = (char *) s;
        snprintf(f, sizeof f, "%s.source", field);
        if (get_str(m, "source", f, false, &s, err) < 0)
                return -EINVAL;
        out->source = (char *) s;

        _cleanup_free_ char **opts = NULL;
        snprintf(f, sizeof f, "%s.options", field);
        if (get_strv(m, "options", f, false, &opts, err) < 0)
                return -EINVAL;
        size_t datalen = 0;
        _cleanup_free_ char *data = NULL;
        for (size_t i = 0; opts && opts[i]; i++) {
                const char *o = opts[i];
                bool done = false;
                for (size_t k = 0; k < ARRAY_SIZE(mount_opts) && !done; k++)
                        if (streq(o, mount_opts[k].name)) {
                                if (mount_opts[k].clear) {
                                        out->flags &= ~mount_opts[k].flag;
                                        out->clear_flags |= mount_opts[k].flag;
                                } else {
                                        out->flags |= mount_opts[k].flag;
                                        out->clear_flags &= ~mount_opts[k].flag;
                                }
                                done = true;
                        }
                for (size_t k = 0; k < ARRAY_SIZE(rec_opts) && !done; k++)
                        if (streq(o, rec_opts[k].name)) {
                                if (rec_opts[k].clear)
                                        out->rec_attr_clr |= rec_opts[k].attr;
                                else
                                        out->rec_attr_set |= rec_opts[k].attr;
                                done = true;
                        }
                if (done)
                        continue;
                if (parse_propagation(o, &out->propagation) == 0)
                        continue;
                if (streq(o, "bind"))
                        out->ext |= MOAT_MOUNT_BIND;
                else if (streq(o, "rbind"))
                        out->ext |= MOAT_MOUNT_BIND | MOAT_MOUNT_RBIND;
                else if (streq(o, "tmpcopyup"))
                        out->ext |= MOAT_MOUNT_TMPCOPYUP;
                else if (streq(o, "idmap"))
                        out->ext |= MOAT_MOUNT_IDMAP;
                else if (streq(o, "ridmap"))
                        out->ext |= MOAT_MOUNT_IDMAP | MOAT_MOUNT_RIDMAP;
                else if (streq(o, "src-nofollow"))
                        out->ext |= MOAT_MOUNT_SRC_NOFOLLOW;
                else if (strchr(o, '\n') || strchr(o, ','))
                        return moat_error_set(err, 0, "%s[%zu]: invalid option \"%s\"", f, i, o);
                else {
                        size_t l = strlen(o);
                        if (datalen + l + 2 > 4096)
                                return moat_error_set(err, 0, "%s: filesystem options longer than 4096 bytes", f);
                        data = xrealloc(data, datalen + l + 2);
                        if (datalen)
                                data[datalen++] = ',';
                        memcpy(data + datalen, o, l + 1);
                        datalen += l;
                }
        }
        out->data = STEAL(data);

        bool is_bind = out->ext & MOAT_MOUNT_BIND || (out->type && streq(out->type, "bind"));
        if (is_bind)
                out->ext |= MOAT_MOUNT_BIND;
        if (!is_bind && !out->type)
                return moat_error_set(err, 0, "%s.type: required unless the mount is a bind mount", field);
        if (is_bind && !out->source)
                return moat_error_set(err, 0, "%s.source: a bind mount needs a source", field);
        if (out->type && strlen(out->type) > 64)
                return moat_error_set(err, 0, "%s.type: too long", field);
        snprintf(f, sizeof f, "%s.uidMappings", field);
        if (parse_idmaps(json_object_get(m, "uidMappings"), f, &out->uid_mappings, &out->n_uid_mappings, err) < 0)
                return -EINVAL;
        snprintf(f, sizeof f, "%s.gidMappings", field);
        if (parse_idmaps(json_object_get(m, "gidMappings"), f, &out->gid_mappings, &out->n_gid_mappings, err) < 0)
                return -EINVAL;
        if ((out->n_uid_mappings || out->n_gid_mappings) && !(out->ext & MOAT_MOUNT_IDMAP))
                out->ext |= MOAT_MOUNT_IDMAP;
        if ((out->ext & MOAT_MOUNT_IDMAP) && !is_bind)
                return moat_error_set(err, 0, "%s: idmapped mounts are only supported for bind mounts", field);
        if ((out->ext & MOAT_MOUNT_IDMAP) && (!out->n_uid_mappings || !out->n_gid_mappings))
                return moat_error_set(err, 0,
                                      "%s: an idmap mount needs both uidMappings and gidMappings", field);
        return 0;
}

/* ---- hooks, devices, sysctl ---- */

static int parse_hooks(json_t *hooks, struct moat_spec *s, struct moat_error *err)
{
        if (!hooks || json_is_null(hooks))
                return 0;
        if (want_type(hooks, JSON_OBJECT, "hooks", "an object", err) < 0)
                return -EINVAL;
        const char *key;
        json_t *val;
        json_object_foreach(hooks, key, val)
        {
                int stage = -1;
                for (int i = 0; i < MOAT_HOOK_STAGES; i++)
                        if (streq(key, hook_names[i]))
                                stage = i;
                if (stage < 0)
                        return moat_error_set(err, 0, "hooks.%s: unknown hook stage", key);
                if (json_is_null(val))
                        continue;
                if (!json_is_array(val))
                        return moat_error_set(err, 0, "hooks.%s: expected an array", key);
                size_t n = json_array_size(val);
                if (n > MAX_HOOKS)
                        return moat_error_set(err, 0, "hooks.%s: more than %d hooks", key, MAX_HOOKS);
                s->hooks[stage] = XNEW(struct moat_hook, n ? n : 1);
                for (size_t i = 0; i < n; i++) {
                        json_t *h = json_array_get(val, i);
                        struct moat_hook *hk = &s->hooks[stage][i];
                        char f[128], ff[160];
                        snprintf(f, sizeof f, "hooks.%s[%zu]", key, i);
                        if (want_type(h, JSON_OBJECT, f, "an object", err) < 0)
                                return -EINVAL;
                        s->n_hooks[stage] = i + 1;
                        const char *p;
                        snprintf(ff, sizeof ff, "%s.path", f);
                        if (get_str(h, "path", ff, true, &p, err) < 0)
                                return -EINVAL;
                        if (p[0] != '/')
                                return moat_error_set(err, 0, "%s: \"%s\" is not an absolute path", ff, p);
                        hk->path = (char *) p;
                        snprintf(ff, sizeof ff, "%s.args", f);
                        if (get_strv(h, "args", ff, false, &hk->args, err) < 0)
                                return -EINVAL;
                        snprintf(ff, sizeof ff, "%s.env", f);
                        if (get_strv(h, "env", ff, false, &hk->env, err) < 0)
                                return -EINVAL;
                        long long t = 0;
                        snprintf(ff, sizeof ff, "%s.timeout", f);
                        if (get_int(h, "timeout", ff, 1, 86400 * 365, &t, err) < 0)
                                return -EINVAL;
                        hk->timeout = (int) t;
                }
        }
        return 0;
}

static int parse_devices(json_t *arr, struct moat_spec *s, struct moat_error *err)
{
        if (!arr || json_is_null(arr))
                return 0;
        if (!json_is_array(arr))
                return moat_error_set(err, 0, "linux.devices: expected an array");
        size_t n = json_array_size(arr);
        if (n > 4096)
                return moat_error_set(err, 0, "linux.devices: more than 4096 devices");
        s->devices = XNEW(struct moat_device, n ? n : 1);
        for (size_t i = 0; i < n; i++) {
                json_t *d = json_array_get(arr, i);
                struct moat_device *dev = &s->devices[i];
                char f[64], ff[96];
                snprintf(f, sizeof f, "linux.devices[%zu]", i);
                if (want_type(d, JSON_OBJECT, f, "an object", err) < 0)
                        return -EINVAL;
                s->n_devices = i + 1;
                const char *p, *t;
                snprintf(ff, sizeof ff, "%s.path", f);
                if (get_str(d, "path", ff, true, &p, err) < 0)
                        return -EINVAL;
                if (!path_is_clean_abs(p) || !startswith(p, "/dev/") || streq(p, "/dev/"))
                        return moat_error_set(err, 0, "%s: \"%s\" must be a clean path under /dev", ff, p);
                dev->path = (char *) p;
                snprintf(ff, sizeof ff, "%s.type", f);
                if (get_str(d, "type", ff, true, &t, err) < 0)
                        return -EINVAL;
                if (strlen(t) != 1 || !strchr("cbup", t[0]))
                        return moat_error_set(err, 0, "%s: \"%s\" is not one of c, b, u, p", ff, t);
                dev->type = t[0];
                long long v;
                snprintf(ff, sizeof ff, "%s.major", f);
                int rm = get_int(d, "major", ff, 0, 0xfff, &v, err);
                if (rm < 0)
                        return rm;
                dev->major = rm ? v : -1;
                snprintf(ff, sizeof ff, "%s.minor", f);
                int rn = get_int(d, "minor", ff, 0, 0xfffff, &v, err);
                if (rn < 0)
                        return rn;
                dev->minor = rn ? v : -1;
                if (dev->type != 'p' && (!rm || !rn))
                        return moat_error_set(err, 0, "%s: major and minor are required for type %c", f, dev->type);
                snprintf(ff, sizeof ff, "%s.fileMode", f);
                int r = get_int(d, "fileMode", ff, 0, 07777, &v, err);
                if (r < 0)
                        return r;
                dev->has_mode = r > 0;
                dev->mode = (mode_t) v;
                snprintf(ff, sizeof ff, "%s.uid", f);
                r = get_int(d, "uid", ff, 0, UINT32_MAX - 1, &v, err);
                if (r < 0)
                        return r;
                dev->has_uid = r > 0;
                dev->uid = (uid_t) v;
                snprintf(ff, sizeof ff, "%s.gid", f);
                r = get_int(d, "gid", ff, 0, UINT32_MAX - 1, &v, err);
                if (r < 0)
                        return r;
                dev->has_gid = r > 0;
                dev->gid = (gid_t) v;
        }
        return 0;
}

/* Only namespaced sysctls may be set, and only when the container has its own namespace. */
static int check_sysctl(const struct moat_spec *s, const char *key, struct moat_error *err)
{
        for (const char *c = key; *c; c++)
                if (!(*c == '.' || *c == '_' || *c == '-' || *c == '/' || (*c >= 'a' && *c <= 'z') ||
                      (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
                        return moat_error_set(err, 0, "linux.sysctl: invalid key \"%s\"", key);
        if (strstr(key, ".."))
                return moat_error_set(err, 0, "linux.sysctl: invalid key \"%s\"", key);
        static const char *const ipc[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                           "kernel.shmall", "kernel.shmmax", "kernel.shmmni",
                                           "kernel.shm_rmid_forced" };
        for (size_t i = 0; i < ARRAY_SIZE(ipc); i++)
                if (streq(key, ipc[i]))
                        goto need_ipc;
        if (startswith(key, "fs.mqueue."))
                goto need_ipc;
        if (startswith(key, "net.")) {
                if (!s->ns[MOAT_NS_NET].present)
                        return moat_error_set(err, 0,
                                              "linux.sysctl: \"%s\" needs a network namespace of the container's own",
                                              key);
                return 0;
        }
        if (streq(key, "kernel.hostname") || streq(key, "kernel.domainname")) {
                if (!s->ns[MOAT_NS_UTS].present)
                        return moat_error_set(err, 0, "linux.sysctl: \"%s\" needs a uts namespace", key);
                return 0;
        }
        return moat_error_set(err, 0, "linux.sysctl: \"%s\" is not namespaced; setting it would change the host",
                              key);
need_ipc:
        if (!s->ns[MOAT_NS_IPC].present)
                return moat_error_set(err, 0, "linux.sysctl: \"%s\" needs an ipc namespace", key);
        return 0;
}

static int parse_time_offset(json_t *obj, const char *clock, const char *field, int64_t *secs, uint32_t *nsecs,
                             struct moat_error *err)
{
        json_t *c = json_object_get(obj, clock);
        if (!c || json_is_null(c))
                return 0;
        char f[96];
        snprintf(f, sizeof f, "%s.%s", field, clock);
        if (want_type(c, JSON_OBJECT, f, "an object", err) < 0)
                return -EINVAL;
        long long v = 0;
        char ff[128];
        snprintf(ff, sizeof ff, "%s.secs", f);
        if (get_int(c, "secs", ff, -(1LL << 40), 1LL << 40, &v, err) < 0)
                return -EINVAL;
        *secs = v;
        v = 0;
        snprintf(ff, sizeof ff, "%s.nanosecs", f);
        if (get_int(c, "nanosecs", ff, 0, 999999999, &v, err) < 0)
                return -EINVAL;
        *nsecs = (uint32_t) v;
        return 0;
}

/* With any device rules in the config, the nodes the runtime itself makes stay usable (runc and
 * crun allow them after the config's rules), and the nodes of linux.devices may be created
 * (mknod only: reading or writing one still needs a rule of the config's own; there is no
 * blanket mknod rule). */
static void add_implicit_device_rules(struct moat_spec *s)
{
        struct moat_cgroup_resources *r = &s->resources;
        if (!r->n_devices)
                return;
        static const int defaults[][2] = { { 1, 3 }, { 1, 5 }, { 1, 7 }, { 1, 8 }, { 1, 9 },
                                           { 5, 0 }, { 5, 1 }, { 5, 2 }, { 136, -1 } };
        size_t extra = ARRAY_SIZE(defaults) + s->n_devices;
        r->devices = xrealloc(r->devices, (r->n_devices + extra) * sizeof *r->devices);
        for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
                r->devices[r->n_devices++] = (struct moat_cgroup_device_rule){
                        .allow = true, .type = 'c', .major = defaults[i][0], .minor = defaults[i][1], .access = "rwm"
                };
        for (size_t i = 0; i < s->n_devices; i++) {
                const struct moat_device *d = &s->devices[i];
                if (d->type == 'p')
                        continue;
                r->devices[r->n_devices++] = (struct moat_cgroup_device_rule){
                        .allow = true, .type = d->type == 'b' ? 'b' : 'c', .major = d->major, .minor = d->minor,
                        .access = "m"
                };
        }
}

static int parse_linux(json_t *lx, struct moat_spec *s, struct moat_error *err)
{
        if (!lx || json_is_null(lx))
                return moat_error_set(err, 0, "linux: required on Linux");
        if (want_type(lx, JSON_OBJECT, "linux", "an object", err) < 0)
                return -EINVAL;

        json_t *nss = json_object_get(lx, "namespaces");
        if (nss && !json_is_null(nss)) {
                if (!json_is_array(nss))
                        return moat_error_set(err, 0, "linux.namespaces: expected an array");
                size_t i;
                json_t *n;
                json_array_foreach(nss, i, n)
                {
                        char f[64], ff[96];
                        snprintf(f, sizeof f, "linux.namespaces[%zu]", i);
                        if (want_type(n, JSON_OBJECT, f, "an object", err) < 0)
                                return -EINVAL;
                        const char *type, *path;
                        snprintf(ff, sizeof ff, "%s.type", f);
                        if (get_str(n, "type", ff, true, &type, err) < 0)
                                return -EINVAL;
                        int t = -1;
                        for (int k = 0; k < MOAT_NS_COUNT; k++)
                                if (streq(type, ns_table[k].oci))
                                        t = k;
                        if (t < 0)
                                return moat_error_set(err, 0, "%s: unknown namespace type \"%s\"", ff, type);
                        if (s->ns[t].present)
                                return moat_error_set(err, 0, "%s: namespace \"%s\" given twice", ff, type);
                        snprintf(ff, sizeof ff, "%s.path", f);
                        if (get_str(n, "path", ff, false, &path, err) < 0)
                                return -EINVAL;
                        if (path && path[0] != '/')
                                return moat_error_set(err, 0, "%s: \"%s\" is not an absolute path", ff, path);
                        s->ns[t].present = true;
                        s->ns[t].path = (char *) path;
                }
        }
        if (parse_idmaps(json_object_get(lx, "uidMappings"), "linux.uidMappings", &s->uid_mappings,
                         &s->n_uid_mappings, err) < 0 ||
            parse_idmaps(json_object_get(lx, "gidMappings"), "linux.gidMappings", &s->gid_mappings,
                         &s->n_gid_mappings, err) < 0)
                return -EINVAL;
        bool new_userns = s->ns[MOAT_NS_USER].present && !s->ns[MOAT_NS_USER].path;
        if ((s->n_uid_mappings || s->n_gid_mappings) && !s->ns[MOAT_NS_USER].present)
                return moat_error_set(err, 0, "linux.uidMappings: id mappings need a user namespace");
        if (new_userns && (!s->n_uid_mappings || !s->n_gid_mappings))
                return moat_error_set(err, 0, "linux.uidMappings: a new user namespace needs uid and gid mappings");
        if (s->ns[MOAT_NS_USER].path && (s->n_uid_mappings || s->n_gid_mappings))
                return moat_error_set(err, 0, "linux.uidMappings: not allowed when joining a user namespace by path");

        json_t *to = json_object_get(lx, "timeOffsets");
        if (to && !json_is_null(to) && json_object_size(to)) {
                if (want_type(to, JSON_OBJECT, "linux.timeOffsets", "an object", err) < 0)
                        return -EINVAL;
                if (!s->ns[MOAT_NS_TIME].present || s->ns[MOAT_NS_TIME].path)
                        return moat_error_set(err, 0, "linux.timeOffsets: needs a new time namespace");
                const char *k;
                json_t *v;
                json_object_foreach(to, k, v) if (!streq(k, "monotonic") && !streq(k, "boottime")) return moat_error_set(
                        err, 0, "linux.timeOffsets.%s: unknown clock (monotonic or boottime)", k);
                if (parse_time_offset(to, "monotonic", "linux.timeOffsets", &s->monotonic_secs, &s->monotonic_nsecs,
                                      err) < 0 ||
                    parse_time_offset(to, "boottime", "linux.timeOffsets", &s->boottime_secs, &s->boottime_nsecs,
                                      err) < 0)
                        return -EINVAL;
                s->has_time_offsets = true;
        }

        if (parse_devices(json_object_get(lx, "devices"), s, err) < 0)
                return -EINVAL;
        const char *str;
        if (get_str(lx, "cgroupsPath", "linux.cgroupsPath", false, &str, err) < 0)
                return -EINVAL;
        s->cgroups_path = (char *) str;
        s->resources_json = json_object_get(lx, "resources");
        if (s->resources_json && json_is_null(s->resources_json))
                s->resources_json = NULL;
        if (moat_cgroup_resources_parse(s->resources_json, &s->resources, err) < 0)
                return -EINVAL;
        add_implicit_device_rules(s);
        if (get_str(lx, "rootfsPropagation", "linux.rootfsPropagation", false, &str, err) < 0)
                return -EINVAL;
        if (str && parse_propagation(str, &s->rootfs_propagation) < 0)
                return moat_error_set(err, 0, "linux.rootfsPropagation: unknown propagation \"%s\"", str);
        s->seccomp = json_object_get(lx, "seccomp");
        if (s->seccomp && json_is_null(s->seccomp))
                s->seccomp = NULL;
        if (s->seccomp && !json_is_object(s->seccomp))
                return moat_error_set(err, 0, "linux.seccomp: expected an object");
        if (get_strv(lx, "maskedPaths", "linux.maskedPaths", false, &s->masked_paths, err) < 0 ||
            get_strv(lx, "readonlyPaths", "linux.readonlyPaths", false, &s->readonly_paths, err) < 0)
                return -EINVAL;
        for (size_t i = 0; s->masked_paths && s->masked_paths[i]; i++)
                if (!path_is_clean_abs(s->masked_paths[i]))
                        return moat_error_set(err, 0, "linux.maskedPaths[%zu]: \"%s\" must be absolute without \"..\"",
                                              i, s->masked_paths[i]);
        for (size_t i = 0; s->readonly_paths && s->readonly_paths[i]; i++)
                if (!path_is_clean_abs(s->readonly_paths[i]))
                        return moat_error_set(err, 0,
                                              "linux.readonlyPaths[%zu]: \"%s\" must be absolute without \"..\"", i,
                                              s->readonly_paths[i]);

        json_t *sc = json_object_get(lx, "sysctl");
        if (sc && !json_is_null(sc)) {
                if (want_type(sc, JSON_OBJECT, "linux.sysctl", "an object", err) < 0)
                        return -EINVAL;
                size_t n = json_object_size(sc);
                if (n > 1024)
                        return moat_error_set(err, 0, "linux.sysctl: more than 1024 entries");
                s->sysctls = XNEW(struct moat_sysctl, n ? n : 1);
                const char *k;
                json_t *v;
                json_object_foreach(sc, k, v)
                {
                        if (!json_is_string(v))
                                return moat_error_set(err, 0, "linux.sysctl.%s: expected a string", k);
                        if (check_sysctl(s, k, err) < 0)
                                return -EINVAL;
                        s->sysctls[s->n_sysctls++] = (struct moat_sysctl){ (char *) k, (char *) json_string_value(v) };
                }
        }
        json_t *pers = json_object_get(lx, "personality");
        if (pers && !json_is_null(pers)) {
                if (want_type(pers, JSON_OBJECT, "linux.personality", "an object", err) < 0)
                        return -EINVAL;
                const char *dom;
                if (get_str(pers, "domain", "linux.personality.domain", true, &dom, err) < 0)
                        return -EINVAL;
                if (streq(dom, "LINUX"))
                        s->personality = PER_LINUX;
                else if (streq(dom, "LINUX32"))
                        s->personality = PER_LINUX32;
                else
                        return moat_error_set(err, 0, "linux.personality.domain: \"%s\" is not LINUX or LINUX32", dom);
                json_t *fl = json_object_get(pers, "flags");
                if (fl && !json_is_null(fl) && json_array_size(fl) > 0)
                        return moat_error_set(err, ENOTSUP, "linux.personality.flags: not supported");
                s->has_personality = true;
        }
        if (refuse_if_set(lx, "intelRdt", "linux.intelRdt", "Intel RDT is not supported", err) < 0 ||
            refuse_if_set(lx, "memoryPolicy", "linux.memoryPolicy", "not supported by moat-runtime yet", err) < 0 ||
            refuse_if_set(lx, "netDevices", "linux.netDevices", "not supported by moat-runtime yet", err) < 0 ||
            refuse_if_set(lx, "mountLabel", "linux.mountLabel", "SELinux is not enabled on this host", err) < 0)
                return -ENOTSUP;
        return 0;
}

int moat_spec_parse(json_t *doc, const char *bundle, struct moat_spec *s, struct moat_error *err)
{
        memset(s, 0, sizeof *s);
        s->json = json_incref(doc);
        const char *str;
        if (want_type(doc, JSON_OBJECT, "config", "a JSON object", err) < 0)
                goto fail;
        if (get_str(doc, "ociVersion", "ociVersion", true, &str, err) < 0)
                goto fail;
        if (!startswith(str, "1.")) {
                moat_error_set(err, 0, "ociVersion: \"%s\" is not supported (1.x)", str);
                goto fail;
        }
        s->oci_version = (char *) str;

        json_t *root = json_object_get(doc, "root");
        if (!root || json_is_null(root)) {
                moat_error_set(err, 0, "root: required field is missing");
                goto fail;
        }
        if (want_type(root, JSON_OBJECT, "root", "an object", err) < 0 ||
            get_str(root, "path", "root.path", true, &str, err) < 0 ||
            get_bool(root, "readonly", "root.readonly", &s->root_readonly, err) < 0)
                goto fail;
        if (!*str) {
                moat_error_set(err, 0, "root.path: empty");
                goto fail;
        }
        s->root_path = str[0] == '/' || !bundle ? xstrdup(str) : xasprintf("%s/%s", bundle, str);

        json_t *proc = json_object_get(doc, "process");
        if (proc && !json_is_null(proc)) {
                if (moat_spec_parse_process(proc, "process", &s->process, err) < 0)
                        goto fail;
                s->has_process = true;
        }
        if (get_str(doc, "hostname", "hostname", false, &str, err) < 0)
                goto fail;
        s->hostname = (char *) str;
        if (get_str(doc, "domainname", "domainname", false, &str, err) < 0)
                goto fail;
        s->domainname = (char *) str;
        if ((s->hostname && strlen(s->hostname) > 64) || (s->domainname && strlen(s->domainname) > 64)) {
                moat_error_set(err, 0, "hostname: longer than 64 characters");
                goto fail;
        }

        json_t *mounts = json_object_get(doc, "mounts");
        if (mounts && !json_is_null(mounts)) {
                if (!json_is_array(mounts)) {
                        moat_error_set(err, 0, "mounts: expected an array");
                        goto fail;
                }
                size_t n = json_array_size(mounts);
                if (n > MAX_MOUNTS) {
                        moat_error_set(err, 0, "mounts: more than %d mounts", MAX_MOUNTS);
                        goto fail;
                }
                s->mounts = XNEW(struct moat_mount, n ? n : 1);
                for (size_t i = 0; i < n; i++) {
                        char f[32];
                        snprintf(f, sizeof f, "mounts[%zu]", i);
                        s->n_mounts = i + 1;
                        if (parse_mount(json_array_get(mounts, i), f, &s->mounts[i], err) < 0)
                                goto fail;
                }
        }
        if (parse_hooks(json_object_get(doc, "hooks"), s, err) < 0)
                goto fail;
        json_t *ann = json_object_get(doc, "annotations");
        if (ann && !json_is_null(ann)) {
                if (want_type(ann, JSON_OBJECT, "annotations", "an object", err) < 0)
                        goto fail;
                const char *k;
                json_t *v;
                json_object_foreach(ann, k, v) if (!json_is_string(v))
                {
                        moat_error_set(err, 0, "annotations.%s: expected a string", k);
                        goto fail;
                }
                s->annotations = ann;
                if (moat_landlock_check(ann, err) < 0)
                        goto fail;
        }
        if (parse_linux(json_object_get(doc, "linux"), s, err) < 0)
                goto fail;
        if (s->hostname && *s->hostname && !s->ns[MOAT_NS_UTS].present) {
                moat_error_set(err, 0, "hostname: setting the hostname needs a uts namespace");
                goto fail;
        }
        if (s->domainname && *s->domainname && !s->ns[MOAT_NS_UTS].present) {
                moat_error_set(err, 0, "domainname: setting the domainname needs a uts namespace");
                goto fail;
        }
        if (!s->ns[MOAT_NS_MNT].present) {
                moat_error_set(err, 0, "linux.namespaces: a mount namespace is required");
                goto fail;
        }
        if (s->ns[MOAT_NS_MNT].path) {
                moat_error_set(err, ENOTSUP, "linux.namespaces: joining a mount namespace by path is not supported");
                goto fail;
        }
        if (refuse_if_set(doc, "windows", "windows", "not a Linux field", err) < 0 ||
            refuse_if_set(doc, "vm", "vm", "VM-based containers are not supported", err) < 0 ||
            refuse_if_set(doc, "solaris", "solaris", "not a Linux field", err) < 0 ||
            refuse_if_set(doc, "zos", "zos", "not a Linux field", err) < 0)
                goto fail;
        return 0;
fail:
        moat_spec_free(s);
        return -(err->code ? err->code : EINVAL);
}

int moat_spec_load(const char *bundle, struct moat_spec *out, struct moat_error *err)
{
        _cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = moat_read_file(path, MOAT_SPEC_MAX_BYTES, &buf, &len, err);
        if (r < 0)
                return r;
        json_error_t jerr;
        json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc)
                return moat_error_set(err, 0, "%s: invalid JSON at line %d column %d: %s", path, jerr.line,
                                      jerr.column, jerr.text);
        r = moat_spec_parse(doc, bundle, out, err);
        json_decref(doc);
        return r;
}

void moat_spec_free(struct moat_spec *s)
{
        moat_process_free(&s->process);
        free(s->root_path);
        for (size_t i = 0; i < s->n_mounts; i++) {
                free(s->mounts[i].data);
                free(s->mounts[i].uid_mappings);
                free(s->mounts[i].gid_mappings);
        }
        free(s->mounts);
        for (int st = 0; st < MOAT_HOOK_STAGES; st++) {
                for (size_t i = 0; i < s->n_hooks[st]; i++) {
                        free(s->hooks[st][i].args);
                        free(s->hooks[st][i].env);
                }
                free(s->hooks[st]);
        }
        free(s->uid_mappings);
        free(s->gid_mappings);
        free(s->devices);
        moat_cgroup_resources_free(&s->resources);
        free(s->masked_paths);
        free(s->readonly_paths);
        free(s->sysctls);
        json_decref(s->json);
        memset(s, 0, sizeof *s);
}
