"""What a process sees of its namespaces from inside the container."""
import os
import uuid

import pytest

from conftest import mountinfo_entries, xfail_on_runc


def out_of(rt, b, *extra):
    r = rt.run_container(b, *extra)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_own_pid_1(rt):
    # `read` is a shell builtin, so /proc/self is the shell itself.
    b = rt.bundle(["sh", "-c", "echo $$; read pid rest < /proc/self/stat; echo $pid"])
    assert out_of(rt, b).split() == ["1", "1"]


def test_hostname(rt):
    b = rt.bundle(["hostname"])
    b.config["hostname"] = "box-one"
    assert out_of(rt, b).split() == ["box-one"]


@xfail_on_runc("1.1 ignores `domainname` (supported from runc 1.2): the container sees (none)")
def test_domainname(rt):
    b = rt.bundle(["cat", "/proc/sys/kernel/domainname"])
    b.config["domainname"] = "example.test"
    assert out_of(rt, b).split() == ["example.test"]


def test_network_namespace_has_only_lo(rt):
    b = rt.bundle(["sh", "-c", "ls /sys/class/net; echo ---; cat /proc/net/dev"])
    out = out_of(rt, b)
    ls, dev = out.split("---")
    assert ls.split() == ["lo"]
    ifaces = [l.split(":")[0].strip() for l in dev.splitlines() if ":" in l]
    assert ifaces == ["lo"]


@pytest.mark.parametrize("ns", ["ipc", "uts", "net", "pid", "mnt"])
def test_namespace_differs_from_host(rt, ns):
    b = rt.bundle(["stat", "-L", "-c", "%i", "/proc/self/ns/" + ns])
    inside = int(out_of(rt, b))
    assert inside != os.stat("/proc/self/ns/" + ns).st_ino


def test_cgroup_namespace(rt):
    b = rt.bundle(["sh", "-c", "stat -L -c %i /proc/self/ns/cgroup; cat /proc/self/cgroup"])
    b.set_namespace("cgroup")
    out = out_of(rt, b).splitlines()
    assert int(out[0]) != os.stat("/proc/self/ns/cgroup").st_ino
    # Inside a cgroup namespace the container's own cgroup is the root.
    for line in out[1:]:
        assert line.split(":", 2)[2] == "/", out


def test_join_namespace_by_path(rt):
    """A second container joins the first one's uts and ipc namespaces by path."""
    b1 = rt.bundle(["sleep", "100"])
    b1.config["hostname"] = "first"
    st = rt.start_detached(b1)
    b2 = rt.bundle(["sh", "-c", "hostname; stat -L -c %i /proc/self/ns/ipc"])
    b2.config.pop("hostname")
    b2.set_namespace("uts", path="/proc/%d/ns/uts" % st["pid"])
    b2.set_namespace("ipc", path="/proc/%d/ns/ipc" % st["pid"])
    out = out_of(rt, b2).split()
    assert out[0] == "first"
    assert int(out[1]) == os.stat("/proc/%d/ns/ipc" % st["pid"]).st_ino


@xfail_on_runc("1.1 has no time namespace support (added in runc 1.2)")
def test_time_namespace_offsets(rt):
    b = rt.bundle(["sh", "-c", "cat /proc/uptime; stat -L -c %i /proc/self/ns/time"])
    b.set_namespace("time")
    b.linux["timeOffsets"] = {"monotonic": {"secs": 86400 * 10, "nanosecs": 0},
                              "boottime": {"secs": 86400 * 10, "nanosecs": 0}}
    out = out_of(rt, b).splitlines()
    uptime = float(out[0].split()[0])
    assert uptime >= 86400 * 10, out
    assert int(out[1]) != os.stat("/proc/self/ns/time").st_ino


def test_pivot_root_hides_host(rt):
    marker = "/tmp/moat-host-marker-" + uuid.uuid4().hex
    open(marker, "w").close()
    try:
        b = rt.bundle(["sh", "-c",
                       "test -e %s && echo host-visible; test -e /rootfs-marker && echo rootfs-ok; "
                       "ls /proc/1/root/; cat /proc/self/mountinfo" % marker])
        open(os.path.join(b.rootfs, "rootfs-marker"), "w").close()
        out = out_of(rt, b)
    finally:
        os.unlink(marker)
    assert "host-visible" not in out
    assert "rootfs-ok" in out
    # No mount point is a host path (the bundle, the host's tmp dir): the old root is gone.
    points = [m["mountpoint"] for m in mountinfo_entries(out)]
    assert points and not [p for p in points if str(rt.tmp) in p or p.startswith("/tmp/")], points
    assert points.count("/") == 1, points
