/* cgroup_internal: the cgroup handle shared by the lifecycle code (cgroup.c) and the resource
 * writers (cgroup_apply.c). Private to src/runtime/cgroup*.c. */
#ifndef MOAT_CGROUP_INTERNAL_H
#define MOAT_CGROUP_INTERNAL_H

#include "cgroup.h"

/* One hierarchy the container's cgroup lives in: every v1 controller mount, the v2 tree, or (aux)
 * the hybrid host's cgroup2 at <root>/unified, which is kept in step but never causes a failure. */
struct cg_hier {
        char *ctls; /* ",cpu,cpuacct," (v1: the mount's directory name split on ','); "" on v2 */
        char *dir;  /* the leaf: "<root>/<mount>/<path>" */
        int dfd;    /* cgroup2 leaf directory (clone3 target, openat base); -1 otherwise */
        int join_fd; /* moat_cgroup_join_prepare: v1 `tasks` or cgroup2 `cgroup.procs`; -1 otherwise */
        bool created; /* the leaf is ours to remove */
        bool aux;
        bool needed; /* aux, but holding limits (hybrid hugetlb): joining it is no longer optional */
        char **made; /* ancestors this create() made, outermost first (for rollback) */
        size_t n_made;
};

struct moat_cgroup {
        enum moat_cgroup_mode mode;
        /* The root is not a real cgroupfs (unit tests): control files do not appear by
         * themselves, so writes create them and destroy removes plain files first. */
        bool fake;
        char *root;
        char *path; /* "/moat/<id>" */
        struct cg_hier *h;
        size_t n_h;
};

/* v1: the hierarchy that holds controller `name` (NULL when it is not mounted). */
struct cg_hier *cg_hier_for(struct moat_cgroup *cg, const char *name);
/* The (non-aux) v2 hierarchy. */
static inline struct cg_hier *cg_v2(struct moat_cgroup *cg) { return &cg->h[0]; }

/* Write val to <h->dir>/<file>. The error names the value and the full path. */
int cg_write(struct moat_cgroup *cg, struct cg_hier *h, const char *file, const char *val, struct moat_error *err);
/* Same, but a missing file is reported as -ENOENT without touching err. */
int cg_write_opt(struct moat_cgroup *cg, struct cg_hier *h, const char *file, const char *val,
                 struct moat_error *err);
/* Several values into one file through one open (a devices.allow list, io.max lines): cgroup
 * files take each write(2) as one value. */
int cg_open_write(struct moat_cgroup *cg, struct cg_hier *h, const char *file, struct moat_error *err);
int cg_fd_write(struct moat_cgroup *cg, int fd, struct cg_hier *h, const char *file, const char *val,
                struct moat_error *err);
/* Read a small control file into buf (NUL terminated, trailing newline kept). */
int cg_read(struct cg_hier *h, const char *file, char *buf, size_t size, struct moat_error *err);

/* cgroup2 (v2, or the hybrid aux tree): enable each of `wanted` that the hierarchy root offers in
 * cgroup.subtree_control of every ancestor of h's leaf. Failures to enable are left for the
 * writes that need the controller to report. */
int cg_enable_controllers(struct moat_cgroup *cg, struct cg_hier *h, const char *const *wanted, size_t n_wanted,
                          struct moat_error *err);

int cg_v1_apply(struct moat_cgroup *cg, const struct moat_cgroup_resources *res, struct moat_error *err);
int cg_v2_apply(struct moat_cgroup *cg, const struct moat_cgroup_resources *res, struct moat_error *err);
int cg_v1_stats(struct moat_cgroup *cg, struct moat_cgroup_stats *st, struct moat_error *err);
int cg_v2_stats(struct moat_cgroup *cg, struct moat_cgroup_stats *st, struct moat_error *err);

/* "key value" lookup in a flat-keyed control file's text (memory.events, cpu.stat). */
bool cg_kv_get(const char *text, const char *key, uint64_t *out);

#endif
