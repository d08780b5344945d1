/* digest: sha256 through OpenSSL's EVP interface, and validation of digest strings (the only
 * algorithm accepted is sha256, so a registry cannot choose a weaker one). */
#include <openssl/evp.h>

#include "util/digest.h"
#include "util/util.h"

struct moat_sha256 {
        EVP_MD_CTX *ctx;
};

struct moat_sha256 *moat_sha256_new(void)
{
        struct moat_sha256 *h = XNEW(struct moat_sha256, 1);
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
                abort(); /* only on OOM */
        return h;
}

void moat_sha256_update(struct moat_sha256 *h, const void *buf, size_t len)
{
        EVP_DigestUpdate(h->ctx, buf, len);
}

void moat_sha256_final(struct moat_sha256 *h, char out[MOAT_DIGEST_LEN + 1])
{
        unsigned char md[32];
        unsigned int n = 0;
        EVP_DigestFinal_ex(h->ctx, md, &n);
        memcpy(out, "sha256:", 7);
        for (unsigned i = 0; i < 32; i++)
                snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
        EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void moat_sha256_free(struct moat_sha256 *h)
{
        EVP_MD_CTX_free(h->ctx);
        free(h);
}

void moat_sha256_digest(const void *buf, size_t len, char out[MOAT_DIGEST_LEN + 1])
{
        struct moat_sha256 *h = moat_sha256_new();
        moat_sha256_update(h, buf, len);
        moat_sha256_final(h, out);
        moat_sha256_free(h);
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
