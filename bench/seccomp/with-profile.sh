#!/bin/sh
# with-profile.sh CONFIG PROFILE|none: set linux.seccomp of an OCI config.json (in place) to the
# given linux.seccomp JSON object, or remove it ("none"). Used by bench/runtime.sh for the
# secure case: crun and runc get docker-default-amd64.json (Docker's default profile as dockerd
# hands it to runc for its 14 default capabilities on amd64); moat-runtime uses its own default.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 CONFIG PROFILE|none" >&2; exit 2; }
config=$1 profile=$2
tmp=$(mktemp "$config.XXXXXX")
trap 'rm -f "$tmp"' EXIT
if [ "$profile" = none ]; then
	jq 'del(.linux.seccomp)' "$config" >"$tmp"
else
	jq --slurpfile p "$profile" '.linux.seccomp = $p[0]' "$config" >"$tmp"
fi
mv "$tmp" "$config"
trap - EXIT
