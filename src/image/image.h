/* image: the public face of src/image/ — the content store (blobs + records in the state DB),
 * pulling and pushing, layer unpacking, snapshots, and archive import/export. It knows nothing
 * of the runtime. */
#ifndef MOAT_IMAGE_H
#define MOAT_IMAGE_H

#include <stdint.h>

#include "image/manifest.h"
#include "image/reference.h"
#include "util/db.h"
#include "util/util.h"

struct moat_image_store;

/* Bounds applied to every layer unpacked (a layer is untrusted input). */
struct moat_image_limits {
        uint64_t max_layer_bytes;   /* sum of apparent file sizes in one layer */
        uint64_t max_entries;       /* tar entries in one layer */
};
#define MOAT_DEFAULT_MAX_LAYER_BYTES (64ull << 30)
#define MOAT_DEFAULT_MAX_ENTRIES 1000000ull

/* Open the store under root (creating blobs/, overlay/, snapshots/, tmp/ and moat.db). Limits can
 * be lowered with MOAT_MAX_LAYER_BYTES / MOAT_MAX_LAYER_ENTRIES in the environment. A process that
 * finds itself alone with the store collects garbage first, so content must be registered (or
 * referenced) before the store handle that wrote it is closed. */
int moat_image_store_open(const char *root, struct moat_image_store **out, struct moat_error *err);
void moat_image_store_close(struct moat_image_store *s);
static inline void moat_image_store_closep(struct moat_image_store **s)
{
        if (*s)
                moat_image_store_close(*s);
}
#define _cleanup_store_ _cleanup_(moat_image_store_closep)
struct moat_db *moat_image_store_db(struct moat_image_store *s);
const char *moat_image_store_root(struct moat_image_store *s);
struct moat_image_limits *moat_image_store_limits(struct moat_image_store *s);

/* --- blobs: content addressed, verified while written ---------------------------------------- */
struct moat_blob_writer;
/* expected_digest may be NULL (digest computed), expected_size < 0 (unknown). */
int moat_image_blob_writer_new(struct moat_image_store *s, const char *expected_digest, int64_t expected_size,
                               struct moat_blob_writer **out, struct moat_error *err);
int moat_image_blob_writer_write(struct moat_blob_writer *w, const void *buf, size_t len, struct moat_error *err);
/* Drop what was written so far (a retried download starts over). */
int moat_image_blob_writer_reset(struct moat_blob_writer *w, struct moat_error *err);
uint64_t moat_image_blob_writer_size(struct moat_blob_writer *w);
/* Check digest and size, fsync and move into place; out (may be NULL) receives the digest. */
int moat_image_blob_writer_commit(struct moat_blob_writer *w, char out[MOAT_DIGEST_LEN + 1], struct moat_error *err);
/* Discard (if not committed) and free. */
void moat_image_blob_writer_free(struct moat_blob_writer *w);
int moat_image_blob_put(struct moat_image_store *s, const char *expected_digest, const void *buf, size_t len,
                        char out[MOAT_DIGEST_LEN + 1], struct moat_error *err);
/* Read a whole blob (at most max bytes) and check it still matches its digest. */
int moat_image_blob_get(struct moat_image_store *s, const char *digest, size_t max, char **buf, size_t *len,
                        struct moat_error *err);
int moat_image_blob_open(struct moat_image_store *s, const char *digest, int *fd, struct moat_error *err);
bool moat_image_blob_exists(struct moat_image_store *s, const char *digest, int64_t size);

/* --- layers ------------------------------------------------------------------------------------ */
/* Make sure the layer with this diff id is unpacked under overlay/, unpacking blob_digest if not.
 * The tar stream is checked against diff_id; on any failure nothing is left behind. */
int moat_image_layer_ensure(struct moat_image_store *s, const char *blob_digest, const char *diff_id,
                            struct moat_error *err);
/* Unpack a (possibly compressed) tar from fd into the empty directory dirfd, enforcing limits; the
 * uncompressed stream's digest goes to diff_id_out. Exposed for tests. */
int moat_image_unpack_fd(int fd, int dirfd, const struct moat_image_limits *lim, char diff_id_out[MOAT_DIGEST_LEN + 1],
                         struct moat_error *err);
