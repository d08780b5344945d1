/* digest: sha256 with OpenSSL's SHA256_* functions, and validation of digest strings (the only
 * algorithm accepted is sha256, so a registry cannot choose a weaker one). Not EVP: its first
 * use initialises OpenSSL's provider machinery and reads openssl.cnf (~1 ms in every process that
 * hashes anything, container starts included); SHA256_* runs the same assembly directly. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "util/digest.h"
#include "util/util.h"

struct moat_sha256 {
        SHA256_CTX c;
};

struct moat_sha256 *moat_sha256_new(void)
{
        struct moat_sha256 *h = XNEW(struct moat_sha256, 1);
        SHA256_Init(&h->c);
        return h;
}

void moat_sha256_update(struct moat_sha256 *h, const void *buf, size_t len)
{
        SHA256_Update(&h->c, buf, len);
}

void moat_sha256_final_raw(struct moat_sha256 *h, uint8_t out[32])
{
        SHA256_Final(out, &h->c);
        SHA256_Init(&h->c);
}

void moat_sha256_final(struct moat_sha256 *h, char out[MOAT_DIGEST_LEN + 1])
{
        uint8_t md[32];
        moat_sha256_final_raw(h, md);
        memcpy(out, "sha256:", 7);
        moat_hex(md, 32, out + 7);
}

void moat_sha256_free(struct moat_sha256 *h)
{
        free(h);
}

void moat_sha256_digest(const void *buf, size_t len, char out[MOAT_DIGEST_LEN + 1])
{
        struct moat_sha256 h;
        SHA256_Init(&h.c);
        moat_sha256_update(&h, buf, len);
        moat_sha256_final(&h, out);
}

void moat_hex(const uint8_t *b, size_t n, char *out)
{
        static const char x[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = x[b[i] >> 4];
                out[2 * i + 1] = x[b[i] & 15];
        }
        out[2 * n] = '\0';
}

bool moat_digest_valid(const char *s)
{
        if (!s || strncmp(s, "sha256:", 7) != 0)
                return false;
        for (int i = 0; i < 64; i++) {
                char c = s[7 + i];
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        return false;
        }
        return s[71] == '\0';
}
