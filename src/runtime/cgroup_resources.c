/* cgroup_resources: the OCI runtime-spec 1.2 linux.resources object, parsed with bounds and errors
 * that name the field, and merged for `update`. What Moat cannot honour is refused, never ignored. */
#include "cgroup_internal.h"

#include <inttypes.h>

#define P "linux.resources"
#define MAX_ENTRIES 1024
#define MAX_STR 4096

static int bad(struct moat_error *err, const char *field, const char *key, const char *what)
{
        return moat_error_set(err, 0, "%s%s%s: %s", field, key ? "." : "", key ? key : "", what);
}

/* json_object_get that also checks the type; NULL (absent or null) is "not set". */
static int get_typed(json_t *obj, const char *key, const char *field, json_type type, json_t **out,
                     struct moat_error *err)
{
        json_t *v = json_object_get(obj, key);
        *out = NULL;
        if (!v || json_is_null(v))
                return 0;
        static const char *const names[] = {
                [JSON_OBJECT] = "expected an object", [JSON_ARRAY] = "expected an array",
                [JSON_STRING] = "expected a string",  [JSON_INTEGER] = "expected an integer",
                [JSON_TRUE] = "expected a boolean",
        };
        bool ok = type == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == type;
        if (!ok)
                return bad(err, field, key, names[type]);
        *out = v;
        return 0;
}

static int get_int(json_t *obj, const char *key, const char *field, int64_t min, int64_t max, bool *has,
                   int64_t *out, struct moat_error *err)
{
        json_t *v;
        int r = get_typed(obj, key, field, JSON_INTEGER, &v, err);
        if (r < 0 || !v)
                return r;
        json_int_t x = json_integer_value(v);
        if (x < min || x > max)
                return moat_error_set(err, 0, "%s.%s: %lld is out of range [%lld, %lld]", field, key, (long long) x,
                                      (long long) min, (long long) max);
        *out = x;
        if (has)
                *has = true;
        return 0;
}

static int get_u64(json_t *obj, const char *key, const char *field, uint64_t max, bool *has, uint64_t *out,
                   struct moat_error *err)
{
        int64_t v;
        bool h = false;
        int r = get_int(obj, key, field, 0, max > INT64_MAX ? INT64_MAX : (int64_t) max, &h, &v, err);
        if (r == 0 && h) {
                *out = (uint64_t) v;
                if (has)
                        *has = true;
        }
        return r;
}

static int get_bool(json_t *obj, const char *key, const char *field, bool *has, bool *out, struct moat_error *err)
{
        json_t *v;
        int r = get_typed(obj, key, field, JSON_TRUE, &v, err);
        if (r < 0 || !v)
                return r;
        *out = json_is_true(v);
        if (has)
                *has = true;
        return 0;
}

static int get_str(json_t *obj, const char *key, const char *field, const char *allowed, char **out,
                   struct moat_error *err)
{
        json_t *v;
        int r = get_typed(obj, key, field, JSON_STRING, &v, err);
        if (r < 0 || !v)
                return r;
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n > MAX_STR || strlen(s) != n)
                return bad(err, field, key, "too long or contains NUL");
        if (allowed && strspn(s, allowed) != n)
                return bad(err, field, key, "contains characters that are not allowed");
        free(*out);
        *out = xstrdup(s);
        return 0;
}

/* A non-zero value of a field Moat cannot honour is refused. */
static int refuse_nonzero(json_t *obj, const char *key, const char *field, const char *why, struct moat_error *err)
{
        int64_t v = 0;
        int r = get_int(obj, key, field, INT64_MIN, INT64_MAX, NULL, &v, err);
        if (r < 0)
                return r;
        if (v != 0)
                return moat_error_set(err, ENOTSUP, "%s.%s: not supported (%s)", field, key, why);
        return 0;
}

static int get_array(json_t *obj, const char *key, const char *field, json_t **out, struct moat_error *err)
{
        int r = get_typed(obj, key, field, JSON_ARRAY, out, err);
        if (r == 0 && *out && json_array_size(*out) > MAX_ENTRIES)
                return bad(err, field, key, "more than 1024 entries");
        return r;
}

