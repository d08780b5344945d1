/* cgroup_apply: turning struct moat_cgroup_resources into control-file writes for each backend, and
 * reading statistics back. Every request is checked against what the host offers before the first
 * write, so a refused update changes nothing. */
#include "cgroup_internal.h"
#include "cgroup_bpf.h"

#include <fcntl.h>
#include <inttypes.h>

#define NUM(buf, fmt, v) (snprintf(buf, sizeof buf, fmt, v), buf)

static int missing(struct moat_cgroup *cg, const char *ctl, const char *what, struct moat_error *err)
{
        return moat_error_set(err, ENOTSUP, "linux.resources.%s: the %s cgroup controller is not available under %s",
                              what, ctl, cg->root);
}

static bool want_memory(const struct moat_cgroup_resources *r)
{
        return r->has_memory_limit || r->has_memory_reservation || r->has_memory_swap || r->has_memory_swappiness ||
               r->has_disable_oom_killer || r->has_use_hierarchy;
}
static bool want_cpu(const struct moat_cgroup_resources *r)
{
        return r->has_cpu_shares || r->has_cpu_quota || r->has_cpu_period || r->has_cpu_burst || r->has_cpu_idle;
}
static bool want_blkio(const struct moat_cgroup_resources *r)
{
        return r->has_blkio_weight || r->has_blkio_leaf_weight || r->n_weight_devices || r->n_throttle_read_bps ||
               r->n_throttle_write_bps || r->n_throttle_read_iops || r->n_throttle_write_iops;
}

/* checkBeforeUpdate: never set a limit the cgroup already exceeds (the kernel would OOM-kill). */
static int check_usage(struct cg_hier *h, const char *file, const struct moat_cgroup_resources *res,
                       struct moat_error *err)
{
        if (!res->memory_check_before_update || !res->has_memory_limit || res->memory_limit < 0)
                return 0;
        char buf[64];
        int r = cg_read(h, file, buf, sizeof buf, err);
        if (r < 0)
                return r;
        unsigned long long usage = strtoull(buf, NULL, 10);
        if (usage > (unsigned long long) res->memory_limit)
                return moat_error_set(err, EBUSY,
                                      "linux.resources.memory.limit: %" PRId64 " is below the current usage %llu "
                                      "(checkBeforeUpdate)",
                                      res->memory_limit, usage);
        return 0;
}

/* ---- v1 ---- */

