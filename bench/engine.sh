#!/bin/sh
# `moat run --rm busybox true` beside `podman run --rm --network none busybox true` and `docker run
# --rm --network none busybox true` on the same image (the built-in busybox, loaded into a private
# podman store and a private dockerd started as PEERS.md says: no iptables, no bridge), alternating
# A B C A B C so drift hits all alike; then the memory of one running container's monitor beside
# podman's conmon and docker's containerd-shim. Prints medians and ratios.
# Usage: bench/engine.sh BUILD_DIR [RUNS]. docker is skipped when dockerd is not installed.
set -eu
BUILD=$(cd "${1:-build}" && pwd)
RUNS=${2:-21}
MOAT="$BUILD/src/cli/moat"
W=$(mktemp -d /tmp/moat-bench-engine.XXXXXX)
chmod 711 "$W" # the containers' own user namespaces must reach their root filesystems below
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
D=""
# the engines' parent cgroups that exist before this run are not ours to remove afterwards
parents() { for c in moat docker libpod_parent; do for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do if [ -d "$h$c" ]; then echo "$h$c"; fi; done; done; }
PRE_CG=$(parents)
cleanup() {
  "$MOAT" --root "$W/moat" rm -f bench-mem >/dev/null 2>&1 || true
  if [ -n "$D" ]; then $D rm -f bench-mem >/dev/null 2>&1 || true; fi
  if [ -n "${DPID:-}" ]; then kill "$DPID" 2>/dev/null || true; wait "$DPID" 2>/dev/null || true; fi
  $P rm -f bench-mem >/dev/null 2>&1 || true
  $P system reset -f >/dev/null 2>&1 || true
  umount -R "$W/podman" 2>/dev/null || true
  for mp in $(awk -v w="$W" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$mp"; done
  rm -rf "$W"
  for d in $(parents); do
    echo "$PRE_CG" | grep -qx "$d" || find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}
trap cleanup EXIT INT TERM

DOCKERD=$(command -v dockerd || echo /usr/sbin/dockerd)
D=""
if [ -x "$DOCKERD" ] && command -v docker >/dev/null; then
  "$DOCKERD" --iptables=false --ip6tables=false --bridge=none --storage-driver=overlay2 \
    --data-root "$W/docker" --exec-root "$W/docker-exec" --pidfile "$W/docker.pid" \
    -H "unix://$W/docker.sock" >"$W/dockerd.log" 2>&1 &
  DPID=$!
  D="docker -H unix://$W/docker.sock"
  n=0; until $D version >/dev/null 2>&1; do n=$((n + 1)); [ $n -lt 100 ] || { D=""; break; }; sleep 0.2; done
fi

$P load -q -i "$BUILD/data/busybox.tar" >/dev/null
$P tag localhost/busybox:latest docker.io/library/busybox:latest 2>/dev/null || true
"$MOAT" --root "$W/moat" run --rm busybox true   # loads the built-in image once
$P run --rm --network none docker.io/library/busybox:latest true
if [ -n "$D" ]; then $D load -q -i "$BUILD/data/busybox.tar" >/dev/null; $D run --rm --network none busybox true; fi

now() { date +%s%N; }
: > "$W/moat.t"; : > "$W/podman.t"; : > "$W/docker.t"
i=0
while [ $i -lt "$RUNS" ]; do
  t=$(now); "$MOAT" --root "$W/moat" run --rm busybox true; echo $(( $(now) - t )) >> "$W/moat.t"
  t=$(now); $P run --rm --network none docker.io/library/busybox:latest true; echo $(( $(now) - t )) >> "$W/podman.t"
  if [ -n "$D" ]; then
    t=$(now); $D run --rm --network none busybox true; echo $(( $(now) - t )) >> "$W/docker.t"
  fi
  i=$((i + 1))
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { echo "$1/1000000" | bc -l; }
M=$(median "$W/moat.t"); PD=$(median "$W/podman.t")
printf 'run --rm busybox true, median of %d:\n' "$RUNS"
printf '  moat   %7.1f ms\n  podman %7.1f ms\n' "$(ms "$M")" "$(ms "$PD")"
FASTER=$PD
if [ -n "$D" ]; then
  DK=$(median "$W/docker.t")
  printf '  docker %7.1f ms\n' "$(ms "$DK")"
  [ "$DK" -lt "$FASTER" ] && FASTER=$DK
fi
printf '  moat/podman %.2f\n' "$(echo "$M/$PD" | bc -l)"
[ -n "$D" ] && printf '  moat/docker %.2f\n' "$(echo "$M/$DK" | bc -l)"
printf '  moat/faster peer %.2f\n' "$(echo "$M/$FASTER" | bc -l)"

# memory of the per-container process: RSS, PSS and private (what each extra container costs)
mem() { awk '/^Rss:/{r=$2} /^Pss:/{p=$2} /^Private_Clean:/{pc=$2} /^Private_Dirty:/{pd=$2} END {printf "RSS %5d kB  PSS %5d kB  private %5d kB\n", r, p, pc+pd}' "/proc/$1/smaps_rollup"; }
"$MOAT" --root "$W/moat" run -d --name bench-mem busybox sleep 60 >/dev/null
for p in $(pgrep -x moat-monitor); do grep -q "$W" "/proc/$p/cmdline" && printf '  moat-monitor  %s\n' "$(mem "$p")"; done
$P run -d --name bench-mem --network none docker.io/library/busybox:latest sleep 60 >/dev/null
for p in $(pgrep -x conmon); do grep -q "$W" "/proc/$p/cmdline" && printf '  conmon        %s\n' "$(mem "$p")"; done
if [ -n "$D" ]; then
  $D run -d --name bench-mem --network none busybox sleep 60 >/dev/null
  for p in $(pgrep -f containerd-shim); do grep -q "$W" "/proc/$p/cmdline" 2>/dev/null && printf '  containerd-shim %s\n' "$(mem "$p")"; done
fi