static int parse_memory(json_t *m, struct moat_cgroup_resources *o, struct moat_error *err)
{
        const char *f = P ".memory";
        int r;
        if ((r = get_int(m, "limit", f, -1, INT64_MAX, &o->has_memory_limit, &o->memory_limit, err)) < 0 ||
            (r = get_int(m, "reservation", f, -1, INT64_MAX, &o->has_memory_reservation, &o->memory_reservation,
                         err)) < 0 ||
            (r = get_int(m, "swap", f, -1, INT64_MAX, &o->has_memory_swap, &o->memory_swap, err)) < 0 ||
            (r = get_u64(m, "swappiness", f, 100, &o->has_memory_swappiness, &o->memory_swappiness, err)) < 0 ||
            (r = get_bool(m, "disableOOMKiller", f, &o->has_disable_oom_killer, &o->disable_oom_killer, err)) < 0 ||
            (r = get_bool(m, "useHierarchy", f, &o->has_use_hierarchy, &o->use_hierarchy, err)) < 0 ||
            (r = get_bool(m, "checkBeforeUpdate", f, &o->has_memory_check_before_update,
                          &o->memory_check_before_update, err)) < 0)
                return r;
        /* 0 means "not set" for these, as in runc (a zero limit would kill the container at once) */
        if (o->has_memory_limit && o->memory_limit == 0)
                o->has_memory_limit = false;
        if (o->has_memory_swap && o->memory_swap == 0)
                o->has_memory_swap = false;
        if (o->has_memory_reservation && o->memory_reservation == 0)
                o->has_memory_reservation = false;
        if ((r = refuse_nonzero(m, "kernel", f, "kernel memory limits are deprecated and not set by Moat", err)) < 0 ||
            (r = refuse_nonzero(m, "kernelTCP", f, "kernel TCP memory limits are not set by Moat", err)) < 0)
                return r;
        return 0;
}

static int parse_cpu(json_t *c, struct moat_cgroup_resources *o, struct moat_error *err)
{
        const char *f = P ".cpu";
        int r;
        if ((r = get_u64(c, "shares", f, 262144, &o->has_cpu_shares, &o->cpu_shares, err)) < 0 ||
            (r = get_int(c, "quota", f, -1, INT64_MAX, &o->has_cpu_quota, &o->cpu_quota, err)) < 0 ||
            (r = get_u64(c, "period", f, 1000000, &o->has_cpu_period, &o->cpu_period, err)) < 0 ||
            (r = get_u64(c, "burst", f, INT64_MAX, &o->has_cpu_burst, &o->cpu_burst, err)) < 0 ||
            (r = get_int(c, "idle", f, 0, 1, &o->has_cpu_idle, &o->cpu_idle, err)) < 0 ||
            (r = get_str(c, "cpus", f, "0123456789,-", &o->cpuset_cpus, err)) < 0 ||
            (r = get_str(c, "mems", f, "0123456789,-", &o->cpuset_mems, err)) < 0)
                return r;
        if (o->has_cpu_shares && o->cpu_shares == 0)
                o->has_cpu_shares = false;
        if (o->has_cpu_quota && o->cpu_quota == 0)
                o->has_cpu_quota = false;
        if (o->has_cpu_period && o->cpu_period == 0)
                o->has_cpu_period = false;
        if (o->cpuset_cpus && !o->cpuset_cpus[0]) {
                free(o->cpuset_cpus);
                o->cpuset_cpus = NULL;
        }
        if (o->cpuset_mems && !o->cpuset_mems[0]) {
                free(o->cpuset_mems);
                o->cpuset_mems = NULL;
        }
        if ((r = refuse_nonzero(c, "realtimeRuntime", f, "Moat does not grant real-time CPU time", err)) < 0 ||
            (r = refuse_nonzero(c, "realtimePeriod", f, "Moat does not grant real-time CPU time", err)) < 0)
                return r;
        return 0;
}

static int parse_major_minor(json_t *e, const char *f, uint64_t *major, uint64_t *minor, struct moat_error *err)
{
        bool hm = false, hn = false;
        int r;
        if ((r = get_u64(e, "major", f, UINT32_MAX, &hm, major, err)) < 0 ||
            (r = get_u64(e, "minor", f, UINT32_MAX, &hn, minor, err)) < 0)
                return r;
        if (!hm)
                return bad(err, f, "major", "required");
        if (!hn)
                return bad(err, f, "minor", "required");
        return 0;
}

