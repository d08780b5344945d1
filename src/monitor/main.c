/* moat-monitor: the parent of one running container (see src/engine/monitor.c). Started by the
 * engine only; it has no user-facing options. */
#include "engine/engine.h"

int main(int argc, char **argv)
{
        return moat_monitor_main(argc, argv);
}
