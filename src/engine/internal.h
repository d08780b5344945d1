/* internal: what the engine's files share with each other and nobody else. */
#ifndef MOAT_ENGINE_INTERNAL_H
#define MOAT_ENGINE_INTERNAL_H

#include "engine/engine.h"
#include "image/image.h"
#include "runtime/runtime.h"
#include "util/db.h"
#include "util/log.h"

struct moat_engine {
        char *root;        /* --root */
        char *containers;  /* <root>/containers */
        char *run_root;    /* the runtime library's state root */
        struct moat_image_store *store;
        struct moat_db *db;
        struct moat_runtime rt;
};

/* config.c: the OCI config.json for a container and the engine's record of the request. */
struct moat_mount_req;
int moat_engine_build_spec(struct moat_engine *e, const char *id, const struct moat_container_opts *o,
                           json_t *image_config, const char *rootfs, const struct moat_mount_req *mounts,
                           size_t n_mounts, json_t **spec_out, json_t **record_out, struct moat_error *err);
/* The exclusive lock every change of a container is made under (an fd to close; < 0: the
 * container's directory is gone). */
int moat_engine_lock_container(struct moat_engine *e, const char *id);
/* no | always | unless-stopped | on-failure[:N] */
int moat_engine_restart_policy_check(const char *policy, struct moat_error *err);
/* docker's resource flags into an OCI linux.resources object (create and update): memory (swap:
 * memory+swap, -1 unlimited), cpu shares, cpus (a quota over a 100 ms period), pids (-1
 * unlimited), cpuset cpus and mems; 0 or NULL leaves a value as it is. Checked against the memory
 * limit already there. */
struct moat_engine_limits {
        int64_t memory, memory_swap;
        uint64_t cpu_shares;
        double cpus;
        int64_t pids_limit;
        const char *cpuset_cpus, *cpuset_mems; /* docker's list syntax ("0-2,4"); NULL unchanged */
};
int moat_engine_set_resources(json_t *res, const struct moat_engine_limits *l, struct moat_error *err);
/* "name[:group]" or "uid[:gid]" resolved in the container's own /etc/passwd and /etc/group, read
 * through openat2(RESOLVE_IN_ROOT) so a symlink in the image cannot point at the host's files. */
int moat_engine_resolve_user(const char *rootfs, const char *user, uid_t *uid, gid_t *gid, struct moat_error *err);
char *moat_engine_generate_name(unsigned seed);
/* The record's Healthcheck as moat-monitor's --health argument (argv and docker's defaults
 * resolved); NULL when there is none to run. */
char *moat_engine_health_arg(json_t *healthcheck, json_t *shell);
/* Append one line to <root>/events.log: {"time","type":"container","action","id","name",...extra};
 * extra (may be NULL) is consumed. */
void moat_engine_event(struct moat_engine *e, const char *action, const char *id, const char *name, json_t *extra);
/* moat_engine_start (not attached) that says whether it started the container: false when it was
 * running already (another process started it first) */
int moat_engine_start_once(struct moat_engine *e, const char *name_or_id, bool *started, struct moat_error *err);
char *moat_engine_volume_path(struct moat_engine *e, const char *name);
/* docker's filter matching (filter.c): an unanchored extended regular expression (false when it
 * does not compile); a label filter "KEY" or "KEY=VALUE" against a labels object. */
bool moat_filter_regex(const char *re, const char *s);
bool moat_filter_label(json_t *labels, const char *want);
/* Create volume name (labels: NULL or an object) unless it exists: 1 created, 0 existed. */
int moat_engine_volume_make(struct moat_engine *e, const char *name, json_t *labels, struct moat_error *err);
/* docker's label on an anonymous volume (-v /dest, --mount without source, the image's Volumes) */
#define MOAT_VOLUME_ANONYMOUS_LABEL "com.docker.volume.anonymous"
/* Remove the volumes of names (a JSON array) that no container uses and, when anonymous_only, that
 * carry the anonymous label; failures are warnings (a volume in use stays). */
void moat_engine_volumes_release(struct moat_engine *e, json_t *names, bool anonymous_only);

