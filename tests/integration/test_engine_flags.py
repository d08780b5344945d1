"""moat run/create flags as a docker user writes them: --mount, --device, --init, anonymous volumes
and the image's Volumes. Each is driven through the CLI and checked where it shows: inside the
container, in inspect, in the event log, in `volume ls`; refusals leave nothing behind."""
import io
import json
import os
import re
import shutil
import stat
import subprocess
import tarfile
import time

import pytest

from engine_helpers import mounts_under, moat  # noqa: F401


def volumes(moat):
    return moat("volume", "ls", "-q", check=True).stdout.split()


def events(moat):
    p = os.path.join(moat.root, "events.log")
    return [json.loads(l) for l in open(p)] if os.path.exists(p) else []


def assert_nothing_made(moat):
    assert moat.all_ids() == []
    assert volumes(moat) == []
    assert os.listdir(os.path.join(moat.root, "containers")) == []
    assert mounts_under(moat.root) == []


# ---- --mount ---------------------------------------------------------------------------------

def test_mount_bind_volume_tmpfs(moat, tmp_path):
    (tmp_path / "f").write_text("from host\n")
    # --userns host: root inside must be root on the host to write to pytest's 0700 tmp dir
    # (test_engine_userns.py covers binds and volumes in the container's own user namespace)
    cid = moat.run_d("--userns", "host", "--mount", f"type=bind,source={tmp_path},target=/b,readonly",
                     "--mount", f"type=bind,src={tmp_path},dst=/w",
                     "--mount", "type=volume,src=named,destination=/v",
                     "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770",
                     "busybox", "sh", "-c",
                     "cat /b/f; touch /b/x 2>/dev/null || echo ro; echo w > /w/new; echo v > /v/keep; "
                     "grep -E ' /(b|w|v|t) ' /proc/mounts; stat -c %a /t")
    assert moat("wait", cid, check=True).stdout == "0\n"
    out = moat("logs", cid, check=True).stdout
    assert out.startswith("from host\nro\n"), out
    m = {l.split()[1]: l.split()[3].split(",") for l in out.splitlines() if l.startswith(("/", "tmpfs"))}
    assert "ro" in m["/b"] and "rw" in m["/w"] and "rw" in m["/v"]
    for opts in m.values():
        assert "nosuid" in opts and "nodev" in opts
    assert "noexec" in m["/t"] and "size=1024k" in m["/t"] and "mode=1770" in m["/t"]
    assert out.splitlines()[-1] == "1770"
    assert (tmp_path / "new").read_text() == "w\n"
    assert volumes(moat) == ["named"]

    d = moat.inspect(cid)
    hm = {x["Target"]: x for x in d["HostConfig"]["Mounts"]}
    assert hm["/b"]["Type"] == "bind" and hm["/b"]["ReadOnly"] and hm["/b"]["Source"] == str(tmp_path)
    assert hm["/v"]["Type"] == "volume" and hm["/v"]["Source"] == "named"
    assert hm["/t"]["TmpfsOptions"] == {"SizeBytes": 1 << 20, "Mode": 0o1770}
    mounts = {x["Destination"]: x for x in d["Mounts"]}
    assert mounts["/b"]["RW"] is False and mounts["/w"]["RW"] is True
    assert mounts["/v"]["Name"] == "named" and mounts["/v"]["Source"].endswith("/volumes/named/_data")
    # binds are weakenings: inspect and the create event say so; volumes and tmpfs are not
    weak = d["MoatWeakenings"]
    assert f"--mount=type=bind,source={tmp_path},target=/b,readonly" in weak
    assert f"--mount=type=bind,src={tmp_path},dst=/w" in weak
    assert not [w for w in weak if w.startswith(("--mount=type=volume", "--mount=type=tmpfs"))]
    ev = [e for e in events(moat) if e["action"] == "create" and e["id"] == cid][0]
    assert ev["weakenings"] == weak
    # the named volume outlives the container
    moat("rm", "-v", cid, check=True)
    assert volumes(moat) == ["named"]
    p = moat("run", "--rm", "-v", "named:/v:ro", "busybox", "cat", "/v/keep")
    assert p.stdout == "v\n", p.stderr


