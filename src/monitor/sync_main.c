/* moat-monitor-sync: what moat-monitor runs when its container's process ends, to record the
 * outcome in the state DB (and remove an --rm container): `moat-monitor-sync --root ROOT _sync ID`.
 * The same as `moat _sync`, in a binary without the registry client's libraries, because every
 * container exit waits for it. */
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"

int main(int argc, char **argv)
{
        if (argc != 5 || strcmp(argv[1], "--root") != 0 || strcmp(argv[3], "_sync") != 0) {
                fprintf(stderr, "usage: moat-monitor-sync --root ROOT _sync ID (run by moat-monitor only)\n");
                return 2;
        }
        struct moat_engine *e = NULL;
        struct moat_error err;
        if (moat_engine_open(argv[2], &e, &err) < 0 || moat_engine_sync(e, argv[4], &err) < 0) {
                fprintf(stderr, "moat-monitor-sync: %s\n", err.msg);
                moat_engine_close(e);
                return 1;
        }
        moat_engine_close(e);
        return 0;
}
