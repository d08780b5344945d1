/* landlock: Moat's filesystem sandbox beyond Docker, from the annotations
 * org.moat.landlock.ro and org.moat.landlock.rw (comma-separated absolute paths inside the
 * container). With either set, the process may only read/execute under the ro paths and do
 * anything under the rw paths; every other path is denied by the kernel (Landlock LSM). */
#ifndef MOAT_RUNTIME_LANDLOCK_H
#define MOAT_RUNTIME_LANDLOCK_H

#include "util/util.h"

#include <jansson.h>
#include <stdbool.h>

#define MOAT_LANDLOCK_RO "org.moat.landlock.ro"
#define MOAT_LANDLOCK_RW "org.moat.landlock.rw"

/* Landlock's ABI version on this kernel, 0 when it has none (or it is disabled). */
int moat_landlock_abi(void);
/* At create: the annotations are well formed (absolute paths) and the kernel has Landlock. */
int moat_landlock_check(json_t *annotations, struct moat_error *err);
/* In the container, after pivot: build the ruleset and restrict ourselves (needs no_new_privs or
 * CAP_SYS_ADMIN). No annotation: nothing to do. */
int moat_landlock_apply(json_t *annotations, struct moat_error *err);

#endif
