"""What a process sees of its namespaces from inside the container."""
import os
import pathlib
import tempfile
import uuid

import pytest

from conftest import mountinfo_entries, read, xfail_on_runc


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
    # /proc/uptime follows CLOCK_BOOTTIME, so the boottime offset is what moves it; the monotonic
    # offset is checked in /proc/self/timens_offsets.
    b = rt.bundle(["sh", "-c", "cat /proc/uptime; stat -L -c %i /proc/self/ns/time; cat /proc/self/timens_offsets"])
    b.set_namespace("time")
    b.linux["timeOffsets"] = {"monotonic": {"secs": 86400 * 10, "nanosecs": 0},
                              "boottime": {"secs": 86400 * 20, "nanosecs": 0}}
    out = out_of(rt, b).splitlines()
    uptime = float(out[0].split()[0])
    assert uptime >= 86400 * 20, out
    assert int(out[1]) != os.stat("/proc/self/ns/time").st_ino
    offsets = {l.split()[0]: l.split()[1:] for l in out[2:]}
    assert offsets["monotonic"] == [str(86400 * 10), "0"], out
    assert offsets["boottime"] == [str(86400 * 20), "0"], out


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


def _userns_bundle(rt, args):
    # The mapped root (host uid 100000) must be able to reach the rootfs: pytest's tmp dirs are
    # 0700, so this bundle lives under a world-traversable directory of its own.
    parent = tempfile.mkdtemp(prefix="moat-itest-userns-", dir="/tmp")
    os.chmod(parent, 0o755)
    rt.extra_dirs.append(parent)
    b = rt.bundle(args, parent=pathlib.Path(parent))
    os.chmod(b.path, 0o755)
    b.set_namespace("user")
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    return b


def test_user_namespace_mapping(rt):
    b = _userns_bundle(rt, ["sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/gid_map; "
                                        "stat -L -c %i /proc/self/ns/user; while ! test -e /tmp/go; do usleep 20000; done"])
    st = rt.start_detached(b)
    status = read("/proc/%d/status" % st["pid"])
    uid = [l.split()[1:] for l in status.splitlines() if l.startswith("Uid:")][0]
    assert uid == ["100000"] * 4, status
    open(os.path.join(b.rootfs, "tmp", "go"), "w").close()
    rt.wait_status(b.cid, "stopped")
    out = read(b.out).split("\n")
    assert out[0] == "0"
    assert out[1].split() == ["0", "100000", "65536"]
    assert out[2].split() == ["0", "100000", "65536"]
    assert int(out[3]) != os.stat("/proc/self/ns/user").st_ino


def test_sysctl(rt):
    b = rt.bundle(["sh", "-c", "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni"])
    b.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"}
    assert out_of(rt, b).split() == ["1", "1234"]
    # The host's values are untouched (they live in the container's net and ipc namespaces).
    assert read("/proc/sys/kernel/shmmni").strip() != "1234"


def test_sysctl_outside_namespace_refused(rt):
    """kernel.hostname-like sysctls need their namespace; one that is not namespaced is refused."""
    b = rt.bundle(["true"])
    b.config["linux"]["sysctl"] = {"vm.swappiness": "10"}
    r = rt.run_container(b)
    assert r.returncode != 0
    assert rt.list_ids() == []


@xfail_on_runc("1.1 ignores linux.personality (supported from runc 1.2)")
def test_personality_linux32(rt):
    b = rt.bundle(["uname", "-m"])
    b.linux["personality"] = {"domain": "LINUX32"}
    assert out_of(rt, b).split() == ["i686"]


def test_readonly_root(rt):
    b = rt.bundle(["sh", "-c", "touch /newfile 2>/dev/null && echo wrote; touch /tmp/x 2>/dev/null && echo tmp-wrote"])
    b.config["root"]["readonly"] = True
    b.add_mount("/tmp", "tmpfs", "tmpfs", ["nosuid", "nodev"])
    assert out_of(rt, b).split() == ["tmp-wrote"]
    assert not os.path.exists(os.path.join(b.rootfs, "newfile"))


def test_annotations_in_state(rt):
    b = rt.bundle(["sleep", "100"])
    b.config["annotations"] = {"org.moat.test": "yes", "x": "y"}
    st = rt.start_detached(b)
    assert st.get("annotations") == {"org.moat.test": "yes", "x": "y"}


def test_no_new_keyring(rt):
    """--no-new-keyring: the container keeps the caller's session keyring instead of a new one."""
    b = rt.bundle(["sh", "-c", "grep -c . /proc/self/keys 2>/dev/null; true"])
    r = rt.run_container(b, "--no-new-keyring")
    assert r.returncode == 0, r.stderr