static int parse_throttles(json_t *b, const char *key, struct moat_cgroup_throttle **out, size_t *n,
                           struct moat_error *err)
{
        json_t *a;
        int r = get_array(b, key, P ".blockIO", &a, err);
        if (r < 0 || !a)
                return r;
        *out = XNEW(struct moat_cgroup_throttle, json_array_size(a) + 1);
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e) {
                char f[96];
                snprintf(f, sizeof f, P ".blockIO.%s[%zu]", key, i);
                if (!json_is_object(e))
                        return bad(err, f, NULL, "expected an object");
                struct moat_cgroup_throttle *t = &(*out)[i];
                bool has = false;
                if ((r = parse_major_minor(e, f, &t->major, &t->minor, err)) < 0 ||
                    (r = get_u64(e, "rate", f, INT64_MAX, &has, &t->rate, err)) < 0)
                        return r;
                if (!has)
                        return bad(err, f, "rate", "required");
                *n = i + 1;
        }
        return 0;
}

static int parse_blockio(json_t *b, struct moat_cgroup_resources *o, struct moat_error *err)
{
        const char *f = P ".blockIO";
        uint64_t w;
        bool has = false;
        int r;
        if ((r = get_u64(b, "weight", f, 1000, &has, &w, err)) < 0)
                return r;
        if (has && w != 0) {
                if (w < 10)
                        return bad(err, f, "weight", "must be 0 (unset) or in [10, 1000]");
                o->has_blkio_weight = true;
                o->blkio_weight = (uint16_t) w;
        }
        has = false;
        if ((r = get_u64(b, "leafWeight", f, 1000, &has, &w, err)) < 0)
                return r;
        if (has && w != 0) {
                if (w < 10)
                        return bad(err, f, "leafWeight", "must be 0 (unset) or in [10, 1000]");
                o->has_blkio_leaf_weight = true;
                o->blkio_leaf_weight = (uint16_t) w;
        }
        json_t *a;
        if ((r = get_array(b, "weightDevice", f, &a, err)) < 0)
                return r;
        if (a) {
                o->weight_devices = XNEW(struct moat_cgroup_weight_device, json_array_size(a) + 1);
                size_t i;
                json_t *e;
                json_array_foreach(a, i, e) {
                        char ef[96];
                        snprintf(ef, sizeof ef, "%s.weightDevice[%zu]", f, i);
                        if (!json_is_object(e))
                                return bad(err, ef, NULL, "expected an object");
                        struct moat_cgroup_weight_device *d = &o->weight_devices[i];
                        uint64_t wv = 0, lv = 0;
                        if ((r = parse_major_minor(e, ef, &d->major, &d->minor, err)) < 0 ||
                            (r = get_u64(e, "weight", ef, 1000, &d->has_weight, &wv, err)) < 0 ||
                            (r = get_u64(e, "leafWeight", ef, 1000, &d->has_leaf_weight, &lv, err)) < 0)
                                return r;
                        if ((d->has_weight && wv < 10) || (d->has_leaf_weight && lv < 10))
                                return bad(err, ef, "weight", "must be in [10, 1000]");
                        d->weight = (uint16_t) wv;
                        d->leaf_weight = (uint16_t) lv;
                        o->n_weight_devices = i + 1;
                }
        }
        if ((r = parse_throttles(b, "throttleReadBpsDevice", &o->throttle_read_bps, &o->n_throttle_read_bps, err)) <
                    0 ||
            (r = parse_throttles(b, "throttleWriteBpsDevice", &o->throttle_write_bps, &o->n_throttle_write_bps,
                                 err)) < 0 ||
            (r = parse_throttles(b, "throttleReadIOPSDevice", &o->throttle_read_iops, &o->n_throttle_read_iops,
                                 err)) < 0 ||
            (r = parse_throttles(b, "throttleWriteIOPSDevice", &o->throttle_write_iops, &o->n_throttle_write_iops,
                                 err)) < 0)
                return r;
        return 0;
}

static bool valid_page_size(const char *s)
{
        size_t d = strspn(s, "0123456789");
        if (d == 0 || d > 12)
                return false;
        static const char *const units[] = {"KB", "MB", "GB", "TB", "PB"};
        for (size_t i = 0; i < ARRAY_SIZE(units); i++)
                if (streq(s + d, units[i]))
                        return true;
        return false;
}

