/* cgroup: one interface over two backends, chosen at run time: v1/hybrid (controllers mounted
 * at <root>/<controller>) and v2 (a unified tree at <root>). Moat's cgroups live under a parent
 * of its own; nothing outside what Moat created is ever moved or removed. */
#ifndef MOAT_CGROUP_H
#define MOAT_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/util.h"

/* Unset numeric fields are marked by the has_* flags; strings are NULL when unset. */
struct moat_cgroup_throttle {
        uint64_t major, minor, rate;
};
struct moat_cgroup_weight_device {
        uint64_t major, minor;
        uint16_t weight, leaf_weight;
        bool has_weight, has_leaf_weight;
};
struct moat_cgroup_hugepage {
        char *page_size; /* "2MB", "1GB" */
        uint64_t limit;
};
struct moat_cgroup_device_rule {
        bool allow;
        char type;  /* 'a', 'c' or 'b' */
        int64_t major, minor; /* -1 is wildcard */
        char access[4]; /* subset of "rwm" */
};

struct moat_cgroup_resources {
        /* memory */
        bool has_memory_limit, has_memory_reservation, has_memory_swap, has_memory_swappiness,
                has_disable_oom_killer, has_use_hierarchy;
        int64_t memory_limit, memory_reservation, memory_swap; /* -1 is unlimited */
        uint64_t memory_swappiness;
        bool disable_oom_killer;
        /* cpu */
        bool has_cpu_shares, has_cpu_quota, has_cpu_period, has_cpu_burst, has_cpu_idle;
        uint64_t cpu_shares, cpu_period, cpu_burst;
        int64_t cpu_quota, cpu_idle;
        char *cpuset_cpus, *cpuset_mems;
        /* pids */
        bool has_pids_limit;
        int64_t pids_limit; /* <= 0 is unlimited */
        /* block io */
        bool has_blkio_weight, has_blkio_leaf_weight;
        uint16_t blkio_weight, blkio_leaf_weight;
        struct moat_cgroup_weight_device *weight_devices;
        size_t n_weight_devices;
        struct moat_cgroup_throttle *throttle_read_bps, *throttle_write_bps, *throttle_read_iops,
                *throttle_write_iops;
        size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops, n_throttle_write_iops;
        /* hugetlb */
        struct moat_cgroup_hugepage *hugepages;
        size_t n_hugepages;
        /* devices (v1 devices cgroup; v2 eBPF program) */
        struct moat_cgroup_device_rule *devices;
        size_t n_devices;
        /* v2 raw key/values, "unified" in the OCI config; on v1 refused */
        char **unified_keys, **unified_values;
        size_t n_unified;
        /* memory.checkBeforeUpdate: refuse a limit below the current usage (update) */
        bool has_memory_check_before_update, memory_check_before_update;
        bool use_hierarchy; /* memory.useHierarchy, valid when has_use_hierarchy */
};

/* Parse linux.resources (NULL is fine: nothing set). Errors name the bad field
 * ("linux.resources.memory.limit: expected an integer"). */
int moat_cgroup_resources_parse(json_t *resources, struct moat_cgroup_resources *out, struct moat_error *err);
void moat_cgroup_resources_free(struct moat_cgroup_resources *r);
/* Overlay the fields set in `upd` onto `base` (for `update`). */
void moat_cgroup_resources_merge(struct moat_cgroup_resources *base, const struct moat_cgroup_resources *upd);

enum moat_cgroup_mode { MOAT_CGROUP_V1 = 1, MOAT_CGROUP_V2 = 2 };

struct moat_cgroup;

/* Detect the host's layout. root is normally "/sys/fs/cgroup"; unit tests pass a fake directory. */
int moat_cgroup_detect(const char *root, enum moat_cgroup_mode *mode, struct moat_error *err);

/* Create (mkdir) the container's cgroup. `path` is linux.cgroupsPath: absolute paths are taken
 * relative to each hierarchy's root, relative ones under Moat's parent; NULL means
 * "<parent>/<id>" where parent is "moat". Limits in res are applied before any process joins.
 * root NULL means "/sys/fs/cgroup". An existing leaf is refused (EEXIST): it is not Moat's to limit
 * or remove. On failure nothing create made is left behind. systemd "slice:prefix:name" paths and
 * "."/".." components are refused. */
