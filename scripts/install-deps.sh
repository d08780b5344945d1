#!/bin/sh
# Install everything Moat needs to build and test on Debian 12 (run as root). e2fsprogs and kmod:
# make check-v2 puts the engine tests on an ext4 loop mount inside its VM.
set -eu
export DEBIAN_FRONTEND=noninteractive
# No package may start a service here (docker.io would start a dockerd that adds a bridge and
# firewall rules): deny every start during the install unless the machine already has a policy.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential clang meson ninja-build pkg-config git ca-certificates \
  libjansson-dev libseccomp-dev libarchive-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev libcap-dev \
  libcmocka-dev python3 python3-pytest busybox-static iproute2 procps util-linux \
  e2fsprogs kmod \
  >/dev/null
# Image tests and benchmarks: a real registry, skopeo/umoci/podman as peers, htpasswd, openssl for
# the test CA, python3-cryptography for the test token server.
apt-get install -y -qq --no-install-recommends \
  docker-registry skopeo umoci podman docker.io apache2-utils openssl python3-cryptography zstd \
  >/dev/null