@pytest.mark.parametrize("spec,word", [
    ("type=npipe,src=/x,dst=/x", "npipe"),
    ("type=cluster,dst=/x", "cluster"),
    ("type=image,src=busybox,dst=/x", "image"),
    ("type=nfs,dst=/x", "unknown mount type"),
    ("type=bind,src=/tmp,dst=/x,colour=red", "colour"),
    ("type=bind,src=/tmp,dst=/x,bind-nonrecursive", "not supported yet"),
    ("type=volume,dst=/x,volume-driver=nfs", "not supported yet"),
    ("type=bind,src=/tmp", "target"),
    ("type=bind,dst=/x", "source"),
    ("type=bind,src=tmp,dst=/x", "absolute"),
    ("type=bind,src=/no/such/dir,dst=/x", "does not exist"),
    ("type=bind,src=/tmp,dst=x", "absolute"),
    ("type=bind,src=/tmp,dst=/", "absolute"),
    ("type=bind,src=/tmp,dst=/a/../b", ".."),
    ("type=bind,src=/tmp,dst=/x,volume-nocopy", "only for type=volume"),
    ("type=volume,dst=/x,bind-propagation=rshared", "only for type=bind"),
    ("type=bind,src=/tmp,dst=/x,bind-propagation=sideways", "bind-propagation"),
    ("type=bind,src=/tmp,dst=/x,bind-propagation=rshared", "not supported yet"),
    ("type=tmpfs,src=/tmp,dst=/x", "no source"),
    ("type=tmpfs,dst=/x,tmpfs-size=lots", "tmpfs-size"),
    ("type=tmpfs,dst=/x,tmpfs-mode=999", "tmpfs-mode"),
    ("type=volume,src=../up,dst=/x", "volume name"),
    ("type=bind,src=/tmp,dst=/x,readonly=maybe", "readonly"),
])
def test_mount_refusals_leave_nothing(moat, spec, word):
    p = moat("run", "--rm", "-v", "/anon", "--mount", "type=volume,src=made,dst=/m", "--mount", spec,
             "busybox", "true")
    assert p.returncode == 125, (spec, p.stdout, p.stderr)
    assert word in p.stderr, (spec, p.stderr)
    assert_nothing_made(moat)


def test_duplicate_targets_and_root_by_another_name(moat, tmp_path):
    p = moat("create", "-v", "/tmp:/x", "--mount", "type=tmpfs,dst=/x/", "busybox")
    assert p.returncode == 125 and "Duplicate mount point: /x" in p.stderr
    # the host's / is refused however it is named: -v and --mount, directly or through a symlink
    os.symlink("/", tmp_path / "root")
    for args in (["-v", f"{tmp_path}/root:/host"], ["--mount", f"type=bind,src={tmp_path}/root,dst=/host"],
                 ["-v", "/:/host"]):
        p = moat("create", *args, "busybox")
        assert p.returncode == 125 and "host's /" in p.stderr, (args, p.stderr)
    assert_nothing_made(moat)


def test_tmpfs_options_keep_the_defaults(moat):
    p = moat("run", "--rm", "--tmpfs", "/t:size=1m", "--tmpfs", "/e:exec", "busybox", "grep", "-E", " /(t|e) ",
             "/proc/mounts")
    m = {l.split()[1]: l.split()[3].split(",") for l in p.stdout.splitlines()}
    assert {"nosuid", "nodev", "noexec", "size=1024k"} <= set(m["/t"]), p.stdout
    assert "noexec" not in m["/e"] and "nosuid" in m["/e"]


