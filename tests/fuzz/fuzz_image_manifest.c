/* Fuzz target: manifest, index and config parsing, and platform selection on what parses. */
#include <stdint.h>

#include "image/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct moat_manifest m;
        struct moat_image_config c;
        struct moat_error err;
        if (moat_manifest_parse((const char *) data, size, NULL, &m, &err) == 0) {
                if (m.kind == MOAT_KIND_INDEX) {
                        struct moat_platform p;
                        if (moat_platform_parse(NULL, &p, &err) == 0) {
                                moat_manifest_select(&m, &p, &err);
                                moat_platform_free(&p);
                        }
                }
                moat_manifest_free(&m);
        }
        if (moat_manifest_parse((const char *) data, size, MT_DOCKER_LIST, &m, &err) == 0)
                moat_manifest_free(&m);
        if (moat_image_config_parse((const char *) data, size, &c, &err) == 0)
                moat_image_config_free(&c);
        return 0;
}
