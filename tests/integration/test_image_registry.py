"""moat pull / push against a real docker-registry on 127.0.0.1: TLS verified with a test CA,
anonymous, basic and token auth; layers stacked in an overlay snapshot."""
import json
import os
import subprocess

import pytest

from registry import (basic_registry, docker_archive, moat, moat_root, registry, store_leftovers,  # noqa: F401
                      tar_bytes, token_registry)

LAYERS = [
    tar_bytes([("etc", "dir", None), ("etc/hostname", "file", b"one\n"), ("gone", "file", b"x"),
               ("dir", "dir", None), ("dir/old", "file", b"old")]),
    tar_bytes([("etc/hostname", "file", b"two\n"), (".wh.gone", "file", b""), ("dir", "dir", None),
               ("dir/.wh..wh..opq", "file", b""), ("dir/new", "file", b"new")]),
    tar_bytes([("bin", "dir", None), ("bin/tool", "file", os.urandom(200000)), ("bin/link", "symlink", "tool")]),
]


@pytest.fixture(scope="module")
def pushed(registry, tmp_path_factory):
    d = tmp_path_factory.mktemp("arch")
    arch = str(d / "img.tar")
    image_id = docker_archive(arch, LAYERS)
    registry.skopeo_copy(f"docker-archive:{arch}", "team/app:1.0")
    return image_id


def test_pull_tls_and_snapshot(registry, pushed, moat_root):
    ref = f"{registry.host}/team/app:1.0"
    r = moat(moat_root, "pull", ref, certs=registry.certs_dir)
    assert r.returncode == 0, r.stderr
    assert pushed in r.stdout
    r = moat(moat_root, "images", "--format", "json")
    imgs = json.loads(r.stdout)
    assert [i["Id"] for i in imgs] == [pushed]
    assert imgs[0]["Names"] == [ref]
    assert imgs[0]["Layers"] == 3
    # a second pull finds everything present
    r = moat(moat_root, "pull", "-q", ref, certs=registry.certs_dir)
    assert r.returncode == 0 and r.stdout.strip() == ref
    # overlay snapshot: upper layers win, whiteouts hide, opaque dirs hide
    r = moat(moat_root, "image", "mount", ref, "c1")
    assert r.returncode == 0, r.stderr
    mp = r.stdout.strip()
    try:
        assert open(os.path.join(mp, "etc/hostname")).read() == "two\n"
        assert not os.path.exists(os.path.join(mp, "gone"))
        assert sorted(os.listdir(os.path.join(mp, "dir"))) == ["new"]
        assert os.readlink(os.path.join(mp, "bin/link")) == "tool"
        with open(os.path.join(mp, "written"), "w") as f:  # the upper dir takes writes
            f.write("x")
    finally:
        r = moat(moat_root, "image", "unmount", "c1")
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(mp)
    # an image in use cannot be removed without force; afterwards nothing is left
    r = moat(moat_root, "rmi", ref)
    assert r.returncode == 0, r.stderr
    assert store_leftovers(moat_root) == []


def test_pull_by_digest_and_platform(registry, pushed, moat_root):
    out = subprocess.run(["skopeo", "inspect", "--cert-dir", registry.skopeo_certs,
                          f"docker://{registry.host}/team/app:1.0"], capture_output=True, text=True, check=True)
    digest = json.loads(out.stdout)["Digest"]
    r = moat(moat_root, "pull", f"{registry.host}/team/app@{digest}", certs=registry.certs_dir)
    assert r.returncode == 0, r.stderr
    r = moat(moat_root, "image", "inspect", f"{registry.host}/team/app@{digest}")
    assert json.loads(r.stdout)[0]["Id"] == pushed
    r = moat(moat_root, "pull", "--platform", "linux/arm64", f"{registry.host}/team/app:1.0", certs=registry.certs_dir)
    assert r.returncode != 0 and "not the requested linux/arm64" in r.stderr