static int parse_hugepages(json_t *a, struct moat_cgroup_resources *o, struct moat_error *err)
{
        o->hugepages = XNEW(struct moat_cgroup_hugepage, json_array_size(a) + 1);
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e) {
                char f[64];
                snprintf(f, sizeof f, P ".hugepageLimits[%zu]", i);
                if (!json_is_object(e))
                        return bad(err, f, NULL, "expected an object");
                struct moat_cgroup_hugepage *h = &o->hugepages[i];
                o->n_hugepages = i + 1; /* so free() sees page_size */
                bool has = false;
                int r;
                if ((r = get_str(e, "pageSize", f, NULL, &h->page_size, err)) < 0 ||
                    (r = get_u64(e, "limit", f, INT64_MAX, &has, &h->limit, err)) < 0)
                        return r;
                if (!h->page_size)
                        return bad(err, f, "pageSize", "required");
                if (!valid_page_size(h->page_size))
                        return bad(err, f, "pageSize", "expected a size like \"2MB\" or \"1GB\"");
                if (!has)
                        return bad(err, f, "limit", "required");
        }
        return 0;
}

static int parse_devices(json_t *a, struct moat_cgroup_resources *o, struct moat_error *err)
{
        o->devices = XNEW(struct moat_cgroup_device_rule, json_array_size(a) + 1);
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e) {
                char f[64];
                snprintf(f, sizeof f, P ".devices[%zu]", i);
                if (!json_is_object(e))
                        return bad(err, f, NULL, "expected an object");
                struct moat_cgroup_device_rule *d = &o->devices[i];
                bool has_allow = false;
                _cleanup_free_ char *type = NULL, *access = NULL;
                d->major = d->minor = -1;
                int r;
                if ((r = get_bool(e, "allow", f, &has_allow, &d->allow, err)) < 0 ||
                    (r = get_str(e, "type", f, NULL, &type, err)) < 0 ||
                    (r = get_int(e, "major", f, -1, UINT32_MAX, NULL, &d->major, err)) < 0 ||
                    (r = get_int(e, "minor", f, -1, UINT32_MAX, NULL, &d->minor, err)) < 0 ||
                    (r = get_str(e, "access", f, "rwm", &access, err)) < 0)
                        return r;
                if (!has_allow)
                        return bad(err, f, "allow", "required");
                if (!type)
                        d->type = 'a';
                else if (streq(type, "a") || streq(type, "b") || streq(type, "c"))
                        d->type = type[0];
                else
                        return bad(err, f, "type", "expected \"a\", \"b\" or \"c\"");
                if (!access)
                        memcpy(d->access, "rwm", 4);
                else if (!access[0] || strlen(access) > 3 || (strchr(access, 'r') != strrchr(access, 'r')) ||
                         (strchr(access, 'w') != strrchr(access, 'w')) || (strchr(access, 'm') != strrchr(access, 'm')))
                        return bad(err, f, "access", "expected a non-empty subset of \"rwm\"");
                else
                        memcpy(d->access, access, strlen(access) + 1);
                o->n_devices = i + 1;
        }
        return 0;
}

/* Keys that name a file in the container's own cgroup directory, and never Moat's own
 * bookkeeping (cgroup.procs, cgroup.subtree_control, cgroup.freeze, ...). */
static bool valid_unified_key(const char *k)
{
        size_t n = strlen(k);
        if (n == 0 || n > 255 || strchr(k, '/') || k[0] == '.' || !strchr(k, '.'))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) k[i] <= 0x20 || k[i] == 0x7f)
                        return false;
        if (startswith(k, "cgroup."))
                return streq(k, "cgroup.max.depth") || streq(k, "cgroup.max.descendants");
        return true;
}

