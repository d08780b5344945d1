"""Hostile registries and layers: each case is refused with a clear error and leaves nothing in
the store (no blobs, no unpacked layers, no temp files, no image) and nothing outside it."""
import gzip
import hashlib
import io
import json
import os
import signal
import subprocess
import tarfile
import time

import pytest

from registry import MOAT, BUILTIN_DIR, hostile, moat, moat_root, store_leftovers, tar_bytes  # noqa: F401

CANARY = "/tmp/moat-hostile-canary"


def pull(h, root, name, **kw):
    return moat(root, "pull", f"{h.host}/{name}:latest", certs=h.certs_dir, **kw)


def assert_clean(root):
    assert store_leftovers(root) == []
    r = moat(root, "images", "-q")
    assert r.stdout.strip() == ""
    assert not os.path.exists(CANARY)


def test_blob_not_matching_digest(hostile, moat_root):
    md, mb, descs = hostile.serve_image("evil/blob", [tar_bytes([("a", "file", b"good")])])
    path = f"/v2/evil/blob/blobs/{descs[0]['digest']}"
    status, hdr, body = hostile.routes[path]
    hostile.routes[path] = (status, hdr, gzip.compress(tar_bytes([("a", "file", b"EVIL")]), mtime=0)[:len(body)].ljust(len(body), b"\0"))
    r = pull(hostile, moat_root, "evil/blob")
    assert r.returncode != 0
    assert "does not match its digest" in r.stderr
    assert_clean(moat_root)


def test_blob_longer_than_announced(hostile, moat_root):
    md, mb, descs = hostile.serve_image("evil/long", [tar_bytes([("a", "file", b"good")])])
    path = f"/v2/evil/long/blobs/{descs[0]['digest']}"
    status, hdr, body = hostile.routes[path]
    hostile.routes[path] = (status, hdr, body + b"\0" * 100000)
    r = pull(hostile, moat_root, "evil/long")
    assert r.returncode != 0 and "more than the" in r.stderr
    assert_clean(moat_root)


def test_manifest_wrong_size(hostile, moat_root):
    md, mb, _ = hostile.serve_image("evil/size", [tar_bytes([("a", "file", b"x")])], tag="inner")
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
                            "size": len(mb) + 1, "platform": {"os": "linux", "architecture": "amd64"}}]}
    hostile.routes["/v2/evil/size/manifests/latest"] = (200, {"Content-Type": "application/vnd.oci.image.index.v1+json"},
                                                       json.dumps(index).encode())
    r = pull(hostile, moat_root, "evil/size")
    assert r.returncode != 0 and "size" in r.stderr
    assert_clean(moat_root)


def test_manifest_digest_lie(hostile, moat_root):
    md, mb, _ = hostile.serve_image("evil/lie", [tar_bytes([("a", "file", b"x")])])
    other = "sha256:" + "0" * 64
    hostile.routes[f"/v2/evil/lie/manifests/{other}"] = hostile.routes[f"/v2/evil/lie/manifests/{md}"]
    r = moat(moat_root, "pull", f"{hostile.host}/evil/lie@{other}", certs=hostile.certs_dir)
    assert r.returncode != 0 and "does not match its digest" in r.stderr
    assert_clean(moat_root)


def sparse_bomb():
    ti = tarfile.TarInfo("bomb")
    ti.size = 100 << 40  # 100 TiB announced; nothing follows
    return ti.tobuf(format=tarfile.PAX_FORMAT)


HOSTILE_LAYERS = {
    "dotdot": (tar_bytes([("../../moat-hostile-canary", "file", b"pwn")]), '".."'),
    "absolute": (tar_bytes([(CANARY, "file", b"pwn")]), "absolute"),
    "symlink-write": (tar_bytes([("ln", "symlink", "/tmp"), ("ln/moat-hostile-canary", "file", b"pwn")]), "symlink"),
    "symlink-rel": (tar_bytes([("ln", "symlink", "../../../../../../tmp"), ("ln/moat-hostile-canary", "file", b"pwn")]), "symlink"),
    "hardlink-out": (tar_bytes([("h", "hardlink", "../../../../etc/passwd")]), '".."'),
    "hardlink-abs": (tar_bytes([("h", "hardlink", "/etc/passwd")]), "absolute"),
    "device": (tar_bytes([("dev", "dir", None), ("dev/mem", "chardev", None)]), "device node"),
    "sparse-bomb": (sparse_bomb(), "limit"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_LAYERS))
def test_hostile_layer(hostile, moat_root, case):
    layer, needle = HOSTILE_LAYERS[case]
    ok = tar_bytes([("ok", "file", b"fine")])
    hostile.serve_image(f"evil/{case}", [ok, layer])
    r = pull(hostile, moat_root, f"evil/{case}")
    assert r.returncode != 0
    assert needle in r.stderr, r.stderr
    assert_clean(moat_root)