static int v1_memory(struct moat_cgroup *cg, struct cg_hier *h, const struct moat_cgroup_resources *res,
                     struct moat_error *err)
{
        char a[32], b[32];
        int r = check_usage(h, "memory.usage_in_bytes", res, err);
        if (r < 0)
                return r;
        const char *limit = res->has_memory_limit ? NUM(a, "%" PRId64, res->memory_limit) : NULL;
        const char *swap = res->has_memory_swap ? NUM(b, "%" PRId64, res->memory_swap) : NULL;
        if (limit) {
                /* memory.limit_in_bytes may never exceed memsw.limit_in_bytes: when raising, the first
                 * write fails with EINVAL and the swap limit has to go first. */
                r = cg_write(cg, h, "memory.limit_in_bytes", limit, err);
                if (r == -EINVAL && swap) {
                        r = cg_write(cg, h, "memory.memsw.limit_in_bytes", swap, err);
                        if (r == 0)
                                r = cg_write(cg, h, "memory.limit_in_bytes", limit, err);
                        swap = NULL;
                }
                if (r < 0)
                        return r;
        }
        if (swap) {
                r = cg_write_opt(cg, h, "memory.memsw.limit_in_bytes", swap, err);
                if (r == -ENOENT && res->memory_swap != -1)
                        return moat_error_set(err, ENOTSUP,
                                              "linux.resources.memory.swap: this kernel has no swap accounting "
                                              "(%s/memory.memsw.limit_in_bytes is missing)",
                                              h->dir);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        if (res->has_memory_reservation &&
            (r = cg_write(cg, h, "memory.soft_limit_in_bytes", NUM(a, "%" PRId64, res->memory_reservation), err)) < 0)
                return r;
        if (res->has_memory_swappiness &&
            (r = cg_write(cg, h, "memory.swappiness", NUM(a, "%" PRIu64, res->memory_swappiness), err)) < 0)
                return r;
        if (res->has_disable_oom_killer &&
            (r = cg_write(cg, h, "memory.oom_control", res->disable_oom_killer ? "1" : "0", err)) < 0)
                return r;
        if (res->has_use_hierarchy) {
                const char *v = res->use_hierarchy ? "1" : "0";
                /* modern kernels fix use_hierarchy at 1 and refuse writes; agreeing is fine */
                if (cg_write(cg, h, "memory.use_hierarchy", v, err) < 0) {
                        char cur[16];
                        if (cg_read(h, "memory.use_hierarchy", cur, sizeof cur, NULL) < 0 || cur[0] != v[0])
                                return -err->code;
                }
        }
        return 0;
}

static int write_throttles(struct moat_cgroup *cg, struct cg_hier *h, const char *file,
                           const struct moat_cgroup_throttle *t, size_t n, const char *v2key, struct moat_error *err)
{
        if (n == 0)
                return 0;
        _cleanup_close_ int fd = cg_open_write(cg, h, file, err);
        if (fd < 0)
                return fd;
        for (size_t i = 0; i < n; i++) {
                char line[96];
                if (v2key)
                        snprintf(line, sizeof line, "%" PRIu64 ":%" PRIu64 " %s=%" PRIu64, t[i].major, t[i].minor,
                                 v2key, t[i].rate);
                else
                        snprintf(line, sizeof line, "%" PRIu64 ":%" PRIu64 " %" PRIu64, t[i].major, t[i].minor,
                                 t[i].rate);
                int r = cg_fd_write(cg, fd, h, file, line, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* blkio.weight lives in blkio.bfq.weight on kernels where CFQ is gone. */
static int write_weight(struct moat_cgroup *cg, struct cg_hier *h, const char *file, const char *bfq,
                        const char *val, struct moat_error *err)
{
        int r = cg_write_opt(cg, h, file, val, err);
        if (r == -ENOENT && bfq)
                r = cg_write_opt(cg, h, bfq, val, err);
        if (r == -ENOENT)
                return cg_write(cg, h, file, val, err);
        return r;
}

static void device_id(char *b, size_t n, int64_t v)
{
        if (v < 0)
                snprintf(b, n, "*");
        else
                snprintf(b, n, "%" PRId64, v);
}

int cg_v1_apply(struct moat_cgroup *cg, const struct moat_cgroup_resources *res, struct moat_error *err)
{
        struct cg_hier *mem = cg_hier_for(cg, "memory"), *cpu = cg_hier_for(cg, "cpu"),
                       *cpuset = cg_hier_for(cg, "cpuset"), *pids = cg_hier_for(cg, "pids"),
                       *blkio = cg_hier_for(cg, "blkio"), *huge = cg_hier_for(cg, "hugetlb"),
                       *dev = cg_hier_for(cg, "devices");
        if (res->n_unified)
                return moat_error_set(err, ENOTSUP,
                                      "linux.resources.unified: needs cgroup v2, and this host uses cgroup v1 "
                                      "(controllers under %s)",
                                      cg->root);
        if (want_memory(res) && !mem)
                return missing(cg, "memory", "memory", err);
        if (want_cpu(res) && !cpu)
                return missing(cg, "cpu", "cpu", err);
        if ((res->cpuset_cpus || res->cpuset_mems) && !cpuset)
                return missing(cg, "cpuset", "cpu.cpus", err);
        if (res->has_pids_limit && !pids)
                return missing(cg, "pids", "pids", err);
        if (want_blkio(res) && !blkio)
                return missing(cg, "blkio", "blockIO", err);
        /* hybrid hosts may offer hugetlb only in the cgroup2 tree at <root>/unified */
        struct cg_hier *huge2 = NULL;
        for (size_t i = 0; i < cg->n_h && res->n_hugepages && !huge; i++)
                if (cg->h[i].aux && cg->h[i].created)
                        huge2 = &cg->h[i];
        if (res->n_hugepages && !huge && !huge2)
                return missing(cg, "hugetlb", "hugepageLimits", err);
        if (res->n_devices && !dev)
                return missing(cg, "devices", "devices", err);

        char a[64];
        int r;
        if (res->cpuset_cpus && (r = cg_write(cg, cpuset, "cpuset.cpus", res->cpuset_cpus, err)) < 0)
                return r;
        if (res->cpuset_mems && (r = cg_write(cg, cpuset, "cpuset.mems", res->cpuset_mems, err)) < 0)
                return r;
        if (want_memory(res) && (r = v1_memory(cg, mem, res, err)) < 0)
                return r;
        if (res->has_cpu_shares && (r = cg_write(cg, cpu, "cpu.shares", NUM(a, "%" PRIu64, res->cpu_shares), err)) < 0)
                return r;
        if (res->has_cpu_period &&
            (r = cg_write(cg, cpu, "cpu.cfs_period_us", NUM(a, "%" PRIu64, res->cpu_period), err)) < 0)
                return r;
        if (res->has_cpu_quota &&
            (r = cg_write(cg, cpu, "cpu.cfs_quota_us", NUM(a, "%" PRId64, res->cpu_quota > 0 ? res->cpu_quota : -1),
                          err)) < 0)
                return r;
        if (res->has_cpu_burst &&
            (r = cg_write(cg, cpu, "cpu.cfs_burst_us", NUM(a, "%" PRIu64, res->cpu_burst), err)) < 0)
                return r;
        if (res->has_cpu_idle && (r = cg_write(cg, cpu, "cpu.idle", NUM(a, "%" PRId64, res->cpu_idle), err)) < 0)
                return r;
        if (res->has_pids_limit &&
            (r = cg_write(cg, pids, "pids.max", res->pids_limit > 0 ? NUM(a, "%" PRId64, res->pids_limit) : "max",
                          err)) < 0)
                return r;
        if (res->has_blkio_weight &&
            (r = write_weight(cg, blkio, "blkio.weight", "blkio.bfq.weight", NUM(a, "%u", res->blkio_weight), err)) < 0)
                return r;
        if (res->has_blkio_leaf_weight &&
            (r = cg_write(cg, blkio, "blkio.leaf_weight", NUM(a, "%u", res->blkio_leaf_weight), err)) < 0)
                return r;
        for (size_t i = 0; i < res->n_weight_devices; i++) {
                const struct moat_cgroup_weight_device *w = &res->weight_devices[i];
                if (w->has_weight) {
                        snprintf(a, sizeof a, "%" PRIu64 ":%" PRIu64 " %u", w->major, w->minor, w->weight);
                        if ((r = write_weight(cg, blkio, "blkio.weight_device", "blkio.bfq.weight_device", a, err)) < 0)
                                return r;
                }
                if (w->has_leaf_weight) {
                        snprintf(a, sizeof a, "%" PRIu64 ":%" PRIu64 " %u", w->major, w->minor, w->leaf_weight);
                        if ((r = cg_write(cg, blkio, "blkio.leaf_weight_device", a, err)) < 0)
                                return r;
                }
        }
        if ((r = write_throttles(cg, blkio, "blkio.throttle.read_bps_device", res->throttle_read_bps,
                                 res->n_throttle_read_bps, NULL, err)) < 0 ||
            (r = write_throttles(cg, blkio, "blkio.throttle.write_bps_device", res->throttle_write_bps,
                                 res->n_throttle_write_bps, NULL, err)) < 0 ||
            (r = write_throttles(cg, blkio, "blkio.throttle.read_iops_device", res->throttle_read_iops,
                                 res->n_throttle_read_iops, NULL, err)) < 0 ||
            (r = write_throttles(cg, blkio, "blkio.throttle.write_iops_device", res->throttle_write_iops,
                                 res->n_throttle_write_iops, NULL, err)) < 0)
                return r;
        if (huge2) {
                static const char *const hugetlb[] = {"hugetlb"};
                if ((r = cg_enable_controllers(cg, huge2, hugetlb, 1, err)) < 0)
                        return r;
                huge2->needed = true;
        }
        for (size_t i = 0; i < res->n_hugepages; i++) {
                char file[96];
                snprintf(file, sizeof file, huge ? "hugetlb.%s.limit_in_bytes" : "hugetlb.%s.max",
                         res->hugepages[i].page_size);
                if ((r = cg_write(cg, huge ? huge : huge2, file, NUM(a, "%" PRIu64, res->hugepages[i].limit), err)) < 0)
                        return r;
        }
        /* in order, one open per run of allow or deny rules (Docker's list is one deny, then allows) */
        int fd = -1;
        for (size_t i = 0; i < res->n_devices; i++) {
                const struct moat_cgroup_device_rule *d = &res->devices[i];
                const char *file = d->allow ? "devices.allow" : "devices.deny";
                if (i == 0 || d->allow != res->devices[i - 1].allow) {
                        closep(&fd);
                        if ((fd = cg_open_write(cg, dev, file, err)) < 0)
                                return fd;
                }
                char ma[24], mi[24];
                device_id(ma, sizeof ma, d->major);
                device_id(mi, sizeof mi, d->minor);
                snprintf(a, sizeof a, "%c %s:%s %s", d->type, ma, mi, d->access[0] ? d->access : "rwm");
                if ((r = cg_fd_write(cg, fd, dev, file, a, err)) < 0) {
                        closep(&fd);
                        return r;
                }
        }
        closep(&fd);
        return 0;
}

/* ---- v2 ---- */

/* cgroup v1 cpu.shares [2, 262144] onto v2 cpu.weight [1, 10000] */
static uint64_t shares_to_weight(uint64_t shares)
{
        if (shares < 2)
                shares = 2;
        if (shares > 262144)
                shares = 262144;
        return 1 + ((shares - 2) * 9999) / 262142;
}
/* blkio weight [10, 1000] onto io.weight [1, 10000] */
static uint64_t blkio_to_io_weight(uint64_t w)
{
        if (w < 10)
                w = 10;
        if (w > 1000)
                w = 1000;
        return 1 + (w - 10) * 9999 / 990;
}

int cg_v2_apply(struct moat_cgroup *cg, const struct moat_cgroup_resources *res, struct moat_error *err)
{
        struct cg_hier *h = cg_v2(cg);
        /* refuse what v2 cannot express before writing anything */
        if (res->has_memory_swappiness)
                return moat_error_set(err, ENOTSUP, "linux.resources.memory.swappiness: not supported on cgroup v2");
        if (res->has_disable_oom_killer && res->disable_oom_killer)
                return moat_error_set(err, ENOTSUP,
                                      "linux.resources.memory.disableOOMKiller: not supported on cgroup v2");
        if (res->has_use_hierarchy && !res->use_hierarchy)
                return moat_error_set(err, ENOTSUP,
                                      "linux.resources.memory.useHierarchy: cgroup v2 is always hierarchical");
        if (res->has_blkio_leaf_weight)
                return moat_error_set(err, ENOTSUP, "linux.resources.blockIO.leafWeight: not supported on cgroup v2");
        for (size_t i = 0; i < res->n_weight_devices; i++)
                if (res->weight_devices[i].has_leaf_weight)
                        return moat_error_set(err, ENOTSUP,
                                              "linux.resources.blockIO.weightDevice[%zu].leafWeight: not supported on "
                                              "cgroup v2",
                                              i);
        /* OCI swap is memory+swap; v2 limits swap alone */
        char swapv[32] = "";
        if (res->has_memory_swap) {
                if (res->memory_swap == -1)
                        snprintf(swapv, sizeof swapv, "max");
                else if (!res->has_memory_limit || res->memory_limit == -1)
                        return moat_error_set(err, EINVAL,
                                              "linux.resources.memory.swap: a swap limit needs a memory limit");
                else if (res->memory_swap < res->memory_limit)
                        return moat_error_set(err, EINVAL,
                                              "linux.resources.memory.swap: %" PRId64
                                              " is below memory.limit %" PRId64 " (swap counts memory plus swap)",
                                              res->memory_swap, res->memory_limit);
                else
                        snprintf(swapv, sizeof swapv, "%" PRId64, res->memory_swap - res->memory_limit);
        }
        char avail[1024] = "";
        if (res->n_unified) {
                struct cg_hier rooth = {.dir = cg->root, .dfd = -1};
                (void) cg_read(&rooth, "cgroup.controllers", avail, sizeof avail, NULL);
        }
        for (size_t i = 0; i < res->n_unified; i++) {
                const char *k = res->unified_keys[i];
                size_t pl = strcspn(k, ".");
                static const char *const core[] = {"cgroup", "cpu", "io", "memory", "irq"};
                bool ok = false;
                for (size_t j = 0; j < ARRAY_SIZE(core); j++)
                        ok |= strlen(core[j]) == pl && strncmp(core[j], k, pl) == 0;
                for (const char *p = avail; !ok && *p;) {
                        p += strspn(p, " \n");
                        size_t m = strcspn(p, " \n");
                        ok = m == pl && m && strncmp(p, k, pl) == 0;
                        p += m;
                }
                if (!ok)
                        return moat_error_set(err, EINVAL,
                                              "linux.resources.unified: key \"%s\" belongs to no controller this host "
                                              "offers",
                                              k);
        }

        char a[96];
        int r;
        if (res->has_memory_limit) {
                if ((r = check_usage(h, "memory.current", res, err)) < 0)
                        return r;
                if ((r = cg_write(cg, h, "memory.max",
                                  res->memory_limit < 0 ? "max" : NUM(a, "%" PRId64, res->memory_limit), err)) < 0)
                        return r;
        }
        if (res->has_memory_reservation &&
            (r = cg_write(cg, h, "memory.low",
                          res->memory_reservation < 0 ? "max" : NUM(a, "%" PRId64, res->memory_reservation), err)) < 0)
                return r;
        if (swapv[0]) {
                r = cg_write_opt(cg, h, "memory.swap.max", swapv, err);
                if (r == -ENOENT && !streq(swapv, "max"))
                        return moat_error_set(err, ENOTSUP,
                                              "linux.resources.memory.swap: this kernel has no swap accounting "
                                              "(%s/memory.swap.max is missing)",
                                              h->dir);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        if (res->has_cpu_shares &&
            (r = cg_write(cg, h, "cpu.weight", NUM(a, "%" PRIu64, shares_to_weight(res->cpu_shares)), err)) < 0)
                return r;
        if (res->has_cpu_quota || res->has_cpu_period) {
                char q[32] = "max";
                if (res->has_cpu_quota && res->cpu_quota > 0)
                        snprintf(q, sizeof q, "%" PRId64, res->cpu_quota);
                if (res->has_cpu_period)
                        snprintf(a, sizeof a, "%s %" PRIu64, q, res->cpu_period);
                else
                        snprintf(a, sizeof a, "%s", q);
                if ((r = cg_write(cg, h, "cpu.max", a, err)) < 0)
                        return r;
        }
        if (res->has_cpu_burst && (r = cg_write(cg, h, "cpu.max.burst", NUM(a, "%" PRIu64, res->cpu_burst), err)) < 0)
                return r;
        if (res->has_cpu_idle && (r = cg_write(cg, h, "cpu.idle", NUM(a, "%" PRId64, res->cpu_idle), err)) < 0)
                return r;
        if (res->cpuset_cpus && (r = cg_write(cg, h, "cpuset.cpus", res->cpuset_cpus, err)) < 0)
                return r;
        if (res->cpuset_mems && (r = cg_write(cg, h, "cpuset.mems", res->cpuset_mems, err)) < 0)
                return r;
        if (res->has_pids_limit &&
            (r = cg_write(cg, h, "pids.max", res->pids_limit > 0 ? NUM(a, "%" PRId64, res->pids_limit) : "max",
                          err)) < 0)
                return r;
        if (res->has_blkio_weight) {
                r = cg_write_opt(cg, h, "io.weight", NUM(a, "%" PRIu64, blkio_to_io_weight(res->blkio_weight)), err);
                if (r == -ENOENT) /* only BFQ: it takes the v1 scale */
                        r = cg_write(cg, h, "io.bfq.weight", NUM(a, "%u", res->blkio_weight), err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < res->n_weight_devices; i++) {
                const struct moat_cgroup_weight_device *w = &res->weight_devices[i];
                if (!w->has_weight)
                        continue;
                snprintf(a, sizeof a, "%" PRIu64 ":%" PRIu64 " %" PRIu64, w->major, w->minor,
                         blkio_to_io_weight(w->weight));
                if ((r = cg_write(cg, h, "io.weight", a, err)) < 0)
                        return r;
        }
        if ((r = write_throttles(cg, h, "io.max", res->throttle_read_bps, res->n_throttle_read_bps, "rbps", err)) < 0 ||
            (r = write_throttles(cg, h, "io.max", res->throttle_write_bps, res->n_throttle_write_bps, "wbps", err)) < 0 ||
            (r = write_throttles(cg, h, "io.max", res->throttle_read_iops, res->n_throttle_read_iops, "riops", err)) <
                    0 ||
            (r = write_throttles(cg, h, "io.max", res->throttle_write_iops, res->n_throttle_write_iops, "wiops", err)) <
                    0)
                return r;
        for (size_t i = 0; i < res->n_hugepages; i++) {
                char file[96];
                snprintf(file, sizeof file, "hugetlb.%s.max", res->hugepages[i].page_size);
                if ((r = cg_write(cg, h, file, NUM(a, "%" PRIu64, res->hugepages[i].limit), err)) < 0)
                        return r;
        }
        /* v2 has no devices controller: the list becomes an eBPF device program (cgroup_bpf.c) */
        if (res->n_devices && !cg->fake && (r = moat_cgroup_bpf_devices_apply(h->dfd, res->devices, res->n_devices,
                                                                                 err)) < 0)
                return moat_error_wrap(err, "linux.resources.devices on cgroup v2");
        /* unified last, so raw values override the converted ones above (as runc does) */
        for (size_t i = 0; i < res->n_unified; i++) {
                r = cg_write_opt(cg, h, res->unified_keys[i], res->unified_values[i], err);
                if (r == -ENOENT)
                        return moat_error_set(err, ENOENT,
                                              "linux.resources.unified: key \"%s\": no such file in %s (controller not "
                                              "enabled, or not a cgroup v2 file)",
                                              res->unified_keys[i], h->dir);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- stats ---- */

static bool read_u64(struct cg_hier *h, const char *file, uint64_t *out)
{
        char buf[64];
        if (!h || cg_read(h, file, buf, sizeof buf, NULL) < 0)
                return false;
        if (startswith(buf, "max")) {
                *out = UINT64_MAX;
                return true;
        }
        char *end;
        errno = 0;
        unsigned long long v = strtoull(buf, &end, 10);
        if (errno || end == buf)
                return false;
        *out = v;
        return true;
}

static bool read_text(struct cg_hier *h, const char *file, char **out)
{
        return h && moat_read_file_at(h->dfd >= 0 ? h->dfd : AT_FDCWD, file, 1u << 20, out, NULL, NULL) == 0;
}

int cg_v1_stats(struct moat_cgroup *cg, struct moat_cgroup_stats *st, struct moat_error *err)
{
        struct cg_hier *mem = cg_hier_for(cg, "memory"), *pids = cg_hier_for(cg, "pids"),
                       *acct = cg_hier_for(cg, "cpuacct"), *blkio = cg_hier_for(cg, "blkio");
        (void) read_u64(mem, "memory.usage_in_bytes", &st->memory_usage);
        (void) read_u64(mem, "memory.limit_in_bytes", &st->memory_limit);
        (void) read_u64(mem, "memory.max_usage_in_bytes", &st->memory_max_usage);
        if (st->memory_limit >= (1ULL << 62)) /* v1 says "unlimited" as the largest page-aligned value */
                st->memory_limit = UINT64_MAX;
        char buf[512];
        if (mem && cg_read(mem, "memory.oom_control", buf, sizeof buf, NULL) == 0)
                (void) cg_kv_get(buf, "oom_kill", &st->oom_kills);
        (void) read_u64(acct, "cpuacct.usage", &st->cpu_usage_ns);
        (void) read_u64(pids, "pids.current", &st->pids_current);
        (void) read_u64(pids, "pids.max", &st->pids_limit);
        _cleanup_free_ char *path = blkio ? xasprintf("%s/blkio.throttle.io_service_bytes", blkio->dir) : NULL;
        _cleanup_free_ char *text = NULL;
        if (path && moat_read_file(path, 1u << 20, &text, NULL, NULL) == 0) {
                /* "8:0 Read 1234" */
                for (char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                        char op[16];
                        unsigned long long v;
                        if (sscanf(l, "%*u:%*u %15s %llu", op, &v) != 2)
                                continue;
                        if (streq(op, "Read"))
                                st->io_read_bytes += v;
                        else if (streq(op, "Write"))
                                st->io_write_bytes += v;
                }
        }
        return 0;
}

int cg_v2_stats(struct moat_cgroup *cg, struct moat_cgroup_stats *st, struct moat_error *err)
{
        struct cg_hier *h = cg_v2(cg);
        (void) read_u64(h, "memory.current", &st->memory_usage);
        (void) read_u64(h, "memory.max", &st->memory_limit);
        (void) read_u64(h, "memory.peak", &st->memory_max_usage);
        (void) read_u64(h, "pids.current", &st->pids_current);
        (void) read_u64(h, "pids.max", &st->pids_limit);
        char buf[1024];
        if (cg_read(h, "memory.events", buf, sizeof buf, NULL) == 0)
                (void) cg_kv_get(buf, "oom_kill", &st->oom_kills);
        uint64_t usec;
        if (cg_read(h, "cpu.stat", buf, sizeof buf, NULL) == 0 && cg_kv_get(buf, "usage_usec", &usec))
                st->cpu_usage_ns = usec * 1000;
        _cleanup_free_ char *text = NULL;
        if (read_text(h, "io.stat", &text)) {
                /* "8:0 rbytes=1 wbytes=2 rios=3 ..." */
                for (char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                        char *p;
                        if ((p = strstr(l, "rbytes=")) && (!strchr(l, '\n') || p < strchr(l, '\n')))
                                st->io_read_bytes += strtoull(p + 7, NULL, 10);
                        if ((p = strstr(l, "wbytes=")) && (!strchr(l, '\n') || p < strchr(l, '\n')))
                                st->io_write_bytes += strtoull(p + 7, NULL, 10);
                }
        }
        return 0;
}