static int parse_unified(json_t *u, struct moat_cgroup_resources *o, struct moat_error *err)
{
        size_t n = json_object_size(u);
        if (n > MAX_ENTRIES)
                return bad(err, P ".unified", NULL, "more than 1024 entries");
        o->unified_keys = XNEW(char *, n + 1);
        o->unified_values = XNEW(char *, n + 1);
        const char *k;
        json_t *v;
        json_object_foreach(u, k, v) {
                if (!valid_unified_key(k))
                        return moat_error_set(err, 0,
                                              P ".unified: key \"%.64s\" is not allowed (a cgroup v2 file name such "
                                              "as \"memory.high\"; no '/', no cgroup.* other than cgroup.max.depth "
                                              "and cgroup.max.descendants)",
                                              k);
                if (!json_is_string(v))
                        return moat_error_set(err, 0, P ".unified.%s: expected a string", k);
                if (json_string_length(v) > MAX_STR || strlen(json_string_value(v)) != json_string_length(v))
                        return moat_error_set(err, 0, P ".unified.%s: too long or contains NUL", k);
                o->unified_keys[o->n_unified] = xstrdup(k);
                o->unified_values[o->n_unified++] = xstrdup(json_string_value(v));
        }
        return 0;
}

static int parse_all(json_t *res, struct moat_cgroup_resources *o, struct moat_error *err)
{
        if (!json_is_object(res))
                return bad(err, P, NULL, "expected an object");
        json_t *v;
        int r;
        if ((r = get_typed(res, "memory", P, JSON_OBJECT, &v, err)) < 0 || (v && (r = parse_memory(v, o, err)) < 0))
                return r;
        if ((r = get_typed(res, "cpu", P, JSON_OBJECT, &v, err)) < 0 || (v && (r = parse_cpu(v, o, err)) < 0))
                return r;
        if ((r = get_typed(res, "pids", P, JSON_OBJECT, &v, err)) < 0)
                return r;
        if (v) {
                if ((r = get_int(v, "limit", P ".pids", INT64_MIN, INT64_MAX, &o->has_pids_limit, &o->pids_limit,
                                 err)) < 0)
                        return r;
                if (!o->has_pids_limit)
                        return bad(err, P ".pids", "limit", "required");
        }
        if ((r = get_typed(res, "blockIO", P, JSON_OBJECT, &v, err)) < 0 || (v && (r = parse_blockio(v, o, err)) < 0))
                return r;
        if ((r = get_array(res, "hugepageLimits", P, &v, err)) < 0 || (v && (r = parse_hugepages(v, o, err)) < 0))
                return r;
        if ((r = get_array(res, "devices", P, &v, err)) < 0 || (v && (r = parse_devices(v, o, err)) < 0))
                return r;
        if ((r = get_typed(res, "unified", P, JSON_OBJECT, &v, err)) < 0 || (v && (r = parse_unified(v, o, err)) < 0))
                return r;
        if ((r = get_typed(res, "network", P, JSON_OBJECT, &v, err)) < 0)
                return r;
        if (v) {
                json_t *prio;
                if ((r = refuse_nonzero(v, "classID", P ".network", "net_cls/net_prio are not managed by Moat", err)) <
                            0 ||
                    (r = get_array(v, "priorities", P ".network", &prio, err)) < 0)
                        return r;
                if (prio && json_array_size(prio))
                        return moat_error_set(err, ENOTSUP,
                                              P ".network.priorities: not supported (net_prio is not managed by Moat)");
        }
        if ((r = get_typed(res, "rdma", P, JSON_OBJECT, &v, err)) < 0)
                return r;
        if (v && json_object_size(v))
                return moat_error_set(err, ENOTSUP, P ".rdma: not supported (the rdma controller is not managed by Moat)");
        return 0;
}

int moat_cgroup_resources_parse(json_t *resources, struct moat_cgroup_resources *out, struct moat_error *err)
{
        memset(out, 0, sizeof *out);
        if (!resources || json_is_null(resources))
                return 0;
        int r = parse_all(resources, out, err);
        if (r < 0) {
                moat_cgroup_resources_free(out);
                memset(out, 0, sizeof *out);
        }
        return r;
}

void moat_cgroup_resources_free(struct moat_cgroup_resources *r)
{
        if (!r)
                return;
        free(r->cpuset_cpus);
        free(r->cpuset_mems);
        free(r->weight_devices);
        free(r->throttle_read_bps);
        free(r->throttle_write_bps);
        free(r->throttle_read_iops);
        free(r->throttle_write_iops);
        for (size_t i = 0; i < r->n_hugepages; i++)
                free(r->hugepages[i].page_size);
        free(r->hugepages);
        free(r->devices);
        for (size_t i = 0; i < r->n_unified; i++) {
                free(r->unified_keys[i]);
                free(r->unified_values[i]);
        }
        free(r->unified_keys);
        free(r->unified_values);
        memset(r, 0, sizeof *r);
}

