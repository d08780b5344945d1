#!/usr/bin/env python3
"""Build the built-in busybox image as a docker-archive, offline, from Debian's busybox-static:
/bin/busybox, a symlink per applet, /etc/passwd and /etc/group. Deterministic (fixed mtimes,
sorted entries; created when the busybox binary was built, as its package dates it), so the image
id only changes when busybox does."""
import datetime
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

out, busybox = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "/bin/busybox"
MTIME = 0
# Debian sets a package's file times to its changelog date (SOURCE_DATE_EPOCH): reproducible
CREATED = datetime.datetime.fromtimestamp(int(os.stat(busybox).st_mtime), datetime.timezone.utc).strftime(
    "%Y-%m-%dT%H:%M:%SZ")
applets = sorted(set(subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()))


def add(tar, name, data=None, mode=0o644, typ=tarfile.REGTYPE, link=""):
    ti = tarfile.TarInfo(name)
    ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = MTIME, 0, 0, "root", "root"
    ti.mode, ti.type, ti.linkname = mode, typ, link
    if data is not None:
        ti.size = len(data)
        tar.addfile(ti, io.BytesIO(data))
    else:
        tar.addfile(ti)


layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as t:
    for d in ["bin", "dev", "etc", "home", "proc", "root", "sys", "tmp", "usr", "usr/bin", "usr/sbin", "sbin", "var"]:
        add(t, d, mode=0o1777 if d == "tmp" else (0o700 if d == "root" else 0o755), typ=tarfile.DIRTYPE)
    with open(busybox, "rb") as f:
        add(t, "bin/busybox", f.read(), mode=0o755)
    for a in applets:
        if a != "busybox":
            add(t, "bin/" + a, typ=tarfile.SYMTYPE, link="busybox", mode=0o777)
    add(t, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n")
    add(t, "etc/group", b"root:x:0:\nnogroup:x:65534:\n")
layer_bytes = layer.getvalue()
diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
config = {
    "architecture": "amd64", "os": "linux", "created": CREATED,
    "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]},
    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    "history": [{"created": CREATED, "created_by": "moat built-in busybox (Debian busybox-static)"}],
}
config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
layer_name = diff_id[7:] + "/layer.tar"
manifest = [{"Config": config_name, "RepoTags": ["busybox:latest"], "Layers": [layer_name]}]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    add(t, diff_id[7:], typ=tarfile.DIRTYPE, mode=0o755)
    add(t, layer_name, layer_bytes)
    add(t, config_name, config_bytes)
    add(t, "manifest.json", json.dumps(manifest).encode())