/* mounts.c: -v, --mount, --tmpfs and the image's Volumes as one list. */
enum moat_mount_type { MOAT_MOUNT_REQ_BIND, MOAT_MOUNT_REQ_VOLUME, MOAT_MOUNT_REQ_TMPFS };
struct moat_mount_req {
        enum moat_mount_type type;
        char *source;      /* bind: canonical host path; volume: its name; tmpfs: the --tmpfs options or NULL */
        char *target;      /* clean absolute path in the container */
        char *propagation; /* bind: NULL (rprivate) or docker's bind-propagation */
        char *spec;        /* what the user wrote (the image's path for its Volumes) */
        const char *flag;  /* "-v", "--mount", "--tmpfs", "image volume" */
        bool ro, nocopy, anonymous, from_image;
        bool inherited;     /* --volumes-from: the volume must exist already */
        int64_t tmpfs_size; /* 0: the kernel's default */
        int tmpfs_mode;     /* -1: the kernel's default */
};
/* e: for --volumes-from (may be NULL when o has none) */
int moat_mount_reqs_parse(struct moat_engine *e, const struct moat_container_opts *o, json_t *image_config,
                          struct moat_mount_req **out, size_t *n, struct moat_error *err);
struct moat_userns;
/* Volumes: named ones created on first use, anonymous ones named, new empty ones filled from the
 * image (unless nocopy; uns: see moat_engine_copy_image_dir). Names used are appended to used,
 * those this call created to created. */
int moat_mount_reqs_prepare(struct moat_engine *e, struct moat_mount_req *m, size_t n, const char *rootfs,
                            const struct moat_userns *uns, json_t *used, json_t *created, struct moat_error *err);
void moat_mount_reqs_free(struct moat_mount_req *m, size_t n);
/* "a:b:c" -> up to 4 parts (a 4th means too many), split in place; returns how many. */
size_t moat_engine_split_colons(char *s, char *part[4]);
/* "/a//b/./c/" -> "/a/b/c"; NULL for a relative path, one with "..", or "/" itself. */
char *moat_engine_clean_path(const char *path);

/* A helper binary: $env, else beside the running executable, else in the build tree's
 * src/<build_dir>/ (tests run from there); NULL when none exists. */
char *moat_engine_find_helper(const char *name, const char *env, const char *build_dir);
/* where --init's moat-init appears in the container */
#define MOAT_INIT_PATH "/dev/init"

/* cp.c: copy the contents of directory path of a container's root filesystem (walked chrooted,
 * symlinks copied, never followed) into the host directory dst, with owners and modes; nothing
 * to do when path is not a directory in the image. */
/* uns: the container's own user namespace (the rootfs shows the image's ids shifted into its
 * range; the copy gets them unshifted), or NULL */
int moat_engine_copy_image_dir(const char *rootfs, const char *path, const char *dst, const struct moat_userns *uns,
                               struct moat_error *err);

bool moat_engine_name_valid(const char *n);

/* boot.c: reboots and who stopped a container. */
#define MOAT_ERROR_HOST_REBOOTED "the host rebooted while the container ran; it was not stopped cleanly"
/* c's record says it started in another boot than this one (a monitor found gone: the reboot ended it) */
bool moat_engine_rebooted_since(const struct moat_container_info *c);
/* At a start: this boot's id in the record, and not stopped by the user. */
int moat_engine_record_start(struct moat_engine *e, const char *id, struct moat_error *err);
/* stop, kill, rm -f: docker's HasBeenManuallyStopped (failures are warnings) */
void moat_engine_mark_stopped_by_user(struct moat_engine *e, const char *id);
/* The container's root filesystem mounted again when a reboot took it (a no-op while mounted). */
int moat_engine_mount_rootfs(struct moat_engine *e, const struct moat_container_info *c, struct moat_error *err);

/* userns.c: a container's own user namespace (root inside = uid..uid+size-1 outside). */
struct moat_userns {
        uint32_t uid, gid, size;
};
/* Take the lowest free range for container id (its row's userns_slot). */
int moat_engine_userns_allocate(struct moat_engine *e, const char *id, struct moat_userns *u, struct moat_error *err);
/* Make the way to the container's rootfs passable for its root (see userns.c). */
int moat_engine_userns_prepare_dirs(struct moat_engine *e, const char *cdir, const struct moat_userns *u,
                                    struct moat_error *err);
/* The user namespace, its mappings and idmapped named volumes in the spec; inspect's fields. */
void moat_engine_userns_apply(struct moat_engine *e, json_t *spec, json_t *rec, const struct moat_userns *u);

#endif
