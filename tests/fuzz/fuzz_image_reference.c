/* Fuzz target: image reference parsing. Any input must either parse into parts that format back
 * into a reference that parses to the same parts, or fail cleanly. */
#include <assert.h>
#include <stdint.h>

#include "image/reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = xstrndup((const char *) data, size);
        struct moat_image_ref r, r2;
        struct moat_error err;
        if (moat_image_ref_parse(s, &r, &err) == 0) {
                char *full = moat_image_ref_string(&r);
                assert(moat_image_ref_parse(full, &r2, &err) == 0);
                assert(streq(r.domain, r2.domain) && streq(r.path, r2.path));
                char *fam = moat_image_ref_familiar(full);
                free(fam);
                free(full);
                moat_image_ref_free(&r2);
                moat_image_ref_free(&r);
        }
        free(s);
        return 0;
}
