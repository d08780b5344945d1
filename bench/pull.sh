#!/bin/sh
# Pull + unpack a 3-layer ~50 MB image from a local TLS docker-registry: moat beside skopeo copy
# (download and verify only) and podman pull (download and unpack), alternating A B C A B C so
# drift hits all three alike. Prints medians and ratios. Usage: bench/pull.sh BUILD_DIR [RUNS]
set -eu
BUILD=$(cd "${1:-build}" && pwd)
RUNS=${2:-7}
MOAT="$BUILD/src/cli/moat"
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d /tmp/moat-bench-pull.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HOST=127.0.0.1:$PORT
REG_PID=
cleanup() {
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
  umount -R "$W/podman" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT INT TERM

cd "$W"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 -subj /CN=bench-ca 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > ext.cnf
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1 -extfile ext.cnf 2>/dev/null
mkdir -p "certs.d/$HOST" && cp ca.crt "certs.d/$HOST/ca.crt"
cat > config.yml <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $W/storage}}
http: {addr: "$HOST", tls: {certificate: $W/server.crt, key: $W/server.key}}
YML
docker-registry serve config.yml >/dev/null 2>registry.log &
REG_PID=$!
python3 -c "
import socket,time
for _ in range(200):
    try: socket.create_connection(('127.0.0.1',$PORT),0.2).close(); break
    except OSError: time.sleep(0.05)"
python3 "$HERE/make-bench-image.py" image.tar
skopeo copy -q --dest-cert-dir "certs.d/$HOST" docker-archive:image.tar "docker://$HOST/bench/app:1"
SIZE=$(du -sm storage | cut -f1)
cat > containers.conf <<CONF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_CONF="$W/containers.conf"

now() { date +%s%N; }
t_moat() {
  rm -rf "$W/moat"; sync
  s=$(now); "$MOAT" --root "$W/moat" --certs-dir "$W/certs.d" pull -q "$HOST/bench/app:1" >/dev/null; e=$(now)
  echo $(( (e - s) / 1000000 ))
}
t_skopeo() {
  rm -rf "$W/skopeo"; sync
  s=$(now); skopeo copy -q --src-cert-dir "$W/certs.d/$HOST" "docker://$HOST/bench/app:1" "dir:$W/skopeo" >/dev/null; e=$(now)
  echo $(( (e - s) / 1000000 ))
}
t_podman() {
  umount -R "$W/podman" 2>/dev/null || true; rm -rf "$W/podman" "$W/podman-run"; sync
  s=$(now)
  podman --root "$W/podman" --runroot "$W/podman-run" --storage-driver overlay pull -q \
    --cert-dir "$W/certs.d/$HOST" "$HOST/bench/app:1" >/dev/null
  e=$(now)
  echo $(( (e - s) / 1000000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

: > moat.t; : > skopeo.t; : > podman.t
t_moat >/dev/null; t_skopeo >/dev/null; t_podman >/dev/null   # warm caches once
i=0
while [ $i -lt "$RUNS" ]; do
  t_moat >> moat.t; t_skopeo >> skopeo.t; t_podman >> podman.t
  i=$((i + 1))
done
M=$(median < moat.t); S=$(median < skopeo.t); P=$(median < podman.t)
echo "image: 3 layers, ${SIZE} MB in the registry; $RUNS runs each, alternating; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "moat pull (download+verify+unpack):   median ${M} ms   [$(tr '\n' ' ' < moat.t)]"
echo "skopeo copy (download+verify only):   median ${S} ms   [$(tr '\n' ' ' < skopeo.t)]"
echo "podman pull (download+verify+unpack): median ${P} ms   [$(tr '\n' ' ' < podman.t)]"
awk -v m="$M" -v s="$S" -v p="$P" 'BEGIN { printf "moat/podman = %.2f   moat/skopeo = %.2f\n", m / p, m / s }'
