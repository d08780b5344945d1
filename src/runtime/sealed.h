/* sealed: the runtime re-executes from a sealed, read-only memfd copy of itself before it puts a
 * process into a container that already has processes, so nothing in the container can reach the
 * binary on disk through /proc/<pid>/exe (the CVE-2019-5736 class). */
#ifndef MOAT_RUNTIME_SEALED_H
#define MOAT_RUNTIME_SEALED_H

#include "util/util.h"

#include <stdbool.h>

/* If we are not already running from a sealed memfd, copy /proc/self/exe into one, seal it and
 * execveat() it with the same argv and environment. Returns 0 when already sealed (the caller goes
 * on); on success of the re-exec it does not return; < 0 on failure (the caller must refuse to go on). */
int moat_runtime_ensure_sealed(int argc, char **argv, struct moat_error *err);
/* True when /proc/self/exe is a sealed memfd (what ensure_sealed checks). */
bool moat_runtime_is_sealed(void);

#endif
