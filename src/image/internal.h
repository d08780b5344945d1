/* internal: what the files of src/image/ share and nobody else may use. */
#ifndef MOAT_IMAGE_INTERNAL_H
#define MOAT_IMAGE_INTERNAL_H

#include "image/image.h"

struct moat_image_store {
        char *root;
        int lock_fd;
        int blobs_fd;
        struct moat_db *db;
        struct moat_image_limits limits;
};

/* Read and verify an image manifest (and, when c != NULL, its config, checking the layer count). */
int moat_image_read_manifest(struct moat_image_store *s, const char *digest, struct moat_manifest *m,
                             struct moat_image_config *c, struct moat_error *err);

int moat_image_unpack_layers(struct moat_image_store *s, const struct moat_manifest *m, const struct moat_image_config *c,
                             const struct moat_registry_opts *o, struct moat_error *err);

/* libarchive-style read callback: *buf receives the data, returns its length, 0 at the end, -1 on error. */
typedef ssize_t (*moat_unpack_read_fn)(void *archive, void *ud, const void **buf);
int moat_image_unpack_reader(moat_unpack_read_fn rd, void *ud, int rootfd, const struct moat_image_limits *lim,
                             char diff_id_out[MOAT_DIGEST_LEN + 1], struct moat_error *err);
/* Move a finished unpack directory into overlay/ under its diff id (or drop it if already there). */
int moat_image_layer_commit_dir(struct moat_image_store *s, const char *tmp, const char *diff_id, struct moat_error *err);
int moat_image_blob_writer_fd(struct moat_blob_writer *w);

/* Parse a WWW-Authenticate challenge (scheme and the realm/service parameters); exposed for fuzzing. */
int moat_registry_parse_challenge(const char *h, char **scheme, char **realm, char **service, struct moat_error *err);

#endif
