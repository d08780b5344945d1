/* seccomp: the OCI linux.seccomp section compiled to a classic BPF program with libseccomp,
 * cached by a hash of the profile (and the capability set it was resolved against), so a start
 * with the default profile costs one file read. Also Moat's built-in default profile. */
#ifndef MOAT_SECCOMP_H
#define MOAT_SECCOMP_H

#include <jansson.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

struct moat_seccomp_program {
        struct sock_filter *filter; /* malloc'd */
        unsigned short len;
        unsigned int flags;  /* SECCOMP_FILTER_FLAG_* from the profile's "flags" */
        bool notify;         /* the profile uses SCMP_ACT_NOTIFY */
        char *listener_path; /* for notify: where to send the listener fd */
        char *listener_metadata;
        bool cached;         /* (added) taken from the compiled-profile cache, not rebuilt */
};
void moat_seccomp_program_free(struct moat_seccomp_program *p);

/* Compile (or load from cache_dir, keyed by a hash of the canonical profile JSON) the profile.
 * cache_dir NULL disables caching. Errors name the bad field. */
int moat_seccomp_compile(json_t *profile, const char *cache_dir, struct moat_seccomp_program *out,
                         struct moat_error *err);

/* (added) The cache key of a profile: SHA-256 over the canonical JSON (sorted keys, compact),
 * the kernel's cap_last_cap, the libseccomp version, the native arch and Moat's cache format
 * version, as 64 hex digits plus NUL. */
int moat_seccomp_cache_key(json_t *profile, char hex[65], struct moat_error *err);

/* Load the program into the calling thread. Returns the notify listener fd (>= 0) when the
 * profile uses SCMP_ACT_NOTIFY, 0 otherwise, negative on error. */
int moat_seccomp_load(const struct moat_seccomp_program *p, struct moat_error *err);

/* Send the listener fd and the OCI state to listenerPath (the OCI seccomp agent protocol). */
int moat_seccomp_send_listener(const struct moat_seccomp_program *p, int listener_fd, const char *state_json,
                               struct moat_error *err);

/* Moat's built-in default profile (Docker's, plus AF_PACKET denied unless NET_RAW), as an OCI
 * linux.seccomp object, with capability-gated rules resolved against the given bounding set
 * (a NULL-terminated list of "CAP_*" names). Caller owns the reference. */
json_t *moat_seccomp_default_profile(const char *const *bounding_caps);

#endif