static void *dup_array(const void *src, size_t n, size_t size)
{
        if (!n)
                return NULL;
        void *p = xmalloc(n * size);
        memcpy(p, src, n * size);
        return p;
}

/* A list in upd replaces the list in base (OCI update semantics: the new value is the whole value). */
#define MERGE_LIST(field, nfield)                                                                                   \
        do {                                                                                                         \
                if (upd->nfield) {                                                                                   \
                        free(base->field);                                                                           \
                        base->field = dup_array(upd->field, upd->nfield, sizeof *upd->field);                        \
                        base->nfield = upd->nfield;                                                                  \
                }                                                                                                    \
        } while (0)
#define MERGE_VAL(has, field)                                                                                       \
        do {                                                                                                         \
                if (upd->has) {                                                                                      \
                        base->has = true;                                                                            \
                        base->field = upd->field;                                                                    \
                }                                                                                                    \
        } while (0)

void moat_cgroup_resources_merge(struct moat_cgroup_resources *base, const struct moat_cgroup_resources *upd)
{
        MERGE_VAL(has_memory_limit, memory_limit);
        MERGE_VAL(has_memory_reservation, memory_reservation);
        MERGE_VAL(has_memory_swap, memory_swap);
        MERGE_VAL(has_memory_swappiness, memory_swappiness);
        MERGE_VAL(has_disable_oom_killer, disable_oom_killer);
        MERGE_VAL(has_use_hierarchy, use_hierarchy);
        MERGE_VAL(has_memory_check_before_update, memory_check_before_update);
        MERGE_VAL(has_cpu_shares, cpu_shares);
        MERGE_VAL(has_cpu_quota, cpu_quota);
        MERGE_VAL(has_cpu_period, cpu_period);
        MERGE_VAL(has_cpu_burst, cpu_burst);
        MERGE_VAL(has_cpu_idle, cpu_idle);
        MERGE_VAL(has_pids_limit, pids_limit);
        MERGE_VAL(has_blkio_weight, blkio_weight);
        MERGE_VAL(has_blkio_leaf_weight, blkio_leaf_weight);
        if (upd->cpuset_cpus) {
                free(base->cpuset_cpus);
                base->cpuset_cpus = xstrdup(upd->cpuset_cpus);
        }
        if (upd->cpuset_mems) {
                free(base->cpuset_mems);
                base->cpuset_mems = xstrdup(upd->cpuset_mems);
        }
        MERGE_LIST(weight_devices, n_weight_devices);
        MERGE_LIST(throttle_read_bps, n_throttle_read_bps);
        MERGE_LIST(throttle_write_bps, n_throttle_write_bps);
        MERGE_LIST(throttle_read_iops, n_throttle_read_iops);
        MERGE_LIST(throttle_write_iops, n_throttle_write_iops);
        MERGE_LIST(devices, n_devices);
        if (upd->n_hugepages) {
                for (size_t i = 0; i < base->n_hugepages; i++)
                        free(base->hugepages[i].page_size);
                free(base->hugepages);
                base->hugepages = XNEW(struct moat_cgroup_hugepage, upd->n_hugepages);
                for (size_t i = 0; i < upd->n_hugepages; i++) {
                        base->hugepages[i].page_size = xstrdup(upd->hugepages[i].page_size);
                        base->hugepages[i].limit = upd->hugepages[i].limit;
                }
                base->n_hugepages = upd->n_hugepages;
        }
        /* unified: key by key, a new key is added, an existing one overwritten */
        for (size_t i = 0; i < upd->n_unified; i++) {
                size_t j;
                for (j = 0; j < base->n_unified && !streq(base->unified_keys[j], upd->unified_keys[i]); j++)
                        ;
                if (j == base->n_unified) {
                        base->unified_keys = xrealloc(base->unified_keys, sizeof(char *) * (j + 2));
                        base->unified_values = xrealloc(base->unified_values, sizeof(char *) * (j + 2));
                        base->unified_keys[j] = xstrdup(upd->unified_keys[i]);
                        base->unified_values[j] = NULL;
                        base->n_unified++;
                        base->unified_keys[base->n_unified] = base->unified_values[base->n_unified] = NULL;
                }
                free(base->unified_values[j]);
                base->unified_values[j] = xstrdup(upd->unified_values[i]);
        }
}
