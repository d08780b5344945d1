/* manifest: the OCI and Docker schema 2 documents (manifest, index / manifest list, image config)
 * parsed into bounded structs, media types checked, and platform selection. */
#ifndef MOAT_IMAGE_MANIFEST_H
#define MOAT_IMAGE_MANIFEST_H

#include <stdint.h>

#include "util/digest.h"
#include "util/util.h"

#define MOAT_MANIFEST_MAX (4u << 20)
#define MOAT_CONFIG_MAX (8u << 20)
#define MOAT_MAX_LAYERS 256
#define MOAT_MAX_INDEX_ENTRIES 1024

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define MOAT_MANIFEST_ACCEPT MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST

enum moat_manifest_kind { MOAT_KIND_UNKNOWN, MOAT_KIND_MANIFEST, MOAT_KIND_INDEX };

struct moat_platform {
        char *os, *arch, *variant;
};

struct moat_descriptor {
        char *media_type;
        char digest[MOAT_DIGEST_LEN + 1];
        int64_t size;
        struct moat_platform platform; /* index entries only */
};

struct moat_manifest {
        enum moat_manifest_kind kind;
        char *media_type;
        struct moat_descriptor config;      /* kind == MANIFEST */
        struct moat_descriptor *layers;     /* kind == MANIFEST */
        size_t n_layers;
        struct moat_descriptor *manifests;  /* kind == INDEX */
        size_t n_manifests;
};

struct moat_history {
        char *created, *created_by, *comment;
        bool empty_layer;
};

struct moat_image_config {
        char *os, *arch, *variant, *created;
        char (*diff_ids)[MOAT_DIGEST_LEN + 1];
        size_t n_diff_ids;
        struct moat_history *history;
        size_t n_history;
};

/* Parse a manifest or index. content_type (may be NULL) is what the registry said; when the body
 * names a mediaType too they must agree. */
int moat_manifest_parse(const char *buf, size_t len, const char *content_type, struct moat_manifest *m,
                        struct moat_error *err);
void moat_manifest_free(struct moat_manifest *m);
int moat_image_config_parse(const char *buf, size_t len, struct moat_image_config *c, struct moat_error *err);
void moat_image_config_free(struct moat_image_config *c);

/* "linux/amd64", "linux/arm64/v8"; NULL or "" means the default linux/amd64. */
int moat_platform_parse(const char *s, struct moat_platform *p, struct moat_error *err);
void moat_platform_free(struct moat_platform *p);
/* Index of the entry matching p in an index, or -ENOENT with a message listing what there is. */
int moat_manifest_select(const struct moat_manifest *index, const struct moat_platform *p, struct moat_error *err);

bool moat_layer_media_type_ok(const char *mt);

#endif
