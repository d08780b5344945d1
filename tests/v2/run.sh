#!/usr/bin/env bash
# run.sh BUILD_DIR — `make check-v2`: run the cgroup-v2 subset of the tests on a pure cgroup v2 host,
# a throw-away QEMU VM booted by ./v2vm (these development machines are hybrid v1). Inside, see
# inside.sh: the cgroup unit tests, the real-kernel cgroup check against the VM's /sys/fs/cgroup,
# and the integration tests marked `v2` (V2_PYTEST_ARGS, e.g. "-k join", narrows them while working on
# something). Needs root. The VM is emulated, so keep what runs small.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
for t in test_cgroup test_cgroup_real; do
	[[ -x $build/tests/unit/$t ]] || { echo "check-v2: $build/tests/unit/$t is missing (cmocka not found at setup?)" >&2; exit 1; }
done
[[ $(id -u) -eq 0 ]] || { echo "check-v2: needs root (it boots a VM and creates cgroups inside it)" >&2; exit 1; }
cd "$repo"
exec "$here/v2vm" --timeout "${V2_TIMEOUT:-1200}" -e MOAT_BUILD="$build" -e V2_PYTEST_ARGS="${V2_PYTEST_ARGS:-}" -- bash "$here/inside.sh" "$build"