def test_tls_is_verified(registry, pushed, moat_root, tmp_path):
    # no CA for this registry: the system CAs do not know it
    r = moat(moat_root, "pull", f"{registry.host}/team/app:1.0", certs=str(tmp_path))
    assert r.returncode != 0
    assert "certificate" in r.stderr.lower() or "ssl" in r.stderr.lower()
    # plain HTTP is not tried unless the registry is named insecure (and then TLS port fails)
    r = moat(moat_root, "--insecure-registry", registry.host, "pull", f"{registry.host}/team/app:1.0")
    assert r.returncode != 0
    assert store_leftovers(moat_root) == []


@pytest.mark.parametrize("chunk", [None, "65536"])
def test_push_roundtrip(registry, pushed, moat_root, tmp_path, chunk):
    src = f"{registry.host}/team/app:1.0"
    assert moat(moat_root, "pull", "-q", src, certs=registry.certs_dir).returncode == 0
    dest = f"{registry.host}/other/copy{chunk or ''}:v2"
    args = ["push"] + (["--chunk-size", chunk] if chunk else []) + [src, dest]
    r = moat(moat_root, *args, certs=registry.certs_dir)
    assert r.returncode == 0, r.stderr
    # pull it back into a fresh store: same image id
    fresh = str(tmp_path / "fresh")
    r = moat(fresh, "pull", dest, certs=registry.certs_dir)
    assert r.returncode == 0, r.stderr
    assert pushed in r.stdout
    # pushing again finds every blob present
    r = moat(moat_root, "push", src, dest, certs=registry.certs_dir)
    assert r.returncode == 0, r.stderr


def test_cross_repo_mount(registry, pushed, moat_root):
    src = f"{registry.host}/team/app:1.0"
    assert moat(moat_root, "pull", "-q", src, certs=registry.certs_dir).returncode == 0
    dest = f"{registry.host}/mounted/app:1"
    assert moat(moat_root, "tag", src, dest).returncode == 0
    r = moat(moat_root, "push", dest, certs=registry.certs_dir)
    assert r.returncode == 0, r.stderr


def test_basic_auth(basic_registry, moat_root, tmp_path):
    reg = basic_registry
    arch = str(tmp_path / "img.tar")
    image_id = docker_archive(arch, LAYERS[:1])
    reg.skopeo_copy(f"docker-archive:{arch}", "private/app:1")
    ref = f"{reg.host}/private/app:1"
    r = moat(moat_root, "pull", ref, certs=reg.certs_dir)
    assert r.returncode != 0 and ("authentication required" in r.stderr or "401" in r.stderr), r.stderr
    r = moat(moat_root, "login", "-u", reg.user, "-p", "wrong", reg.host, certs=reg.certs_dir)
    assert r.returncode != 0
    r = moat(moat_root, "login", "-u", reg.user, "--password-stdin", reg.host, certs=reg.certs_dir,
             input=reg.password + "\n")
    assert r.returncode == 0, r.stderr
    auth = os.path.join(moat_root, "auth.json")
    assert os.stat(auth).st_mode & 0o077 == 0
    r = moat(moat_root, "pull", ref, certs=reg.certs_dir)
    assert r.returncode == 0, r.stderr
    assert image_id in r.stdout
    r = moat(moat_root, "push", ref, f"{reg.host}/private/pushed:1", certs=reg.certs_dir)
    assert r.returncode == 0, r.stderr
    assert moat(moat_root, "logout", reg.host).returncode == 0
    assert reg.host not in open(auth).read()


def test_token_auth(token_registry, moat_root, tmp_path):
    reg = token_registry
    arch = str(tmp_path / "img.tar")
    image_id = docker_archive(arch, LAYERS[:2])
    reg.skopeo_copy(f"docker-archive:{arch}", "tok/app:1")
    ref = f"{reg.host}/tok/app:1"
    r = moat(moat_root, "pull", ref, certs=reg.certs_dir)
    assert r.returncode != 0
    r = moat(moat_root, "login", "-u", reg.user, "-p", reg.password, reg.host, certs=reg.certs_dir)
    assert r.returncode == 0, r.stderr
    r = moat(moat_root, "pull", ref, certs=reg.certs_dir)
    assert r.returncode == 0, r.stderr
    assert image_id in r.stdout
    r = moat(moat_root, "push", ref, f"{reg.host}/tok/pushed:1", certs=reg.certs_dir)
    assert r.returncode == 0, r.stderr
    from urllib.parse import unquote_plus
    assert any("scope=repository:tok/pushed:pull,push" in unquote_plus(p) for p, _ in reg.token_server.requests)