/* overlay/<hex of diff id> */
char *moat_image_layer_path(struct moat_image_store *s, const char *diff_id);

/* --- images ------------------------------------------------------------------------------------ */
/* Record an image whose manifest, config and layer blobs are in the store and whose layers are
 * unpacked; point name (full reference string, may be NULL) at it. out_id receives the image id. */
int moat_image_register(struct moat_image_store *s, const char *manifest_digest, const char *name,
                        char out_id[MOAT_DIGEST_LEN + 1], struct moat_error *err);

struct moat_image_info {
        char id[MOAT_DIGEST_LEN + 1];
        char manifest_digest[MOAT_DIGEST_LEN + 1];
        char *manifest_media_type;
        char **names;
        char *created, *os, *arch;
        int64_t size; /* sum of compressed layer sizes */
        int64_t added; /* unix seconds */
        size_t n_layers;
};
void moat_image_info_free(struct moat_image_info *v, size_t n);
/* Free the fields of one info (not the struct itself). */
void moat_image_info_clear(struct moat_image_info *v);
int moat_image_list(struct moat_image_store *s, struct moat_image_info **out, size_t *n, struct moat_error *err);
/* name, full reference, full id or unique id prefix (at least 4 hex) -> image id */
int moat_image_resolve(struct moat_image_store *s, const char *name_or_id, char out_id[MOAT_DIGEST_LEN + 1],
                       struct moat_error *err);
int moat_image_get(struct moat_image_store *s, const char *id, struct moat_image_info *out, struct moat_error *err);
/* The parsed config of an image. */
int moat_image_config_get(struct moat_image_store *s, const char *name_or_id, struct moat_image_config *c,
                          struct moat_error *err);
/* Docker-style inspect document (malloc'd JSON text). */
int moat_image_inspect(struct moat_image_store *s, const char *name_or_id, char **json, struct moat_error *err);
int moat_image_tag(struct moat_image_store *s, const char *src, const char *target, struct moat_error *err);
/* Remove a name; when it was the last one (or an id was given) remove the image. An image used by a
 * snapshot is refused unless force. Unreferenced content is collected afterwards. */
int moat_image_remove(struct moat_image_store *s, const char *name_or_id, bool force, struct moat_error *err);
/* Remove untagged images (all unused ones when all), then collect garbage. */
int moat_image_prune(struct moat_image_store *s, bool all, uint64_t *freed, size_t *removed, struct moat_error *err);
/* Delete blobs and layers no image references. Skipped (returns 0) while another process holds the
 * store, so an in-flight pull never loses its blobs. */
int moat_image_gc(struct moat_image_store *s, uint64_t *freed, struct moat_error *err);
/* The ordered layer diff ids of an image (bottom first). */
int moat_image_layers(struct moat_image_store *s, const char *id, char ***diff_ids, size_t *n, struct moat_error *err);

/* --- snapshots --------------------------------------------------------------------------------- */
/* For a container with its own user namespace: the layers are mounted idmapped through userns_fd
 * (a namespace whose mapping sends the image's ids to the container's host range), and the upper
 * dir belongs to uid:gid, the container's root on the host. */
struct moat_snapshot_ids {
        int userns_fd;
        uid_t uid;
        gid_t gid;
};
/* Mount overlayfs over the image's layers with a fresh upper dir at target (or, when target is NULL,
 * at snapshots/<id>/merged). id names the snapshot ([a-zA-Z0-9_.-], <= 64). ids: NULL, or see above. */
int moat_image_snapshot_mount(struct moat_image_store *s, const char *image, const char *id, const char *target,
                              const struct moat_snapshot_ids *ids, char **mountpoint, struct moat_error *err);
/* Mount an existing snapshot again at its mountpoint, upper dir kept, when it is not mounted (the
 * host rebooted since, or it was unmounted); a no-op while it is. ids: as it was mounted with. */
int moat_image_snapshot_remount(struct moat_image_store *s, const char *id, const struct moat_snapshot_ids *ids,
                                struct moat_error *err);
/* Unmount (if mounted) and remove the snapshot's directories and record. */
int moat_image_snapshot_remove(struct moat_image_store *s, const char *id, struct moat_error *err);

