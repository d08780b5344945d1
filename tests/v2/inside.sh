#!/usr/bin/env bash
# inside.sh BUILD_DIR — what `make check-v2` runs inside the cgroup v2 VM (started by run.sh), from the
# repository root. Every step runs even if an earlier one failed; the exit status says if any did.
set -uo pipefail
build=$1
fail=0
py=${PYTHON:-/usr/bin/python3} # as the Makefile's check-integration
step() { echo "== check-v2: $*"; }

if [[ $(stat -fc %T /sys/fs/cgroup) != cgroup2fs ]]; then
	echo "check-v2: /sys/fs/cgroup is not a cgroup2 mount in the VM" >&2
	exit 1
fi
echo "cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"

step "unit: test_cgroup (fake cgroupfs)"
"$build/tests/unit/test_cgroup" || fail=1

step "kernel: test_cgroup_real against /sys/fs/cgroup (must not skip here)"
MOAT_CGROUP_REQUIRE_REAL=1 "$build/tests/unit/test_cgroup_real" || fail=1

if [[ -x $build/tests/unit/test_cgroup_bpf ]]; then
	step "kernel: test_cgroup_bpf (the v2 device filter on the real cgroup2 root)"
	"$build/tests/unit/test_cgroup_bpf" || fail=1
fi

if [[ -d tests/integration ]]; then
	# the engine tests' state roots on ext4: the VM's /tmp is a tmpfs, which Linux 6.1 cannot idmap
	# (the containers' user namespaces see their image layers through idmapped mounts)
	img=/tmp/moat-v2-engine.img mnt=/tmp/moat-v2-engine
	modprobe loop 2>/dev/null # not loaded by the VM's init
	if truncate -s 2G "$img" && mkfs.ext4 -q -F "$img" && mkdir -p "$mnt" && mount -o loop "$img" "$mnt"; then
		chmod 755 "$mnt"
		export MOAT_TEST_ENGINE_DIR=$mnt
	else
		echo "check-v2: no ext4 loop mount for the engine tests" >&2
		fail=1
	fi
	step "integration: pytest -m v2 tests/integration"
	if ! "$py" -c "import pytest" 2>/dev/null; then
		echo "check-v2: python3-pytest is not installed (make deps)" >&2
		fail=1
	else
		# shellcheck disable=SC2086 # V2_PYTEST_ARGS: words for pytest
		"$py" -m pytest -q -p no:cacheprovider -m v2 ${V2_PYTEST_ARGS:-} tests/integration
		rc=$?
		if [[ $rc -eq 5 ]]; then
			echo "(no integration tests marked v2 yet)"
			rc=0
		fi
		[[ $rc -eq 0 ]] || fail=1
	fi
fi

if [[ $fail -eq 0 ]]; then step "all passed"; else step "FAILED"; fi
exit $fail