from registry import mtls_registry, plain_registry  # noqa: E402,F401


def test_insecure_only_when_named(plain_registry, moat_root, tmp_path):
    reg = plain_registry
    arch = str(tmp_path / "img.tar")
    image_id = docker_archive(arch, LAYERS[:1])
    subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"docker-archive:{arch}",
                    f"docker://{reg.host}/plain/app:1"], check=True, capture_output=True)
    ref = f"{reg.host}/plain/app:1"
    r = moat(moat_root, "pull", ref)
    assert r.returncode != 0  # https is tried and fails: no silent downgrade
    r = moat(moat_root, "--insecure-registry", reg.host, "pull", ref)
    assert r.returncode == 0, r.stderr
    assert image_id in r.stdout


def test_client_certificate(mtls_registry, moat_root, tmp_path):
    reg = mtls_registry
    ref = f"{reg.host}/mtls/app:1"
    arch = str(tmp_path / "img.tar")
    image_id = docker_archive(arch, LAYERS[:1])
    certdir = os.path.join(reg.certs_dir, reg.host)
    import shutil
    shutil.copy(os.path.join(reg.dir, "client.cert"), os.path.join(certdir, "client.cert"))
    shutil.copy(os.path.join(reg.dir, "client.key"), os.path.join(certdir, "client.key"))
    subprocess.run(["skopeo", "copy", "-q", "--dest-cert-dir", certdir, f"docker-archive:{arch}",
                    f"docker://{ref}"], check=True, capture_output=True)
    r = moat(moat_root, "pull", ref, certs=reg.certs_dir)
    assert r.returncode == 0, r.stderr
    assert image_id in r.stdout
    # without the client certificate the registry refuses the handshake
    nocert = tmp_path / "nocert" / reg.host
    nocert.mkdir(parents=True)
    shutil.copy(os.path.join(certdir, "ca.crt"), str(nocert / "ca.crt"))
    fresh = str(tmp_path / "fresh")
    r = moat(fresh, "pull", ref, certs=str(tmp_path / "nocert"))
    assert r.returncode != 0
    # a certificate without its key is a configuration error, reported as such
    os.unlink(str(nocert / "ca.crt"))
    shutil.copy(os.path.join(certdir, "client.cert"), str(nocert / "client.cert"))
    r = moat(fresh, "pull", ref, certs=str(tmp_path / "nocert"))
    assert r.returncode != 0 and "without key" in r.stderr


def test_concurrent_pulls_share_the_store(registry, pushed, moat_root):
    from registry import MOAT, BUILTIN_DIR
    ref = f"{registry.host}/team/app:1.0"
    env = dict(os.environ, MOAT_BUILTIN_DIR=BUILTIN_DIR)
    procs = [subprocess.Popen([MOAT, "--root", moat_root, "--certs-dir", registry.certs_dir, "pull", "-q", ref],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    r = moat(moat_root, "images", "--format", "json")
    assert [i["Id"] for i in json.loads(r.stdout)] == [pushed]
    assert len(os.listdir(os.path.join(moat_root, "overlay"))) == 3
    assert os.listdir(os.path.join(moat_root, "tmp")) == []


def test_progress_bars_on_a_terminal(registry, pushed, moat_root):
    import pty
    from registry import MOAT, BUILTIN_DIR
    master, slave = pty.openpty()
    env = dict(os.environ, MOAT_BUILTIN_DIR=BUILTIN_DIR)
    p = subprocess.Popen([MOAT, "--root", moat_root, "--certs-dir", registry.certs_dir, "pull",
                          f"{registry.host}/team/app:1.0"], stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert p.wait(timeout=60) == 0
    text = out.decode(errors="replace")
    assert "\x1b[" in text and "Complete" in text  # redrawn in place, per layer
    # not a terminal: plain lines, no escapes
    r = moat(moat_root, "pull", f"{registry.host}/team/app:1.0", certs=registry.certs_dir)
    assert "\x1b[" not in r.stderr