/* --- changes and sizes (changes.c) ------------------------------------------------------------ */
/* docker's change kinds (its numbers) */
enum moat_change_kind { MOAT_CHANGE_MODIFIED = 0, MOAT_CHANGE_ADDED = 1, MOAT_CHANGE_DELETED = 2 };
struct moat_change {
        char *path; /* "/etc/passwd" */
        enum moat_change_kind kind;
};
/* What the snapshot's upper directory changes in its image: whiteouts and what an opaque
 * directory hides are deleted, a path the layers have is modified, any other added; directories
 * with changes below them are modified. Parents come before their contents, names sorted. */
int moat_image_snapshot_changes(struct moat_image_store *s, const char *id, struct moat_change **out, size_t *n,
                                struct moat_error *err);
void moat_change_free(struct moat_change *v, size_t n);
/* Size of what the snapshot wrote (its upper directory). */
int moat_image_snapshot_size(struct moat_image_store *s, const char *id, int64_t *size, struct moat_error *err);
/* Bytes of the image's layers that another image has too (docker's SHARED SIZE). */
int moat_image_shared_size(struct moat_image_store *s, const char *id, int64_t *shared, struct moat_error *err);
/* Bytes of all images' layers, each layer counted once. */
int moat_image_layers_size(struct moat_image_store *s, int64_t *total, struct moat_error *err);

/* --- archives ---------------------------------------------------------------------------------- */
/* Load a docker-archive (docker save) or OCI layout tarball; names loaded go to *names. */
int moat_image_load(struct moat_image_store *s, int fd, char ***names, struct moat_error *err);
/* Write a docker-archive of the given images (names or ids) to fd. */
int moat_image_save(struct moat_image_store *s, char *const *images, size_t n, int fd, struct moat_error *err);
/* A rootfs tarball as a one-layer image named name. */
int moat_image_import(struct moat_image_store *s, int fd, const char *name, char out_id[MOAT_DIGEST_LEN + 1],
                      struct moat_error *err);
/* Load the built-in busybox image if name refers to it and it is absent. 0 when nothing to do. */
int moat_image_ensure_builtin(struct moat_image_store *s, const char *name, struct moat_error *err);

/* --- registries ------------------------------------------------------------------------------- */
enum moat_progress_state { MOAT_PROGRESS_WAIT, MOAT_PROGRESS_RUN, MOAT_PROGRESS_EXISTS, MOAT_PROGRESS_DONE,
                           MOAT_PROGRESS_UNPACK, MOAT_PROGRESS_RETRY };
typedef void (*moat_progress_fn)(void *ud, const char *digest, enum moat_progress_state st, uint64_t done,
                                 uint64_t total);

struct moat_registry_opts {
        const char *certs_dir;      /* default /etc/moat/certs.d (or $MOAT_CERTS_DIR) */
        const char *auth_file;      /* Docker-style {"auths":{...}}; default <root>/auth.json */
        char *const *insecure;      /* hosts[:port] allowed over plain HTTP; NULL-terminated */
        const char *platform;       /* "os/arch[/variant]", default linux/amd64 */
        size_t chunk_size;          /* push: 0 = monolithic uploads, else PATCH chunks of this size */
        int max_parallel;           /* concurrent blob transfers, default 4 */
        moat_progress_fn progress;
        void *progress_ud;
};

/* Pull ref (by tag or digest): manifest (index resolved by platform), config and layers, each
 * streamed through its digest and size check, layers unpacked; then the image is registered. */
int moat_image_pull(struct moat_image_store *s, const char *ref, const struct moat_registry_opts *o,
                    char out_id[MOAT_DIGEST_LEN + 1], struct moat_error *err);
/* Push a local image to dest (a reference; NULL means the image's own name). */
int moat_image_push(struct moat_image_store *s, const char *image, const char *dest, const struct moat_registry_opts *o,
                    struct moat_error *err);
/* Check credentials against server (host[:port]) and store them in the auth file. */
int moat_image_login(const char *server, const char *user, const char *password, const struct moat_registry_opts *o,
                     struct moat_error *err);
int moat_image_logout(const char *server, const struct moat_registry_opts *o, struct moat_error *err);

#endif
