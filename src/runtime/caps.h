/* caps: capability names <-> numbers, and applying the five OCI capability sets. */
#ifndef MOAT_CAPS_H
#define MOAT_CAPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

struct moat_caps {
        uint64_t bounding, effective, inheritable, permitted, ambient;
        bool set; /* process.capabilities was present */
};

/* "CAP_NET_RAW" -> 13; -1 when unknown */
int moat_cap_from_name(const char *name);
const char *moat_cap_name(int cap);
int moat_cap_last(void); /* highest capability the running kernel knows */

/* Parse process.capabilities. Unknown names are an error naming the field and the value. */
int moat_caps_parse(json_t *caps, struct moat_caps *out, struct moat_error *err);

/* Drop every capability not in caps->bounding from the bounding set (needs CAP_SETPCAP: call
 * before changing uid). */
int moat_caps_drop_bounding(const struct moat_caps *caps, struct moat_error *err);
/* After the uid change (with PR_SET_KEEPCAPS): set effective/permitted/inheritable, then raise
 * the ambient set. */
int moat_caps_apply(const struct moat_caps *caps, struct moat_error *err);

/* Moat's default 11 (SECURITY-BASELINE.md), NULL terminated. */
extern const char *const moat_caps_default[];

#endif