int moat_cgroup_create(const char *root, const char *path, const char *id, const struct moat_cgroup_resources *res,
                       struct moat_cgroup **out, struct moat_error *err);
/* Re-open an existing container's cgroup from the path recorded at create time. */
int moat_cgroup_open(const char *root, const char *path, struct moat_cgroup **out, struct moat_error *err);
void moat_cgroup_free(struct moat_cgroup *cg);
static inline void moat_cgroup_freep(struct moat_cgroup **cg)
{
        if (*cg)
                moat_cgroup_free(*cg);
}
#define _cleanup_cgroup_ _cleanup_(moat_cgroup_freep)

enum moat_cgroup_mode moat_cgroup_mode_of(const struct moat_cgroup *cg);
/* The resolved path relative to the hierarchy root, e.g. "/moat/abc" (recorded in state). */
const char *moat_cgroup_path(const struct moat_cgroup *cg);
/* An O_DIRECTORY fd for clone3(CLONE_INTO_CGROUP), owned by cg: the v2 leaf, or on a hybrid host
 * the cgroup2 view's leaf once moat_cgroup_join_prepare has opened it; otherwise -1. */
int moat_cgroup_dirfd(struct moat_cgroup *cg);
/* Whether clone3 into moat_cgroup_dirfd() places a process in every hierarchy (pure v2), so a
 * cgroup namespace made at birth has the right root. */
bool moat_cgroup_clone_places_all(const struct moat_cgroup *cg);
/* A new process joins the cgroup by itself, without the kernel's global threadgroup lock (see
 * cgroup.c). Before clone: open the files it needs (owned by cg; O_CLOEXEC). In the child, first
 * thing and while single-threaded: join every hierarchy clone3 did not place it in (cloned_in:
 * clone3 landed in moat_cgroup_dirfd()), closing the files. In the parent after clone: release. */
int moat_cgroup_join_prepare(struct moat_cgroup *cg, struct moat_error *err);
int moat_cgroup_join_self(struct moat_cgroup *cg, bool cloned_in, struct moat_error *err);
void moat_cgroup_join_release(struct moat_cgroup *cg);
/* Apply limits to an existing cgroup (update). */
int moat_cgroup_apply(struct moat_cgroup *cg, const struct moat_cgroup_resources *res, struct moat_error *err);
/* Give ownership of the cgroup (v2: the directory and its delegatable files; v1: each
 * hierarchy's directory, cgroup.procs and tasks) to uid/gid, for user namespaces. */
int moat_cgroup_chown(struct moat_cgroup *cg, uid_t uid, gid_t gid, struct moat_error *err);
int moat_cgroup_freeze(struct moat_cgroup *cg, bool frozen, struct moat_error *err);
/* 1 frozen, 0 not; negative on error */
int moat_cgroup_is_frozen(struct moat_cgroup *cg);
/* Every pid in the cgroup (recursively), malloc'd array. */
int moat_cgroup_pids(struct moat_cgroup *cg, pid_t **pids, size_t *n, struct moat_error *err);
/* Send sig to every process in the cgroup (freezing around it so none escape by forking). */
int moat_cgroup_kill_all(struct moat_cgroup *cg, int sig, struct moat_error *err);
/* Remove the cgroup directories (waiting briefly for exited processes to leave).
 * Only ever removes what moat_cgroup_create made. */
int moat_cgroup_destroy(struct moat_cgroup *cg, struct moat_error *err);

/* Limits read as "max" (unlimited) are reported as UINT64_MAX; what the host lacks stays 0. */
struct moat_cgroup_stats {
        uint64_t memory_usage, memory_limit, memory_max_usage;
        uint64_t oom_kills; /* oom_kill count (v2 memory.events / v1 memory.oom_control) */
        uint64_t cpu_usage_ns, pids_current, pids_limit;
        uint64_t io_read_bytes, io_write_bytes;
};
int moat_cgroup_stats(struct moat_cgroup *cg, struct moat_cgroup_stats *st, struct moat_error *err);

#endif
