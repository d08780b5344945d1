/* digest: streaming sha256 and the "sha256:<64 hex>" digest strings content addressing uses. */
#ifndef MOAT_DIGEST_H
#define MOAT_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MOAT_DIGEST_LEN 71 /* "sha256:" + 64 hex */

struct moat_sha256;
struct moat_sha256 *moat_sha256_new(void);
void moat_sha256_update(struct moat_sha256 *h, const void *buf, size_t len);
/* Write "sha256:<hex>" (MOAT_DIGEST_LEN + 1 bytes) and reset the state for reuse. */
void moat_sha256_final(struct moat_sha256 *h, char out[MOAT_DIGEST_LEN + 1]);
/* The 32 bytes themselves, and reset. */
void moat_sha256_final_raw(struct moat_sha256 *h, uint8_t out[32]);
void moat_sha256_free(struct moat_sha256 *h);
static inline void moat_sha256_freep(struct moat_sha256 **h)
{
        if (*h)
                moat_sha256_free(*h);
}
void moat_sha256_digest(const void *buf, size_t len, char out[MOAT_DIGEST_LEN + 1]);

/* n bytes as 2n lowercase hex digits and a NUL. */
void moat_hex(const uint8_t *b, size_t n, char *out);

/* True for exactly "sha256:" followed by 64 lowercase hex digits. */
bool moat_digest_valid(const char *s);
/* The hex part of a valid digest. */
static inline const char *moat_digest_hex(const char *d)
{
        return d + 7;
}

#endif
