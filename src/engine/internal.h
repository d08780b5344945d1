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
int moat_engine_build_spec(struct moat_engine *e, const char *id, const struct moat_container_opts *o,
                           json_t *image_config, const char *rootfs, json_t **spec_out, json_t **record_out,
                           struct moat_error *err);
/* "name[:group]" or "uid[:gid]" resolved in the container's own /etc/passwd and /etc/group, read
 * through openat2(RESOLVE_IN_ROOT) so a symlink in the image cannot point at the host's files. */
int moat_engine_resolve_user(const char *rootfs, const char *user, uid_t *uid, gid_t *gid, struct moat_error *err);
char *moat_engine_generate_name(unsigned seed);
/* The record's Healthcheck as moat-monitor's --health argument (argv and docker's defaults
 * resolved); NULL when there is none to run. */
char *moat_engine_health_arg(json_t *healthcheck);
/* Append one line to <root>/events.log: {"time","type":"container","action","id","name",...extra};
 * extra (may be NULL) is consumed. */
void moat_engine_event(struct moat_engine *e, const char *action, const char *id, const char *name, json_t *extra);
char *moat_engine_volume_path(struct moat_engine *e, const char *name);
/* -v NAME:/dest -> the named volume's directory; the names used are appended to used. */
int moat_engine_resolve_binds(struct moat_engine *e, char **binds, char ***out, json_t *used, struct moat_error *err);

bool moat_engine_name_valid(const char *n);

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
