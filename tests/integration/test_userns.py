"""User namespaces (issue 3, item 6): mappings with one and several ranges, files created inside
owned by the mapped host ids, the container's cgroup owned by its root, idmapped bind mounts, and
`spec --rootless`."""
import json
import os
import shutil
import tempfile

import pytest

from conftest import xfail_on_runc
from escape_helpers import Bundle, rt, sh  # noqa: F401  (fixture)

BASE = 100000
SIZE = 65536


@pytest.fixture
def walkable():
    """A directory the mapped ids can walk into (pytest's tmp root is 0700 to root)."""
    d = tempfile.mkdtemp(prefix="moat-userns-")
    os.chmod(d, 0o711)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def userns_bundle(rt, walkable, ranges=((0, BASE, SIZE),)):
    b = Bundle(os.path.join(walkable, "b"), rt.binary)
    b.config["root"]["readonly"] = False
    b.config["linux"]["namespaces"].append({"type": "user"})
    maps = [{"containerID": c, "hostID": h, "size": s} for c, h, s in ranges]
    b.config["linux"]["uidMappings"] = maps
    b.config["linux"]["gidMappings"] = maps
    # the image as a user-namespaced container must see it: owned by the container's root
    assert sh(["chown", "-R", "%d:%d" % (ranges[0][1], ranges[0][1]), b.rootfs]).returncode == 0
    return b


def test_root_inside_is_mapped_outside(rt, walkable):
    b = userns_bundle(rt, walkable)
    b.args("sh", "-c", "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; touch /root/made-inside")
    r = rt.run(b)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:2] == ["0", "0"]
    assert [l.split() for l in lines[2:]] == [["0", str(BASE), str(SIZE)]] * 2
    st = os.stat(os.path.join(b.rootfs, "root", "made-inside"))
    assert (st.st_uid, st.st_gid) == (BASE, BASE)


def test_two_ranges(rt, walkable):
    b = userns_bundle(rt, walkable, ((0, BASE, 1000), (1000, 200000, 1000)))
    b.args("sh", "-c", "cat /proc/self/uid_map; touch /root/a /root/b; chown 1500:1500 /root/b")
    r = rt.run(b)
    assert r.returncode == 0, r.stderr
    assert [l.split() for l in r.stdout.splitlines()] == [["0", str(BASE), "1000"], ["1000", "200000", "1000"]]
    a = os.stat(os.path.join(b.rootfs, "root", "a"))
    bb = os.stat(os.path.join(b.rootfs, "root", "b"))
    assert (a.st_uid, a.st_gid) == (BASE, BASE)
    assert (bb.st_uid, bb.st_gid) == (200500, 200500)


def test_cgroup_owned_by_container_root(rt, walkable):
    b = userns_bundle(rt, walkable)
    cid = rt.start_sleeper(b)
    pid = json.loads(rt.cmd("state", cid).stdout)["pid"]
    checked = 0
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, ctls, path = line.rstrip("\n").split(":", 2)
            if ctls not in ("pids", "memory", ""):
                continue
            d = "/sys/fs/cgroup/" + (ctls or "unified") + path
            if not os.path.isdir(d) or path in ("/", ""):
                continue
            for name in (".", "cgroup.procs"):
                st = os.stat(os.path.join(d, name))
                assert st.st_uid == BASE, (d, name, st.st_uid)
                checked += 1
    assert checked >= 2


def test_idmapped_bind_mount(rt, walkable):
    import pathlib
    host = pathlib.Path(walkable) / "hostdata"
    host.mkdir()
    (host / "owned-by-root").write_text("x\n")
    os.chown(host, 0, 0)
    b = userns_bundle(rt, walkable)
    idmap = [{"containerID": 0, "hostID": BASE, "size": SIZE}]
    b.config["mounts"] += [
        {"destination": "/plain", "type": "bind", "source": str(host), "options": ["rbind", "rw"]},
        {"destination": "/mapped", "type": "bind", "source": str(host), "options": ["rbind", "rw", "idmap"],
         "uidMappings": idmap, "gidMappings": idmap},
    ]
    b.args("sh", "-c", "stat -c '%u:%g' /plain/owned-by-root /mapped/owned-by-root; touch /mapped/new")
    r = rt.run(b)
    assert r.returncode == 0, r.stderr
    # without the idmap the host's root is nobody inside; with it, root
    assert r.stdout.split() == ["65534:65534", "0:0"], r.stdout
    # written through the idmapped mount: root inside is root on disk
    st = os.stat(host / "new")
    assert (st.st_uid, st.st_gid) == (0, 0)


@xfail_on_runc("opens bind sources inside the user namespace (EACCES)")
def test_bind_source_the_mapped_root_cannot_reach(rt, walkable, tmp_path):
    """A bind's source under a 0700 directory (pytest's tmp root): the runtime opens it on the
    host before the container's user namespace exists, so it mounts (runc fails with EACCES)."""
    hidden = tmp_path / "private" / "data"
    hidden.mkdir(parents=True)
    os.chmod(tmp_path / "private", 0o700)
    (hidden / "f").write_text("reached\n")
    b = userns_bundle(rt, walkable)
    b.config["mounts"].append({"destination": "/data", "type": "bind", "source": str(hidden),
                               "options": ["rbind", "ro"]})
    b.args("cat", "/data/f")
    r = rt.run(b)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "reached\n"


def test_spec_rootless_runs(rt, tmp_path):
    b = rt.bundle()
    os.unlink(b.config_path)
    r = sh([rt.binary, "spec", "--rootless"], cwd=b.path)
    assert r.returncode == 0, r.stderr
    with open(b.config_path) as f:
        cfg = json.load(f)
    assert {"type": "user"} in cfg["linux"]["namespaces"]
    assert "resources" not in cfg["linux"] or not cfg["linux"]["resources"]
    cfg["root"]["path"] = b.rootfs
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["sh", "-c", "cat /proc/self/uid_map; id -u"]
    b.config = cfg
    r = rt.run(b)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["0", str(os.getuid()), "1"] and lines[1] == "0", r.stdout


def test_devices_in_userns_are_checked_host_nodes(rt, walkable):
    """mknod is not allowed in a user namespace: the host's node is bound, after checking it is
    the device the config names."""
    b = userns_bundle(rt, walkable)
    b.args("sh", "-c", "stat -c '%t:%T' /dev/null /dev/zero; echo x > /dev/null && echo WROTE")
    r = rt.run(b)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1:3", "1:5", "WROTE"], r.stdout
    # a node the config names at another path is the host's node with its type and numbers
    # (docker's --device /dev/zero:/dev/myzero), found under the host's /dev
    b.config["linux"]["devices"] = [{"path": "/dev/myzero", "type": "c", "major": 1, "minor": 5}]
    b.args("stat", "-c", "%t:%T", "/dev/myzero")
    r = rt.run(b)
    assert r.returncode == 0 and r.stdout.split() == ["1:5"], r.stdout + r.stderr
    # numbers no host node has: refused, never a node of another device
    b.config["linux"]["devices"] = [{"path": "/dev/null", "type": "c", "major": 1, "minor": 250}]
    b.args("true")
    r = rt.run(b)
    assert r.returncode != 0 and "/dev/null" in r.stderr and "1:250" in r.stderr, r.stderr
