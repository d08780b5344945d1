"""moat load / save / import / tag / rmi / image prune, and the built-in busybox image."""
import hashlib
import io
import json
import os
import subprocess
import tarfile

from registry import docker_archive, moat, moat_root, store_leftovers, tar_bytes  # noqa: F401

LAYERS = [tar_bytes([("etc", "dir", None), ("etc/a", "file", b"a")]),
          tar_bytes([("etc/b", "file", b"b"), ("etc/.wh.a", "file", b"")])]


def test_builtin_busybox_offline(moat_root):
    # removing an absent busybox does not load it first
    r = moat(moat_root, "rmi", "busybox")
    assert r.returncode != 0 and "no such image" in r.stderr
    assert store_leftovers(moat_root) == []
    r = moat(moat_root, "image", "inspect", "busybox")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)[0]
    assert doc["RepoTags"] == ["docker.io/library/busybox:latest"]
    r = moat(moat_root, "image", "mount", "busybox", "bb")
    assert r.returncode == 0, r.stderr
    mp = r.stdout.strip()
    try:
        out = subprocess.run([os.path.join(mp, "bin/busybox"), "echo", "hi"], capture_output=True, text=True)
        assert out.stdout == "hi\n"
        assert os.readlink(os.path.join(mp, "bin/sh")) == "busybox"
        assert "root:x:0:0" in open(os.path.join(mp, "etc/passwd")).read()
        # in use: rmi refuses without force
        r = moat(moat_root, "rmi", "busybox")
        assert r.returncode != 0 and "in use" in r.stderr
    finally:
        assert moat(moat_root, "image", "unmount", "bb").returncode == 0
    assert moat(moat_root, "rmi", "busybox").returncode == 0
    assert store_leftovers(moat_root) == []


