/* Fuzz target: the WWW-Authenticate challenge parser (registry replies are untrusted). */
#include <stdint.h>

#include "image/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = xstrndup((const char *) data, size);
        char *scheme = NULL, *realm = NULL, *service = NULL;
        struct moat_error err;
        moat_registry_parse_challenge(s, &scheme, &realm, &service, &err);
        free(scheme);
        free(realm);
        free(service);
        free(s);
        return 0;
}
