/* reference: parsing image references ("busybox", "registry:5000/team/app:1.2@sha256:...") into
 * their parts with Docker's defaults (docker.io, library/, :latest). Strict: anything outside the
 * distribution grammar is refused rather than guessed at. */
#ifndef MOAT_IMAGE_REFERENCE_H
#define MOAT_IMAGE_REFERENCE_H

#include "util/util.h"

#define MOAT_REF_MAX 512       /* whole reference string */
#define MOAT_REF_NAME_MAX 255  /* domain + "/" + path, as the distribution spec */
#define MOAT_REF_TAG_MAX 128

struct moat_image_ref {
        char *domain; /* "docker.io", "127.0.0.1:5000", "localhost" */
        char *path;   /* "library/busybox" */
        char *tag;    /* NULL when only a digest was given */
        char *digest; /* "sha256:..." or NULL */
};

/* Parse s; a missing tag becomes "latest" unless a digest is given. */
int moat_image_ref_parse(const char *s, struct moat_image_ref *ref, struct moat_error *err);
void moat_image_ref_free(struct moat_image_ref *ref);
#define _cleanup_ref_ _cleanup_(moat_image_ref_free)
/* "domain/path" */
char *moat_image_ref_name(const struct moat_image_ref *ref);
/* "domain/path:tag" when a tag is set, else "domain/path@digest". */
char *moat_image_ref_string(const struct moat_image_ref *ref);
/* The short form users see: docker.io/library/x:t -> x:t, docker.io/u/x:t -> u/x:t. */
char *moat_image_ref_familiar(const char *full);
/* What registries expect in URLs for the domain: docker.io -> registry-1.docker.io. */
const char *moat_image_ref_api_host(const struct moat_image_ref *ref);

#endif
