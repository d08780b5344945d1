/* moat-runtime: an OCI runtime with runc's command line. (skeleton) */
#include "config.h"
#include "util/util.h"

int main(int argc, char **argv)
{
        if (argc > 1 && streq(argv[1], "--version")) {
                printf("moat-runtime version %s\ncommit: %s\nspec: 1.2.0\n", MOAT_VERSION, MOAT_COMMIT);
                return 0;
        }
        fprintf(stderr, "moat-runtime: not implemented yet\n");
        return 1;
}