def test_bind_propagation(moat, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    # the host source is a mount point of its own, shared, so propagation can be seen
    subprocess.run(["mount", "--bind", src, src], check=True)
    try:
        subprocess.run(["mount", "--make-shared", src], check=True)
        slave = moat.run_d("--mount", f"type=bind,src={src},dst=/s,bind-propagation=rslave", "busybox", "sleep", "30")
        private = moat.run_d("--mount", f"type=bind,src={src},dst=/s", "busybox", "sleep", "30")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "late", src / "sub"], check=True)
        try:
            def seen(cid):
                return "/s/sub" in moat("exec", cid, "cat", "/proc/mounts", check=True).stdout
            assert seen(slave)
            assert not seen(private)
            assert moat.inspect(private)["Mounts"][0]["Propagation"] == "rprivate"
            moat("rm", "-f", slave, private, check=True)
        finally:
            subprocess.run(["umount", src / "sub"], check=True)
    finally:
        subprocess.run(["umount", src], check=True)


# ---- --device --------------------------------------------------------------------------------

def test_device_nodes_and_cgroup_rules(moat):
    cid = moat.run_d("--device", "/dev/null:/dev/mynull", "--device", "/dev/zero:/dev/z/zero:r",
                     "--device", "/dev/loop-control:r", "busybox", "sh", "-c",
                     "ls -ln /dev/mynull /dev/z/zero /dev/loop-control; echo hi > /dev/mynull && echo null-ok; "
                     "head -c 3 /dev/z/zero | od -An -tx1; "
                     "(: > /dev/loop-control) 2>/dev/null || echo lc-write-denied; "
                     "cat /sys/fs/cgroup/devices/devices.list")
    assert moat("wait", cid, check=True).stdout == "0\n"
    out = moat("logs", cid, check=True).stdout
    lines = out.splitlines()
    ls = {l.split()[-1]: l for l in lines[:3]}
    # type, numbers and mode are the host node's: in the container's own user namespace the node is
    # the host's, bound (mknod is not allowed there), so its owner, host root, is nobody inside
    assert re.match(r"crw-rw-rw- +1 65534 +65534 +1, +3 ", ls["/dev/mynull"]), lines
    assert re.match(r"crw-rw---- +1 65534 +65534 +10, +237 ", ls["/dev/loop-control"]), lines
    assert re.match(r"crw-rw-rw- +1 65534 +65534 +1, +5 ", ls["/dev/z/zero"]), lines
    assert "null-ok" in lines and " 00 00 00" in lines and "lc-write-denied" in lines
    rules = set(lines[lines.index("lc-write-denied") + 1:])
    # r as asked (v1 shows the m the runtime adds to let its own node be made), never w
    lc = [r for r in rules if r.startswith("c 10:237 ")]
    assert lc and "w" not in lc[0].split()[-1] and "r" in lc[0].split()[-1], rules
    assert "c 1:3 rwm" in rules
    assert not [r for r in rules if r.startswith("a ")], rules
    d = moat.inspect(cid)
    assert {"PathOnHost": "/dev/loop-control", "PathInContainer": "/dev/loop-control",
            "CgroupPermissions": "r"} in d["HostConfig"]["Devices"]
    assert "--device=/dev/loop-control:r" in d["MoatWeakenings"]
    ev = [e for e in events(moat) if e["action"] == "create" and e["id"] == cid][0]
    assert "--device=/dev/null:/dev/mynull" in ev["weakenings"]


def test_unlisted_devices_stay_denied(moat):
    # even with CAP_MKNOD, a device nobody listed cannot be made (nor is there a node of it)
    p = moat("run", "--rm", "--cap-add", "MKNOD", "--device", "/dev/loop-control:r", "busybox", "sh", "-c",
             "mknod /dev/lc2 c 10 237 2>/dev/null && echo made-listed; "
             "mknod /dev/mem2 c 1 1 2>/dev/null && echo made-unlisted; ls /dev/mem /dev/kmsg 2>/dev/null; true")
    assert p.returncode == 0, p.stderr
    assert "made-unlisted" not in p.stdout and "/dev/mem" not in p.stdout


