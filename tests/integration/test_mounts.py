"""Mounts as the container sees them: bind (ro, rbind), flags, tmpfs, the special filesystems of
the default spec, and propagation to and from the host."""
import os
import subprocess

import pytest

from conftest import CGROUP_V2, host_mount, mount_at, mountinfo_entries, read


def inside(rt, b, script):
    b.process["args"] = ["sh", "-c", script]
    r = rt.run_container(b)
    assert r.returncode == 0, r.stderr
    return r.stdout


def host_src(rt, name="src"):
    d = rt.tmp / name
    d.mkdir()
    (d / "data").write_text("from-host\n")
    return d


def test_bind_readonly(rt):
    src = host_src(rt)
    b = rt.bundle()
    b.add_mount("/ro", "bind", str(src), ["rbind", "ro"])
    out = inside(rt, b, "cat /ro/data; touch /ro/new 2>/dev/null && echo wrote; "
                        "cat /proc/self/mountinfo")
    assert "from-host" in out
    assert "wrote" not in out
    assert not (src / "new").exists()
    assert "ro" in mount_at(out, "/ro")["options"]


def test_bind_readwrite(rt):
    src = host_src(rt)
    b = rt.bundle()
    b.add_mount("/rw", "bind", str(src), ["rbind", "rw"])
    inside(rt, b, "echo from-container > /rw/new")
    assert (src / "new").read_text() == "from-container\n"


def test_bind_file(rt):
    src = host_src(rt)
    b = rt.bundle()
    b.add_mount("/etc/data-file", "bind", str(src / "data"), ["bind", "ro"])
    assert inside(rt, b, "cat /etc/data-file") == "from-host\n"


def test_rbind_is_recursive_and_bind_is_not(rt):
    src = host_src(rt)
    host_mount(rt, src / "sub", "-t", "tmpfs", "tmpfs")
    (src / "sub" / "subfile").write_text("x")
    b = rt.bundle()
    b.add_mount("/r", "bind", str(src), ["rbind"])
    b.add_mount("/n", "bind", str(src), ["bind"])
    out = inside(rt, b, "test -e /r/sub/subfile && echo r-has-sub; test -e /n/sub/subfile && echo n-has-sub;"
                        "test -e /n/data && echo n-has-data")
    assert out.split() == ["r-has-sub", "n-has-data"]


def test_bind_nosuid_nodev_noexec(rt):
    src = host_src(rt)
    b = rt.bundle()
    b.add_mount("/b", "bind", str(src), ["rbind", "nosuid", "nodev", "noexec"])
    out = inside(rt, b, "cp /bin/busybox /b/bb; /b/bb true 2>/dev/null; echo rc=$?; cat /proc/self/mountinfo")
    assert "rc=126" in out
    opts = mount_at(out, "/b")["options"]
    assert {"nosuid", "nodev", "noexec"} <= set(opts), opts


def test_tmpfs_flags_size_and_mode(rt):
    b = rt.bundle()
    b.add_mount("/t", "tmpfs", "tmpfs", ["nosuid", "nodev", "noexec", "size=2m", "mode=700"])
    out = inside(rt, b, "stat -c %a /t; dd if=/dev/zero of=/t/f bs=1M count=4 2>/dev/null; echo dd=$?;"
                        "cp /bin/busybox /t/bb; /t/bb true 2>/dev/null; echo exec=$?; cat /proc/self/mountinfo")
    lines = out.splitlines()
    assert lines[0] == "700"
    assert lines[1] != "dd=0"          # the 2 MiB tmpfs is full
    assert lines[2] == "exec=126"      # noexec
    m = mount_at(out, "/t")
    assert m["fstype"] == "tmpfs"
    assert {"nosuid", "nodev", "noexec"} <= set(m["options"])
    assert "size=2048k" in m["super"] and "mode=700" in m["super"], m


def test_mount_relatime_and_ro_remount_flags(rt):
    b = rt.bundle()
    b.add_mount("/t", "tmpfs", "tmpfs", ["ro", "noatime"])
    out = inside(rt, b, "touch /t/x 2>/dev/null && echo wrote; cat /proc/self/mountinfo")
    assert "wrote" not in out
    m = mount_at(out, "/t")
    assert "ro" in m["options"] and "noatime" in m["options"], m


@pytest.mark.parametrize("point,fstypes", [
    ("/proc", {"proc"}),
    ("/sys", {"sysfs"}),
    ("/dev", {"tmpfs"}),
    ("/dev/pts", {"devpts"}),
    ("/dev/shm", {"tmpfs"}),
    ("/dev/mqueue", {"mqueue"}),
])
def test_default_spec_mounts(rt, point, fstypes):
    """The special filesystems of `RUNTIME spec`'s default mounts are there, with their type."""
    b = rt.bundle()
    out = inside(rt, b, "cat /proc/self/mountinfo")
    assert mount_at(out, point)["fstype"] in fstypes


