/* cgroup: backend selection and resource parsing. (stub: filled in by the cgroup work) */
#include "cgroup.h"

int moat_cgroup_resources_parse(json_t *resources, struct moat_cgroup_resources *out, struct moat_error *err)
{
        memset(out, 0, sizeof *out);
        if (resources && json_object_size(resources))
                return moat_error_set(err, ENOSYS, "linux.resources: not implemented yet");
        return 0;
}
void moat_cgroup_resources_free(struct moat_cgroup_resources *r) { (void) r; }
void moat_cgroup_resources_merge(struct moat_cgroup_resources *base, const struct moat_cgroup_resources *upd)
{
        (void) base;
        (void) upd;
}
int moat_cgroup_detect(const char *root, enum moat_cgroup_mode *mode, struct moat_error *err)
{
        return moat_error_set(err, ENOSYS, "cgroups: not implemented yet");
}
int moat_cgroup_create(const char *root, const char *path, const char *id, const struct moat_cgroup_resources *res,
                       struct moat_cgroup **out, struct moat_error *err)
{
        return moat_error_set(err, ENOSYS, "cgroups: not implemented yet");
}
int moat_cgroup_open(const char *root, const char *path, struct moat_cgroup **out, struct moat_error *err)
{
        return moat_error_set(err, ENOSYS, "cgroups: not implemented yet");
}
void moat_cgroup_free(struct moat_cgroup *cg) { (void) cg; }
enum moat_cgroup_mode moat_cgroup_mode_of(const struct moat_cgroup *cg) { return MOAT_CGROUP_V1; }
const char *moat_cgroup_path(const struct moat_cgroup *cg) { return ""; }
int moat_cgroup_dirfd(struct moat_cgroup *cg) { return -1; }
int moat_cgroup_enter(struct moat_cgroup *cg, pid_t pid, struct moat_error *err) { return moat_error_set(err, ENOSYS, "cgroups"); }
int moat_cgroup_apply(struct moat_cgroup *cg, const struct moat_cgroup_resources *res, struct moat_error *err) { return moat_error_set(err, ENOSYS, "cgroups"); }
int moat_cgroup_chown(struct moat_cgroup *cg, uid_t uid, gid_t gid, struct moat_error *err) { return moat_error_set(err, ENOSYS, "cgroups"); }
int moat_cgroup_freeze(struct moat_cgroup *cg, bool frozen, struct moat_error *err) { return moat_error_set(err, ENOSYS, "cgroups"); }
int moat_cgroup_is_frozen(struct moat_cgroup *cg) { return 0; }
int moat_cgroup_pids(struct moat_cgroup *cg, pid_t **pids, size_t *n, struct moat_error *err) { return moat_error_set(err, ENOSYS, "cgroups"); }
int moat_cgroup_kill_all(struct moat_cgroup *cg, int sig, struct moat_error *err) { return moat_error_set(err, ENOSYS, "cgroups"); }
int moat_cgroup_destroy(struct moat_cgroup *cg, struct moat_error *err) { return moat_error_set(err, ENOSYS, "cgroups"); }
int moat_cgroup_stats(struct moat_cgroup *cg, struct moat_cgroup_stats *st, struct moat_error *err) { return moat_error_set(err, ENOSYS, "cgroups"); }