def test_block_device_read_only(moat):
    blk = next((f"/dev/loop{i}" for i in range(8) if os.path.exists(f"/dev/loop{i}")), None)
    if not blk:
        pytest.skip("no loop block device node on this host")
    # ": >" opens for writing without writing a byte, so a wrong rule could not touch the device
    # --userns host: the node is host root's 0600, which a container's own root (nobody on the
    # host) may not open at all
    p = moat("run", "--rm", "--userns", "host", "--device", f"{blk}:/dev/blk:r", "busybox", "sh", "-c",
             "ls -l /dev/blk; (: > /dev/blk) 2>/dev/null && echo OPENED-FOR-WRITE; "
             "dd if=/dev/blk of=/dev/null bs=512 count=0 2>/dev/null && echo read-ok")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("b") and "OPENED-FOR-WRITE" not in p.stdout and "read-ok" in p.stdout, p.stdout


def test_device_directory(moat, tmp_path):
    """--device DIR[:CONTAINER_DIR][:PERMS]: every device node under DIR, at the same place under
    the container path; symlinks and other files are skipped; the cgroup allows each, and nothing
    else."""
    d = tmp_path / "devs"
    (d / "sub").mkdir(parents=True)
    os.mknod(d / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(d / "sub" / "zero", 0o666 | stat.S_IFCHR, os.makedev(1, 5))
    (d / "plain").write_text("x")
    os.symlink("/dev/mem", d / "mem")
    p = moat("run", "--rm", "--device", f"{d}:/dev/mine:rw", "busybox", "sh", "-c",
             "find /dev/mine | sort; echo hi > /dev/mine/null && echo wrote; "
             "head -c 3 /dev/mine/sub/zero | od -An -tx1")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[:4] == ["/dev/mine", "/dev/mine/null", "/dev/mine/sub", "/dev/mine/sub/zero"], p.stdout
    assert lines[4] == "wrote" and lines[5].split() == ["00", "00", "00"], p.stdout
    cid = moat("create", "--device", str(d) + ":/dev/mine", "busybox", "true", check=True).stdout.strip()
    moat.ids.add(cid)
    i = moat.inspect(cid)
    assert i["HostConfig"]["Devices"] == [{"PathOnHost": str(d), "PathInContainer": "/dev/mine",
                                           "CgroupPermissions": "rwm"}]
    assert f"--device={d}:/dev/mine" in i["MoatWeakenings"]


@pytest.mark.parametrize("spec,word", [
    ("/etc/passwd", "not a character or block device"),
    ("/dev", "under /dev/"),  # a directory of devices, but its container path is /dev itself
    ("/dev/no-such-device", "error gathering device information"),
    ("/dev/null:/dev/x:rwx", "PERMS"),
    ("/dev/null:/dev/x:r:w", "PERMS"),
    ("/dev/null:/etc/x", "under /dev/"),
    ("/dev/null:/dev/../etc/x", "under /dev/"),
    ("dev/null", "absolute"),
])
def test_device_refusals_leave_nothing(moat, spec, word):
    p = moat("run", "--rm", "-v", "/anon", "--device", spec, "busybox", "true")
    assert p.returncode == 125 and word in p.stderr, (spec, p.stderr)
    assert_nothing_made(moat)


# ---- --init ----------------------------------------------------------------------------------

def test_init_is_pid_1_and_reaps(moat):
    # the inner sh leaves an orphan that lands on pid 1; it must not stay a zombie
    p = moat("run", "--rm", "--init", "busybox", "sh", "-c",
             "cat /proc/1/comm; cat /proc/1/cmdline | tr '\\0' ' '; echo; "
             "sh -c 'sleep 0.2 &'; sleep 1; ps -o stat,comm | grep -c '^Z' || true")
    assert p.returncode == 0, p.stderr
    comm, cmdline, zombies = p.stdout.splitlines()
    assert comm == "moat-init"
    assert cmdline.startswith("/dev/init -- sh -c ")
    assert zombies == "0"


def test_init_exit_codes(moat):
    assert moat("run", "--rm", "--init", "busybox", "sh", "-c", "exit 7").returncode == 7
    assert moat("run", "--rm", "--init", "busybox", "sh", "-c", "kill -9 $$").returncode == 137
    p = moat("run", "--rm", "--init", "busybox", "no-such-command")
    assert p.returncode == 127 and "no-such-command" in p.stderr


def test_init_forwards_stop(moat):
    # sleep as pid 1 would ignore SIGTERM (and be killed after 10 s); under init it gets it
    cid = moat.run_d("--init", "busybox", "sleep", "100")
    t = time.time()
    moat("stop", cid, check=True)
    assert time.time() - t < 5
    assert moat.state(cid)["ExitCode"] == 143
    # an app that handles SIGTERM exits with its own code
    cid = moat.run_d("--init", "busybox", "sh", "-c", "trap 'exit 42' TERM; while true; do sleep 0.1; done")
    moat.wait_for(lambda: "sleep" in moat("top", cid).stdout, what="the app running")
    moat("stop", cid, check=True)
    assert moat.state(cid)["ExitCode"] == 42
    assert moat.inspect(cid)["HostConfig"]["Init"] is True


def test_init_under_every_default_and_read_only(moat):
    p = moat("run", "--rm", "--init", "--read-only", "--cap-drop", "ALL", "-u", "nobody", "busybox", "sh", "-c",
             "grep -E '^(NoNewPrivs|Seccomp):' /proc/1/status /proc/self/status; touch /dev/init 2>/dev/null || "
             "echo init-ro; grep ' /dev/init ' /proc/mounts")
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("NoNewPrivs:\t1") == 2 and p.stdout.count("Seccomp:\t2") == 2
    assert "init-ro" in p.stdout
    opts = p.stdout.splitlines()[-1].split()[3].split(",")
    assert {"ro", "nosuid", "nodev"} <= set(opts)


# ---- anonymous volumes and the image's Volumes ------------------------------------------------

def _layer(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, kind, data, uid, mode in entries:
            ti = tarfile.TarInfo(name)
            ti.uid = ti.gid = uid
            ti.mode = mode
            ti.mtime = 1
            if kind == "file":
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
                continue
            ti.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE}[kind]
            if kind == "symlink":
                ti.linkname = data
            t.addfile(ti)
    return buf.getvalue()


@pytest.fixture
def volume_image(moat, tmp_path):
    """An image with busybox and Volumes /data (content owned by 1234), /empty and /escape (a
    symlink that points out of the root, so at the image's own /etc once resolved inside it)."""
    with open("/bin/busybox", "rb") as f:
        bb = f.read()
    layer = _layer([
        ("bin", "dir", None, 0, 0o755), ("bin/busybox", "file", bb, 0, 0o755), ("bin/sh", "symlink", "busybox", 0, 0o777),
        ("data", "dir", None, 1234, 0o750), ("data/hello", "file", b"from the image\n", 1234, 0o640),
        ("data/sub", "dir", None, 0, 0o755), ("data/sub/deep", "file", b"deep\n", 0, 0o600),
        ("data/passwd", "symlink", "/etc/passwd", 0, 0o777),
        ("escape", "symlink", "../../../../../../etc", 0, 0o777),
        ("etc", "dir", None, 0, 0o755), ("etc/image-only", "file", b"", 0, 0o644),
        ("empty", "dir", None, 0, 0o755),
    ])
    import hashlib
    diff = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Cmd": ["sh"], "Volumes": {"/data": {}, "/empty": {}, "/escape": {}}},
                         "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
    cname = hashlib.sha256(config).hexdigest() + ".json"
    path = tmp_path / "vol.tar"
    with tarfile.open(path, "w") as t:
        for name, data in ((diff[7:] + "/layer.tar", layer), (cname, config),
                           ("manifest.json", json.dumps([{"Config": cname, "RepoTags": ["volimg:1"],
                                                          "Layers": [diff[7:] + "/layer.tar"]}]).encode())):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    moat("load", "-i", path, check=True)
    return "volimg:1"


def test_image_volumes_are_anonymous_and_filled_from_the_image(moat, volume_image):
    cid = moat.run_d(volume_image, "sh", "-c",
                     "cat /data/hello /data/sub/deep; ls -lnd /data /data/hello; readlink /data/passwd; "
                     "ls -A /escape; grep -cE ' /(data|empty|etc) ' /proc/mounts")
    assert moat("wait", cid, check=True).stdout == "0\n"
    out = moat("logs", cid, check=True).stdout.splitlines()
    assert out[:2] == ["from the image", "deep"], out
    assert re.match(r"drwxr-x--- +\d+ 1234 +1234 .* /data$", out[2]), out[2]
    assert re.match(r"-rw-r----- +1 1234 +1234 .* /data/hello$", out[3]), out[3]
    assert out[4] == "/etc/passwd"  # copied as a symlink, not followed
    assert out[5] == "image-only"  # the symlink leads to the image's own /etc, never the host's
    assert out[6] == "3"  # /escape is mounted where its link resolves inside the root: /etc
    d = moat.inspect(cid)
    anon = sorted(m["Name"] for m in d["Mounts"] if m["Type"] == "volume")
    assert len(anon) == 3 and all(re.fullmatch(r"[0-9a-f]{64}", n) for n in anon)
    assert sorted(volumes(moat)) == anon
    vi = json.loads(moat("volume", "inspect", anon[0], check=True).stdout)[0]
    assert vi["Labels"] == {"com.docker.volume.anonymous": ""}
    # rm without -v keeps them (docker does too); prune then removes the unused anonymous ones
    moat("rm", cid, check=True)
    assert sorted(volumes(moat)) == anon
    moat("volume", "create", "keepme", check=True)
    p = moat("volume", "prune", "-f", check=True)
    deleted = lambda out: out.split("\n\n")[0].split()[2:]  # noqa: E731  (before "Total reclaimed")
    assert sorted(deleted(p.stdout)) == anon
    assert volumes(moat) == ["keepme"]
    p = moat("volume", "prune", "-a", "-f", check=True)
    assert deleted(p.stdout) == ["keepme"] and volumes(moat) == []


def test_rm_v_and_auto_remove_take_only_anonymous_volumes(moat, volume_image):
    cid = moat.run_d("-v", "named:/data", "-v", "/extra", volume_image, "busybox", "true")
    moat("wait", cid, check=True)
    names = volumes(moat)
    assert "named" in names and len(names) == 4  # named, /extra, /empty, /escape
    # the named volume was new and empty: filled from the image too (docker's copy-up)
    assert moat("run", "--rm", "-v", "named:/d", "busybox", "cat", "/d/hello").stdout == "from the image\n"
    # a volume another container uses is kept
    other = [n for n in names if n != "named"][0]
    user = moat.run_d("-v", f"{other}:/o", "busybox", "true")
    rmp = moat("rm", "-v", cid, check=True)
    assert sorted(volumes(moat)) == sorted(["named", other]), rmp.stderr
    moat("rm", "-v", user, check=True)
    assert sorted(volumes(moat)) == sorted(["named", other])  # named by the user there: not anonymous to it
    moat("volume", "rm", other, check=True)
    # --rm: the anonymous volumes go when the container does
    p = moat("run", "--rm", volume_image, "busybox", "true")
    assert p.returncode == 0, p.stderr
    assert volumes(moat) == ["named"]


def test_nocopy_and_user_mount_over_an_image_volume(moat, volume_image):
    p = moat("run", "--rm", "--mount", "type=volume,dst=/data,volume-nocopy", volume_image, "busybox", "ls", "-A", "/data")
    assert p.returncode == 0 and p.stdout == "", p.stdout + p.stderr
    p = moat("run", "--rm", "--tmpfs", "/data", volume_image, "sh", "-c", "busybox ls -A /data; "
             "busybox grep -c ' /data tmpfs' /proc/mounts")
    assert p.stdout == "1\n", p.stdout
    assert volumes(moat) == []


def test_anonymous_volume_flag(moat):
    cid = moat.run_d("-v", "/scratch", "busybox", "sh", "-c", "echo x > /scratch/f")
    moat("wait", cid, check=True)
    (name,) = volumes(moat)
    assert len(name) == 64
    d = moat.inspect(cid)
    assert d["HostConfig"]["Binds"] == ["/scratch"]
    assert d["MoatWeakenings"] == []
    p = moat("create", "-v", "/scratch:rw", "busybox")
    assert p.returncode == 125
    moat("rm", "-v", cid, check=True)
    assert volumes(moat) == []
