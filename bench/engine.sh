#!/bin/sh
# `moat run --rm busybox true` beside `podman run --rm --network none busybox true` on the same
# image (the built-in busybox, loaded into a private podman store), alternating A B A B so drift
# hits both alike; then the memory of one running container's monitor beside podman's conmon.
# Prints medians and the ratio. Usage: bench/engine.sh BUILD_DIR [RUNS]
set -eu
BUILD=$(cd "${1:-build}" && pwd)
RUNS=${2:-21}
MOAT="$BUILD/src/cli/moat"
W=$(mktemp -d /tmp/moat-bench-engine.XXXXXX)
export MOAT_BUILTIN_DIR="$BUILD/data"
cat > "$W/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
CONF
export CONTAINERS_CONF="$W/containers.conf"
P="podman --root $W/podman --runroot $W/podman-run --storage-driver overlay"
cleanup() {
  "$MOAT" --root "$W/moat" rm -f bench-mem >/dev/null 2>&1 || true
  $P rm -f bench-mem >/dev/null 2>&1 || true
  $P system reset -f >/dev/null 2>&1 || true
  umount -R "$W/podman" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT INT TERM

$P load -q -i "$BUILD/data/busybox.tar" >/dev/null
$P tag localhost/busybox:latest docker.io/library/busybox:latest 2>/dev/null || true
"$MOAT" --root "$W/moat" run --rm busybox true   # loads the built-in image once
$P run --rm --network none docker.io/library/busybox:latest true

now() { date +%s%N; }
: > "$W/moat.t"; : > "$W/podman.t"
i=0
while [ $i -lt "$RUNS" ]; do
  t=$(now); "$MOAT" --root "$W/moat" run --rm busybox true; echo $(( $(now) - t )) >> "$W/moat.t"
  t=$(now); $P run --rm --network none docker.io/library/busybox:latest true; echo $(( $(now) - t )) >> "$W/podman.t"
  i=$((i + 1))
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
M=$(median "$W/moat.t"); PD=$(median "$W/podman.t")
printf 'run --rm busybox true, median of %d:\n' "$RUNS"
printf '  moat   %7.1f ms\n  podman %7.1f ms\n  moat/podman %.2f\n' "$(echo "$M/1000000" | bc -l)" \
  "$(echo "$PD/1000000" | bc -l)" "$(echo "$M/$PD" | bc -l)"

# memory of the per-container process: RSS, PSS and private (what each extra container costs)
mem() { awk '/^Rss:/{r=$2} /^Pss:/{p=$2} /^Private_Clean:/{pc=$2} /^Private_Dirty:/{pd=$2} END {printf "RSS %5d kB  PSS %5d kB  private %5d kB\n", r, p, pc+pd}' "/proc/$1/smaps_rollup"; }
"$MOAT" --root "$W/moat" run -d --name bench-mem busybox sleep 60 >/dev/null
for p in $(pgrep -x moat-monitor); do grep -q "$W" "/proc/$p/cmdline" && printf '  moat-monitor  %s\n' "$(mem "$p")"; done
$P run -d --name bench-mem --network none docker.io/library/busybox:latest sleep 60 >/dev/null
for p in $(pgrep -x conmon); do grep -q "$W" "/proc/$p/cmdline" && printf '  conmon        %s\n' "$(mem "$p")"; done
