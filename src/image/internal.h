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

#endif
