"""Each container's own user namespace (issue 5, Moat's defaults): a distinct range of host ids per
container, image layers shared on disk and mounted idmapped, named volumes idmapped, cp giving
the container's root, and the modes that need the host's namespace shown as weakenings."""
import os
import subprocess
import tempfile

import pytest

from engine_helpers import moat  # noqa: F401  (fixture)

SIZE = 65536


def host_ids(pid):
    """The real uid and gid of a host pid, from /proc/<pid>/status."""
    st = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status").read().splitlines() if ":" in l)
    return int(st["Uid"].split()[0]), int(st["Gid"].split()[0])


@pytest.mark.v2
def test_root_inside_is_an_unprivileged_range_outside(moat):
    a = moat.run_d("busybox", "sleep", "60")
    b = moat.run_d("busybox", "sleep", "60")
    ua, ub = moat.inspect(a)["MoatUserns"], moat.inspect(b)["MoatUserns"]
    assert ua["Size"] == ub["Size"] == SIZE
    # distinct, non-overlapping ranges, far from the host's own ids
    assert abs(ua["HostUid"] - ub["HostUid"]) >= SIZE
    assert min(ua["HostUid"], ub["HostUid"]) >= SIZE
    p = moat("exec", a, "sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/gid_map")
    lines = p.stdout.splitlines()
    assert lines[0] == "0"
    assert lines[1].split() == ["0", str(ua["HostUid"]), str(SIZE)]
    assert lines[2].split() == ["0", str(ua["HostGid"]), str(SIZE)]
    # the container's pid 1, root inside, is the range's first id on the host
    assert host_ids(moat.inspect(a)["State"]["Pid"]) == (ua["HostUid"], ua["HostGid"])
    assert moat.inspect(a)["HostConfig"]["UsernsMode"] == ""
    assert "--userns=host" not in (moat.inspect(a)["MoatWeakenings"] or [])


@pytest.mark.v2
def test_layers_are_shared_and_appear_owned_by_root(moat):
    cid = moat.run_d("busybox", "sleep", "60")
    p = moat("exec", cid, "stat", "-c", "%u:%g", "/bin", "/etc/passwd")
    assert p.stdout.split() == ["0:0", "0:0"], p.stdout + p.stderr
    # on disk the image's files keep their ids (one copy for every container)
    layers = os.path.join(moat.root, "overlay")
    owners = set()
    for d, _, files in os.walk(layers):
        for f in files[:20]:
            st = os.lstat(os.path.join(d, f))
            owners.add(st.st_uid)
    assert owners == {0}
    # what the container writes is stored with its host ids
    moat("exec", cid, "sh", "-c", "echo x > /made && chown 1000:1000 /made", check=True)
    u = moat.inspect(cid)["MoatUserns"]
    upper = os.path.join(moat.root, "snapshots", cid, "upper", "made")
    st = os.stat(upper)
    assert (st.st_uid, st.st_gid) == (u["HostUid"] + 1000, u["HostGid"] + 1000)


def test_host_root_files_are_nobody_and_device_nodes_are_the_allow_list(moat):
    cid = moat.run_d("busybox", "sleep", "60")
    # a host-owned file seen through a bind: nobody, and not writable by root inside
    d = tempfile.mkdtemp(prefix="moat-uns-bind-")
    os.chmod(d, 0o755)
    try:
        open(os.path.join(d, "f"), "w").write("host\n")
        p = moat("run", "--rm", "-v", f"{d}:/h", "busybox", "sh", "-c",
                 "stat -c %u /h/f; echo y >> /h/f && echo wrote || echo denied")
        assert p.stdout.split() == ["65534", "denied"], p.stdout + p.stderr
    finally:
        subprocess.run(["rm", "-rf", d])
    p = moat("exec", cid, "sh", "-c", "echo > /dev/null && head -c1 /dev/zero | wc -c")
    assert p.stdout.split() == ["1"], p.stdout + p.stderr


@pytest.mark.v2
def test_named_volume_is_shared_across_ranges(moat):
    moat("volume", "create", "shared", check=True)
    p = moat("run", "--rm", "-v", "shared:/v", "busybox", "sh", "-c", "echo one > /v/f && stat -c %u:%g /v/f")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["0:0"]
    keep = moat.run_d("busybox", "sleep", "60")  # holds a range, so the next run gets another
    p = moat("run", "--rm", "-v", "shared:/v", "busybox", "sh", "-c", "cat /v/f; echo two >> /v/f && echo ok")
    assert p.stdout.split() == ["one", "ok"], p.stdout + p.stderr
    # on disk: root's, whatever range wrote it
    path = os.path.join(moat.root, "volumes", "shared", "_data", "f")
    assert os.stat(path).st_uid == 0
    moat("rm", "-f", keep)
    moat("volume", "rm", "shared", check=True)