def test_save_load_roundtrip(moat_root, tmp_path):
    arch = str(tmp_path / "in.tar")
    image_id = docker_archive(arch, LAYERS, tag="example/app:1")
    r = moat(moat_root, "load", "-i", arch)
    assert r.returncode == 0, r.stderr
    assert "Loaded image: docker.io/example/app:1" in r.stdout
    assert moat(moat_root, "tag", "example/app:1", "example/app:2").returncode == 0
    out = str(tmp_path / "out.tar")
    r = moat(moat_root, "save", "-o", out, "example/app:1")
    assert r.returncode == 0, r.stderr
    with tarfile.open(out) as t:
        names = t.getnames()
        manifest = json.load(t.extractfile("manifest.json"))
    assert manifest[0]["Config"] == image_id[7:] + ".json"
    assert sorted(manifest[0]["RepoTags"]) == ["example/app:1", "example/app:2"]
    assert all(l in names for l in manifest[0]["Layers"])
    fresh = str(tmp_path / "fresh")
    r = moat(fresh, "load", "-i", out)
    assert r.returncode == 0, r.stderr
    r = moat(fresh, "images", "--format", "json")
    assert json.loads(r.stdout)[0]["Id"] == image_id
    r = moat(fresh, "history", "example/app:2")
    assert "layer 1" in r.stdout
    # skopeo reads what we wrote as a docker-archive
    r = subprocess.run(["skopeo", "inspect", f"docker-archive:{out}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_load_oci_archive_from_skopeo(moat_root, tmp_path):
    arch = str(tmp_path / "in.tar")
    image_id = docker_archive(arch, LAYERS)
    oci = str(tmp_path / "oci.tar")
    subprocess.run(["skopeo", "copy", "-q", f"docker-archive:{arch}", f"oci-archive:{oci}:example/oci:7"],
                   check=True, capture_output=True)
    r = moat(moat_root, "load", "-i", oci)
    assert r.returncode == 0, r.stderr
    r = moat(moat_root, "image", "inspect", "example/oci:7")
    assert r.returncode == 0, r.stderr
    # skopeo rewrites the config as an OCI config (a new id); the layers are the same
    assert image_id
    assert json.loads(r.stdout)[0]["RootFS"]["Layers"] == ["sha256:" + hashlib.sha256(l).hexdigest() for l in LAYERS]


def test_load_refuses_hostile_archive(moat_root, tmp_path):
    evil = tar_bytes([("../../x", "file", b"pwn")])
    arch = str(tmp_path / "evil.tar")
    docker_archive(arch, [evil])
    r = moat(moat_root, "load", "-i", arch)
    assert r.returncode != 0 and '".."' in r.stderr
    assert store_leftovers(moat_root) == []
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    r = moat(moat_root, "load", "-i", str(junk))
    assert r.returncode != 0
    assert store_leftovers(moat_root) == []


def test_import_rmi_prune(moat_root, tmp_path):
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(tar_bytes([("hello", "file", b"world")]))
    r = moat(moat_root, "import", str(rootfs), "imported:1")
    assert r.returncode == 0, r.stderr
    image_id = r.stdout.strip()
    r = moat(moat_root, "images")
    assert "imported" in r.stdout and image_id[7:19] in r.stdout
    assert moat(moat_root, "tag", "imported:1", "imported:2").returncode == 0
    # two names: removing one only untags
    assert moat(moat_root, "rmi", "imported:1").returncode == 0
    assert moat(moat_root, "image", "inspect", image_id[7:19]).returncode == 0
    # untagged images go with prune
    other = tmp_path / "other.tar"
    other.write_bytes(tar_bytes([("other", "file", b"x")]))
    r = moat(moat_root, "import", str(other))
    assert r.returncode == 0
    r = moat(moat_root, "image", "prune")
    assert r.returncode == 0 and "Deleted images: 0" not in r.stdout
    assert moat(moat_root, "rmi", "imported:2").returncode == 0
    assert store_leftovers(moat_root) == []
    r = moat(moat_root, "rmi", "nope:1")
    assert r.returncode != 0 and "no such image" in r.stderr


import pytest  # noqa: E402


@pytest.mark.parametrize("legacy", ["0", "1"])
def test_many_layers_mount(moat_root, tmp_path, legacy):
    """200 layers: more lower dirs than fit a page of mount options with full paths."""
    layers = [tar_bytes([(f"f{i:03d}", "file", str(i).encode()), ("top", "file", str(i).encode())]) for i in range(200)]
    arch = str(tmp_path / "many.tar")
    docker_archive(arch, layers, tag="many/layers:1")
    r = moat(moat_root, "load", "-i", arch)
    assert r.returncode == 0, r.stderr
    env = {"MOAT_OVERLAY_LEGACY": legacy}
    r = moat(moat_root, "image", "mount", "many/layers:1", "m", env_extra=env)
    assert r.returncode == 0, r.stderr
    mp = r.stdout.strip()
    try:
        assert open(os.path.join(mp, "top")).read() == "199"
        assert open(os.path.join(mp, "f000")).read() == "0"
        assert len(os.listdir(mp)) == 201
    finally:
        assert moat(moat_root, "image", "unmount", "m").returncode == 0
    assert not os.path.ismount(mp)


def test_shared_and_repeated_layers_refcounted(moat_root, tmp_path):
    base = tar_bytes([("base", "file", b"base")])
    a = str(tmp_path / "a.tar")
    b = str(tmp_path / "b.tar")
    docker_archive(a, [base, tar_bytes([("a", "file", b"a")]), base], tag="ref/a:1")  # base twice
    docker_archive(b, [base, tar_bytes([("b", "file", b"b")])], tag="ref/b:1")
    assert moat(moat_root, "load", "-i", a).returncode == 0
    assert moat(moat_root, "load", "-i", b).returncode == 0
    layers = os.listdir(os.path.join(moat_root, "overlay"))
    assert len(layers) == 3  # base unpacked once, shared
    assert moat(moat_root, "rmi", "ref/a:1").returncode == 0
    assert len(os.listdir(os.path.join(moat_root, "overlay"))) == 2  # base still used by b
    r = moat(moat_root, "image", "mount", "ref/b:1", "s")
    assert r.returncode == 0, r.stderr
    assert open(os.path.join(r.stdout.strip(), "base")).read() == "base"
    assert moat(moat_root, "image", "unmount", "s").returncode == 0
    assert moat(moat_root, "rmi", "ref/b:1").returncode == 0
    assert store_leftovers(moat_root) == []


def test_load_oci_layout_directory(moat_root, tmp_path):
    arch = str(tmp_path / "in.tar")
    docker_archive(arch, LAYERS)
    layout = str(tmp_path / "layout")
    subprocess.run(["skopeo", "copy", "-q", f"docker-archive:{arch}", f"oci:{layout}:example/dir:3"],
                   check=True, capture_output=True)
    r = moat(moat_root, "load", "-i", layout)
    assert r.returncode == 0, r.stderr
    assert "Loaded image: docker.io/example/dir:3" in r.stdout
    r = moat(moat_root, "image", "inspect", "example/dir:3")
    assert json.loads(r.stdout)[0]["RootFS"]["Layers"] == ["sha256:" + hashlib.sha256(l).hexdigest() for l in LAYERS]
    # a blob whose content does not match its name is refused
    blobs = os.path.join(layout, "blobs", "sha256")
    victim = max(os.listdir(blobs), key=lambda n: os.path.getsize(os.path.join(blobs, n)))
    with open(os.path.join(blobs, victim), "r+b") as f:
        f.seek(100)
        f.write(b"tampered")
    fresh = str(tmp_path / "fresh")
    r = moat(fresh, "load", "-i", layout)
    assert r.returncode != 0 and "not matching its digest" in r.stderr
    assert store_leftovers(fresh) == []


def test_images_table_and_templates(moat_root, tmp_path):
    """docker's images table and --format templates; --format json stays Moat's array."""
    rootfs = tmp_path / "rootfs.tar"
    with tarfile.open(rootfs, "w") as t:
        t.addfile(tarfile.TarInfo("hello"), io.BytesIO(b""))
    image_id = moat(moat_root, "import", str(rootfs), "imported:1").stdout.strip()
    assert moat(moat_root, "tag", "imported:1", "example.com/team/app:2").returncode == 0
    out = moat(moat_root, "images").stdout.splitlines()
    assert out[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    rows = sorted(l.split()[:3] for l in out[1:])
    assert rows == [["example.com/team/app", "2", image_id[7:19]], ["imported", "1", image_id[7:19]]], out
    r = moat(moat_root, "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
    assert sorted(r.stdout.splitlines()) == [f"example.com/team/app:2 {image_id[7:19]}",
                                             f"imported:1 {image_id[7:19]}"], r.stdout
    r = moat(moat_root, "images", "--no-trunc", "--format", "{{json .}}")
    lines = [json.loads(l) for l in r.stdout.splitlines()]
    assert {l["ID"] for l in lines} == {image_id} and {l["Tag"] for l in lines} == {"1", "2"}
    assert all(l["CreatedSince"].endswith("ago") or l["CreatedSince"] == "N/A" for l in lines)
    assert json.loads(moat(moat_root, "images", "--format", "json").stdout)[0]["Id"] == image_id
    assert moat(moat_root, "images", "-q", "--format", "json").stdout.split() == [image_id[7:19]]
    r = moat(moat_root, "images", "--format", "{{.Nope}}")
    assert r.returncode == 125 and "Nope" in r.stderr
