/* cgroup_bpf: the device allow list on cgroup v2, which has no devices controller: a
 * BPF_PROG_TYPE_CGROUP_DEVICE program built from the OCI rules and attached to the container's
 * cgroup. */
#ifndef MOAT_RUNTIME_CGROUP_BPF_H
#define MOAT_RUNTIME_CGROUP_BPF_H

#include "runtime/cgroup.h"

#include <linux/bpf.h>

/* The program for rules (in OCI order: a later rule overrides an earlier one, as writes to v1's
 * devices.allow/deny would). Anything no rule matches is denied. *out is malloc'd. */
int moat_cgroup_bpf_devices_build(const struct moat_cgroup_device_rule *rules, size_t n, struct bpf_insn **out,
                                  size_t *n_insn, struct moat_error *err);
/* Load the program for rules and attach it to the cgroup directory cgfd (BPF_F_ALLOW_MULTI),
 * then detach every other device program there, so an update replaces the list instead of
 * intersecting with it. */
int moat_cgroup_bpf_devices_apply(int cgfd, const struct moat_cgroup_device_rule *rules, size_t n,
                                  struct moat_error *err);

#endif