def test_cp_into_the_container_belongs_to_its_root(moat):
    cid = moat.run_d("busybox", "sleep", "60")
    d = tempfile.mkdtemp(prefix="moat-uns-cp-")
    try:
        os.makedirs(os.path.join(d, "dir", "sub"))
        open(os.path.join(d, "dir", "sub", "f"), "w").write("x\n")
        moat("cp", os.path.join(d, "dir"), f"{cid}:/tmp/", check=True)
    finally:
        subprocess.run(["rm", "-rf", d])
    p = moat("exec", cid, "stat", "-c", "%u:%g", "/tmp/dir", "/tmp/dir/sub", "/tmp/dir/sub/f")
    assert p.stdout.split() == ["0:0"] * 3, p.stdout + p.stderr


def test_ranges_are_reused_after_rm(moat):
    a = moat.run_d("busybox", "true")
    ua = moat.inspect(a)["MoatUserns"]["HostUid"]
    moat("rm", "-f", a, check=True)
    b = moat.run_d("busybox", "true")
    assert moat.inspect(b)["MoatUserns"]["HostUid"] == ua


@pytest.mark.parametrize("flags", [["--userns", "host"], ["--privileged"], ["--network", "host"]])
def test_host_user_namespace_is_a_weakening(moat, flags):
    cid = moat.run_d(*flags, "busybox", "sleep", "60")
    d = moat.inspect(cid)
    assert "--userns=host" in d["MoatWeakenings"]
    assert "MoatUserns" not in d
    assert d["HostConfig"]["UsernsMode"] == "host" or flags != ["--userns", "host"]
    p = moat("exec", cid, "cat", "/proc/self/uid_map")
    assert p.stdout.split() == ["0", "0", "4294967295"]
    events = open(os.path.join(moat.root, "events.log")).read()
    assert "--userns=host" in events


def test_other_userns_modes_are_refused(moat):
    p = moat("run", "--rm", "--userns", "keep-id", "busybox", "true")
    assert p.returncode == 125
    assert "--userns=keep-id" in p.stderr


def test_state_root_behind_a_private_directory_is_a_clear_error():
    """The container's root (an unprivileged host id) must be able to walk to its rootfs; a
    --root under a 0700 directory is reported before anything is made."""
    from engine_helpers import Moat
    outer = tempfile.mkdtemp(prefix="moat-uns-private-")
    os.chmod(outer, 0o700)
    m = Moat(os.path.join(outer, "root"))
    try:
        p = m("run", "--rm", "busybox", "true")
        assert p.returncode != 0
        assert "not searchable" in p.stderr and "--userns=host" in p.stderr, p.stderr
        assert m("ps", "-a", "-q").stdout.strip() == ""
        assert os.listdir(os.path.join(m.root, "containers")) == []
        p = m("run", "--rm", "--userns", "host", "busybox", "echo", "ok")
        assert p.stdout == "ok\n", p.stderr
    finally:
        subprocess.run(["rm", "-rf", outer])


def test_idmapped_layers_through_the_legacy_overlay_mount(moat):
    """Kernels before 6.8 (no fsconfig lowerdir+) mount with mount(2); before ~6.5 overlayfs also
    wants its layers attached, so the idmapped clones are attached under the snapshot and
    detached again once the overlay holds them. MOAT_OVERLAY_LEGACY=1 takes that path here."""
    moat.env["MOAT_OVERLAY_LEGACY"] = "1"
    cid = moat.run_d("busybox", "sleep", "60")
    p = moat("exec", cid, "sh", "-c", "stat -c %u:%g /bin/busybox; touch /new && stat -c %u /new")
    assert p.stdout.split() == ["0:0", "0"], p.stdout + p.stderr
    snap = os.path.join(moat.root, "snapshots", cid)
    with open("/proc/self/mountinfo") as f:
        assert not [l for l in f if snap + "/l/" in l]
    assert not os.path.exists(os.path.join(snap, "l")) or os.listdir(os.path.join(snap, "l")) == []