def test_devpts_newinstance(rt):
    b = rt.bundle()
    out = inside(rt, b, "cat /proc/self/mountinfo")
    m = mount_at(out, "/dev/pts")
    assert m["source"] == "devpts"
    assert "ptmxmode=666" in m["super"] or "ptmxmode=0666" in m["super"], m
    # Its own instance: a different superblock (major:minor) from every devpts of the host.
    dev = [l.split()[2] for l in out.splitlines() if " /dev/pts " in l][-1]
    host = [l.split()[2] for l in read("/proc/self/mountinfo").splitlines() if " - devpts " in l]
    assert dev not in host, (dev, host)


def test_cgroup_mount(rt):
    b = rt.bundle()
    out = inside(rt, b, "cat /proc/self/mountinfo; echo ---; ls /sys/fs/cgroup")
    mi, ls = out.split("---")
    types = {m["fstype"] for m in mountinfo_entries(mi) if m["mountpoint"].startswith("/sys/fs/cgroup")}
    if CGROUP_V2:
        assert "cgroup2" in types
        assert "cgroup.controllers" in ls.split()
    else:
        assert "cgroup" in types, types
        assert "memory" in ls.split() and "pids" in ls.split()
    # Read-only as the default spec asks (on v1 the hierarchies under a tmpfs at /sys/fs/cgroup).
    for m in mountinfo_entries(mi):
        if m["fstype"] in ("cgroup", "cgroup2"):
            assert "ro" in m["options"], m


def test_mqueue_is_private(rt):
    b = rt.bundle()
    out = inside(rt, b, "ls -a /dev/mqueue | wc -l")
    assert out.split() == ["2"]  # only . and .. : the container's own ipc namespace's queues


def _shared_dir(rt, name):
    """A tmpfs on the host made shared, so propagation between host and container is observable
    (this machine's root mount is private)."""
    d = rt.tmp / name
    host_mount(rt, d, "-t", "tmpfs", "tmpfs")
    subprocess.run(["mount", "--make-shared", str(d)], check=True)
    return d


def _wait_then(script):
    # The container waits for /go (created by the host in the rootfs), then runs `script`.
    return "while ! test -e /go; do usleep 20000; done; " + script


@pytest.mark.parametrize("prop,seen", [("rslave", True), ("rprivate", False), ("rshared", True)])
def test_bind_propagation_from_host(rt, prop, seen):
    shared = _shared_dir(rt, "shared")
    (shared / "src").mkdir()
    b = rt.bundle(["sh", "-c", _wait_then("test -e /m/sub/f && echo seen; cat /proc/self/mountinfo")])
    b.add_mount("/m", "bind", str(shared / "src"), ["rbind", prop])
    rt.create(b)
    rt.ok("start", b.cid)
    # A mount made on the host after the container started.
    host_mount(rt, shared / "src" / "sub", "-t", "tmpfs", "tmpfs")
    (shared / "src" / "sub" / "f").write_text("x")
    open(os.path.join(b.rootfs, "go"), "w").close()
    rt.wait_status(b.cid, "stopped")
    out = open(b.out).read()
    assert ("seen" in out.splitlines()) == seen, out
    opt = mount_at(out, "/m")["optional"]
    if prop == "rprivate":
        assert not [o for o in opt if o.startswith(("master:", "shared:"))], opt
    elif prop == "rslave":
        assert [o for o in opt if o.startswith("master:")] and not [o for o in opt if o.startswith("shared:")], opt
    else:
        assert [o for o in opt if o.startswith("shared:")], opt


@pytest.mark.parametrize("prop,seen", [("rslave", True), ("rprivate", False), ("private", False)])
def test_rootfs_propagation(rt, prop, seen):
    """linux.rootfsPropagation: with a bundle on a shared host mount, a mount the host makes inside the
    rootfs after start appears in the container only when the root is a slave."""
    shared = _shared_dir(rt, "sharedroot")
    b = rt.bundle(["sh", "-c", _wait_then("test -e /mnt/late/f && echo seen; cat /proc/self/mountinfo")],
                  parent=shared)
    b.linux["rootfsPropagation"] = prop
    rt.create(b)
    rt.ok("start", b.cid)
    host_mount(rt, os.path.join(b.rootfs, "mnt", "late"), "-t", "tmpfs", "tmpfs")
    open(os.path.join(b.rootfs, "mnt", "late", "f"), "w").close()
    open(os.path.join(b.rootfs, "go"), "w").close()
    rt.wait_status(b.cid, "stopped")
    out = open(b.out).read()
    assert ("seen" in out.splitlines()) == seen, out
    opt = mount_at(out, "/")["optional"]
    if prop in ("rprivate", "private"):
        assert not [o for o in opt if o.startswith(("master:", "shared:"))], opt
    else:
        assert [o for o in opt if o.startswith("master:")], opt
