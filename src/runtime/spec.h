/* spec: the OCI runtime-spec (1.2) config model for Linux and its parser. Every field is checked
 * for type and bounds; an error names the field ("process.args[2]: expected a string"). */
#ifndef MOAT_SPEC_H
#define MOAT_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "runtime/caps.h"
#include "runtime/cgroup.h"
#include "util/util.h"

#define MOAT_SPEC_MAX_BYTES (8u << 20) /* config.json larger than this is refused */

enum moat_ns_type {
        MOAT_NS_PID,
        MOAT_NS_NET,
        MOAT_NS_MNT,
        MOAT_NS_IPC,
        MOAT_NS_UTS,
        MOAT_NS_USER,
        MOAT_NS_CGROUP,
        MOAT_NS_TIME,
        MOAT_NS_COUNT
};
const char *moat_ns_name(enum moat_ns_type t);    /* OCI name: "pid", "network", ... */
const char *moat_ns_procname(enum moat_ns_type t); /* /proc/PID/ns name: "pid", "net", ... */
int moat_ns_clone_flag(enum moat_ns_type t);

struct moat_namespace {
        bool present;
        char *path; /* join this one; NULL means create a new one */
};

struct moat_idmap {
        uint32_t container_id, host_id, size;
};

struct moat_rlimit {
        int resource;
        uint64_t soft, hard;
};

struct moat_user {
        uid_t uid;
        gid_t gid;
        bool has_umask;
        mode_t umask;
        gid_t *additional_gids;
        size_t n_additional_gids;
};

struct moat_process {
        bool terminal;
        unsigned console_height, console_width;
        struct moat_user user;
        char **args; /* NULL terminated */
        char **env;  /* NULL terminated */
        char *cwd;
        struct moat_caps caps;
        struct moat_rlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        bool has_oom_score_adj;
        int oom_score_adj;
        char *apparmor_profile, *selinux_label;
};

enum moat_mount_ext {
        MOAT_MOUNT_BIND = 1 << 0,
        MOAT_MOUNT_RBIND = 1 << 1,
        MOAT_MOUNT_TMPCOPYUP = 1 << 2,
        MOAT_MOUNT_IDMAP = 1 << 3,
        MOAT_MOUNT_RIDMAP = 1 << 4,
        MOAT_MOUNT_SRC_NOFOLLOW = 1 << 5,
};

struct moat_mount {
        char *destination; /* absolute, inside the container */
        char *type;        /* may be NULL for binds */
        char *source;
        unsigned long flags;       /* MS_* for the mount itself */
        unsigned long clear_flags; /* MS_* explicitly cleared (rw, suid...) */
        unsigned long propagation; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (| MS_REC) or 0 */
        unsigned long rec_attr_set, rec_attr_clr; /* MOUNT_ATTR_* for "rro", "rnosuid", ... */
        unsigned ext;              /* moat_mount_ext */
        char *data;                /* filesystem options joined by ',' */
        struct moat_idmap *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
        int host_tree; /* > 0: the bind source as a detached tree the runtime's parent made on the host (mounts.c) */
};

struct moat_hook {
        char *path;
        char **args; /* NULL terminated; may be NULL */
        char **env;
        int timeout; /* seconds; 0 = none */
};

enum moat_hook_stage {
        MOAT_HOOK_PRESTART,
        MOAT_HOOK_CREATE_RUNTIME,
        MOAT_HOOK_CREATE_CONTAINER,
        MOAT_HOOK_START_CONTAINER,
        MOAT_HOOK_POSTSTART,
        MOAT_HOOK_POSTSTOP,
        MOAT_HOOK_STAGES
};
const char *moat_hook_stage_name(enum moat_hook_stage s);

struct moat_device {
        char *path;
        char type; /* 'c', 'b', 'u', 'p' */
        int64_t major, minor;
        bool has_mode;
        mode_t mode;
        bool has_uid, has_gid;
        uid_t uid;
        gid_t gid;
};

struct moat_sysctl {
        char *key, *value;
};

struct moat_spec {
        char *oci_version;
        struct moat_process process;
        bool has_process;
        char *root_path; /* absolute after moat_spec_load resolves it against the bundle */
        bool root_readonly;
        char *hostname, *domainname;
        struct moat_mount *mounts;
        size_t n_mounts;
        struct moat_hook *hooks[MOAT_HOOK_STAGES];
        size_t n_hooks[MOAT_HOOK_STAGES];
        json_t *annotations; /* object or NULL */

        struct moat_namespace ns[MOAT_NS_COUNT];
        struct moat_idmap *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
        bool has_time_offsets;
        int64_t monotonic_secs, boottime_secs;
        uint32_t monotonic_nsecs, boottime_nsecs;
        struct moat_device *devices;
        size_t n_devices;
        char *cgroups_path;
        struct moat_cgroup_resources resources;
        json_t *resources_json; /* linux.resources as given, kept for state */
        unsigned long rootfs_propagation; /* MS_* or 0 (default: rslave-like private) */
        json_t *seccomp;                  /* linux.seccomp as given, or NULL */
        char **masked_paths, **readonly_paths;
        struct moat_sysctl *sysctls;
        size_t n_sysctls;
        bool has_personality;
        unsigned long personality;

        json_t *json; /* the whole document; kept alive for the fields above that borrow from it */
};

/* Parse a config document. `bundle` resolves a relative root.path. */
int moat_spec_parse(json_t *doc, const char *bundle, struct moat_spec *out, struct moat_error *err);
/* Read <bundle>/config.json and parse it. */
int moat_spec_load(const char *bundle, struct moat_spec *out, struct moat_error *err);
/* Parse a process object alone (exec --process). */
int moat_spec_parse_process(json_t *proc, const char *field, struct moat_process *out, struct moat_error *err);
void moat_process_free(struct moat_process *p);
void moat_spec_free(struct moat_spec *s);

/* "RLIMIT_NOFILE" -> RLIMIT_NOFILE, -1 when unknown */
int moat_rlimit_from_name(const char *name);

/* Moat's default config (what `moat-runtime spec` writes). rootless: user namespace mapped
 * to the caller, no network namespace changes that need privilege. Caller owns the reference. */
json_t *moat_spec_default(bool rootless);

#endif
