/* seccomp: (stub: filled in by the confinement work) */
#include "seccomp.h"

void moat_seccomp_program_free(struct moat_seccomp_program *p) { (void) p; }
int moat_seccomp_compile(json_t *profile, const char *cache_dir, struct moat_seccomp_program *out,
                         struct moat_error *err)
{
        return moat_error_set(err, ENOSYS, "linux.seccomp: not implemented yet");
}
int moat_seccomp_load(const struct moat_seccomp_program *p, struct moat_error *err)
{
        return moat_error_set(err, ENOSYS, "seccomp: not implemented yet");
}
int moat_seccomp_send_listener(const struct moat_seccomp_program *p, int listener_fd, const char *state_json,
                               struct moat_error *err)
{
        return moat_error_set(err, ENOSYS, "seccomp: not implemented yet");
}
json_t *moat_seccomp_default_profile(const char *const *bounding_caps) { return NULL; }
