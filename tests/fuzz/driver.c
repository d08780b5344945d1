/* A libFuzzer-compatible driver for builds without -fsanitize=fuzzer: runs the target over every
 * file named on the command line (the seed corpus), so CI exercises the targets on every build.
 * With clang, build the targets with -fsanitize=fuzzer instead to fuzz for real. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) {
                char *buf = NULL;
                size_t len = 0;
                struct moat_error err;
                if (moat_read_file(argv[i], 16 << 20, &buf, &len, &err) < 0) {
                        fprintf(stderr, "%s\n", err.msg);
                        return 1;
                }
                LLVMFuzzerTestOneInput((const uint8_t *) buf, len);
                /* every prefix too: truncated inputs are what parsers get wrong */
                for (size_t k = 0; k < len && k < 4096; k += 1 + k / 8)
                        LLVMFuzzerTestOneInput((const uint8_t *) buf, k);
                free(buf);
        }
        return 0;
}