def test_too_many_entries(hostile, moat_root):
    layer = tar_bytes([(f"f{i}", "file", b"") for i in range(3000)])
    hostile.serve_image("evil/many", [layer])
    r = pull(hostile, moat_root, "evil/many", env_extra={"MOAT_MAX_LAYER_ENTRIES": "2000"})
    assert r.returncode != 0 and "more than 2000 entries" in r.stderr
    assert_clean(moat_root)


def test_retry_after_429_and_redirect(hostile, moat_root):
    md, mb, descs = hostile.serve_image("flaky/app", [tar_bytes([("a", "file", b"content")])])
    path = f"/v2/flaky/app/blobs/{descs[0]['digest']}"
    good = hostile.routes[path]
    hostile.routes["/storage/blob"] = good
    calls = []

    def flaky(h):
        calls.append(1)
        if len(calls) == 1:
            h.send_response(429)
            h.send_header("Retry-After", "1")
            h.send_header("Content-Length", "0")
            h.end_headers()
        else:
            h.send_response(307)
            h.send_header("Location", "/storage/blob")
            h.send_header("Content-Length", "0")
            h.end_headers()
    hostile.routes[path] = flaky
    r = pull(hostile, moat_root, "flaky/app")
    assert r.returncode == 0, r.stderr
    assert len(calls) == 2
    assert "/storage/blob" in hostile.hits


def test_bad_content_type_refused(hostile, moat_root):
    md, mb, _ = hostile.serve_image("evil/ct", [tar_bytes([("a", "file", b"x")])])
    hostile.routes["/v2/evil/ct/manifests/latest"] = (200, {"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"}, mb)
    r = pull(hostile, moat_root, "evil/ct")
    assert r.returncode != 0 and "does not match content type" in r.stderr
    assert_clean(moat_root)


def test_interrupted_pull(hostile, moat_root):
    big = tar_bytes([("big", "file", os.urandom(4 << 20))])
    md, mb, descs = hostile.serve_image("slow/app", [big], compress=False)
    path = f"/v2/slow/app/blobs/{descs[0]['digest']}"
    _, _, body = hostile.routes[path]
    started = []

    def slow(h):
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[:1 << 20])
        h.wfile.flush()
        started.append(1)
        time.sleep(30)
    hostile.routes[path] = slow
    env = dict(os.environ, MOAT_BUILTIN_DIR=BUILTIN_DIR)
    p = subprocess.Popen([MOAT, "--root", moat_root, "--certs-dir", hostile.certs_dir, "pull",
                          f"{hostile.host}/slow/app:latest"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        end = time.time() + 20
        while not started and time.time() < end:
            time.sleep(0.05)
        assert started
        time.sleep(0.3)
    finally:
        p.send_signal(signal.SIGKILL)  # the client we started, by PID
        p.wait()
    # nothing of the partial blob exists (O_TMPFILE); what was complete is collected by prune
    assert moat(moat_root, "image", "prune").returncode == 0
    assert_clean(moat_root)


def test_index_platform_selection(hostile, moat_root):
    """A multi-platform index (not hostile): the requested platform's manifest is pulled."""
    amd = hostile.serve_image("multi/app", [tar_bytes([("arch", "file", b"amd64")])], tag="amd")
    arm_cfg = json.dumps({"architecture": "arm64", "variant": "v8", "os": "linux",
                          "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(
                              tar_bytes([("arch", "file", b"arm64")])).hexdigest()]}}).encode()
    arm = hostile.serve_image("multi/app", [tar_bytes([("arch", "file", b"arm64")])], tag="arm",
                              config_override=arm_cfg)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm[0], "size": len(arm[1]),
         "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd[0], "size": len(amd[1]),
         "platform": {"os": "linux", "architecture": "amd64"}}]}
    hostile.routes["/v2/multi/app/manifests/latest"] = (
        200, {"Content-Type": "application/vnd.oci.image.index.v1+json"}, json.dumps(index).encode())
    r = pull(hostile, moat_root, "multi/app")
    assert r.returncode == 0, r.stderr
    r = moat(moat_root, "image", "inspect", f"{hostile.host}/multi/app:latest")
    assert json.loads(r.stdout)[0]["Architecture"] == "amd64"
    r = moat(moat_root, "pull", "--platform", "linux/arm64", f"{hostile.host}/multi/app:latest", certs=hostile.certs_dir)
    assert r.returncode == 0, r.stderr
    r = moat(moat_root, "image", "inspect", f"{hostile.host}/multi/app:latest")
    assert json.loads(r.stdout)[0]["Architecture"] == "arm64"
    r = moat(moat_root, "pull", "--platform", "linux/s390x", f"{hostile.host}/multi/app:latest", certs=hostile.certs_dir)
    assert r.returncode != 0 and "no manifest for platform linux/s390x" in r.stderr
