/* Fuzz target: the OCI config parser (config.json is untrusted input to the runtime). */
#include <stdint.h>

#include "runtime/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_error_t jerr;
        json_t *doc = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc)
                return 0;
        struct moat_spec s;
        struct moat_error err;
        if (moat_spec_parse(doc, "/bundle", &s, &err) == 0)
                moat_spec_free(&s);
        json_t *proc = json_object_get(doc, "process");
        struct moat_process p;
        if (proc && moat_spec_parse_process(proc, "process", &p, &err) == 0)
                moat_process_free(&p);
        json_decref(doc);
        return 0;
}
