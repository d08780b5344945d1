"""Escape-class defences (issue 3, item 7): each test tries the attack and checks the host is
untouched. Each was also run with its defence patched out and failed then (see the commits)."""
import json
import os
import shutil
import stat
import time

import pytest

from escape_helpers import RUNTIME, add_libs, Runtime, rt, sh, sha256  # noqa: F401  (rt is a fixture)

# ---- CVE-2019-5736: overwriting the runtime through /proc/<pid>/exe ----

# The container's init is the attacker. It waits for a process whose exe is not busybox (the
# runtime, exec'd into the container as `exec ID /proc/self/exe ...`), holds its exe open, lets it
# finish (it blocks opening a fifo for its log), then tries to write through the held fd.
ATTACKER = r"""
mkfifo /dev/shm/f
while :; do
  for p in /proc/[0-9]*; do
    l=$(readlink $p/exe 2>/dev/null) || continue
    case "$l" in *busybox*|"") continue;; esac
    (
      exec 3<$p/exe || exit 0
      echo "opened $l" >> /dev/shm/log
      cat /dev/shm/f > /dev/null
      i=0
      while [ $i -lt 300 ]; do
        if printf '#!/bin/sh\necho PWNED\n' 2>/dev/null > /proc/self/fd/3; then
          echo WROTE >> /dev/shm/log; exit 0
        fi
        i=$((i+1)); usleep 10000
      done
      echo "gave up" >> /dev/shm/log
    )
  done
  usleep 5000
done
"""


def test_exec_cannot_overwrite_runtime_binary(tmp_path):
    # a copy of the runtime: if the attack works, it damages the copy, not the build
    binary = str(tmp_path / "bin" / "moat-runtime")
    os.makedirs(os.path.dirname(binary))
    shutil.copy2(RUNTIME, binary)
    before = sha256(binary)
    r = Runtime(str(tmp_path), binary=binary)
    try:
        b = r.bundle()
        add_libs(b.rootfs, binary)  # so the container can run the runtime, as CVE-2019-5736 did
        b.args("sh", "-c", ATTACKER)
        cid = r.create(b)
        assert r.cmd("start", cid).returncode == 0
        time.sleep(0.3)
        for _ in range(3):
            # the runtime itself becomes a process of the container, blocked on the fifo
            r.exec(cid, "/proc/self/exe", "--log", "/dev/shm/f", "list", timeout=30)
        time.sleep(3.5)
        log = r.exec(cid, "cat", "/dev/shm/log").stdout
        # the attack must have had its chance: it held the runtime's exe open
        assert "opened" in log, log
        assert "WROTE" not in log, log
        assert sha256(binary) == before, "the runtime binary was overwritten from the container"
        # what the container saw was the sealed copy, not a host path
        assert "/memfd:moat-runtime" in log, log
    finally:
        r.binary = RUNTIME  # the copy may be damaged if the attack worked: clean up with the build's
        leaked = r.cleanup()
    assert sha256(binary) == before
    assert not leaked, leaked


def test_exec_still_works_from_sealed_copy(rt):
    b = rt.bundle()
    cid = rt.start_sleeper(b)
    x = rt.exec(cid, "sh", "-c", "echo hi; id -u")
    assert x.returncode == 0, x.stderr
    assert x.stdout.split() == ["hi", "0"]


# ---- CVE-2024-21626: leaked fds and a working directory outside the container ----

# the shell's own fds, listed by a child (`; true` keeps sh from exec'ing ls, whose own
# directory fd would show up)
LIST_FDS = 'ls /proc/$$/fd; true'


def fds_inside(out):
    return sorted(int(x) for x in out.split())


def test_no_inherited_fds_reach_container_run(rt, tmp_path):
    b = rt.bundle()
    b.args("sh", "-c", LIST_FDS)
    leak = [os.open(str(tmp_path), os.O_RDONLY | os.O_DIRECTORY) for _ in range(3)]
    try:
        r = rt.run(b, pass_fds=leak)
    finally:
        for fd in leak:
            os.close(fd)
    assert r.returncode == 0, r.stderr
    assert fds_inside(r.stdout) == [0, 1, 2], r.stdout


def test_preserve_fds_passes_exactly_those(rt, tmp_path):
    b = rt.bundle()
    b.args("sh", "-c", LIST_FDS)
    # fd 3 is preserved; fds above it must not reach the container
    leak = []
    while not leak or leak[-1] < 5:
        leak.append(os.open(str(tmp_path), os.O_RDONLY | os.O_DIRECTORY))
    try:
        r = rt.run(b, "--preserve-fds", "1", pass_fds=leak)
    finally:
        for fd in leak:
            os.close(fd)
    assert r.returncode == 0, r.stderr
    assert fds_inside(r.stdout) == [0, 1, 2, 3], r.stdout


def test_no_inherited_fds_reach_container_exec(rt, tmp_path):
    b = rt.bundle()
    cid = rt.start_sleeper(b)
    leak = [os.open(str(tmp_path), os.O_RDONLY | os.O_DIRECTORY) for _ in range(3)]
    try:
        r = rt.exec(cid, "sh", "-c", LIST_FDS, pass_fds=leak)
    finally:
        for fd in leak:
            os.close(fd)
    assert r.returncode == 0, r.stderr
    assert fds_inside(r.stdout) == [0, 1, 2], r.stdout


def _host_marker_dir(tmp_path):
    d = tmp_path / "hostdir"
    d.mkdir()
    (d / "HOST-MARKER").write_text("host\n")
    return d


@pytest.mark.parametrize("how", ["run", "exec"])
def test_cwd_through_leaked_fd_stays_inside(rt, tmp_path, how):
    hostdir = _host_marker_dir(tmp_path)
    # the leaked fds are where the container's cwd points, at the same numbers (pass_fds)
    fds = [os.open(str(hostdir), os.O_RDONLY | os.O_DIRECTORY) for _ in range(4)]
    b = rt.bundle()
    cid = None
    try:
        for n in fds + [3, 4, 5, 6, 7, 8, 9]:
            if how == "run":
                b.args("sh", "-c", "ls; pwd")
                b.config["process"]["cwd"] = "/proc/self/fd/%d" % n
                r = rt.run(b, pass_fds=fds)
            else:
                if cid is None:
                    cid = rt.start_sleeper(b)
                r = rt.cmd("exec", "--cwd", "/proc/self/fd/%d" % n, cid, "sh", "-c", "ls; pwd", pass_fds=fds)
            assert "HOST-MARKER" not in r.stdout, (n, r.stdout)
            assert r.returncode != 0, (n, r.stdout, r.stderr)
            assert "outside the container" in r.stderr or "chdir to cwd" in r.stderr, (n, r.stderr)
    finally:
        for fd in fds:
            os.close(fd)


def test_cwd_symlink_to_host_path_stays_inside(rt, tmp_path):
    hostdir = _host_marker_dir(tmp_path)
    b = rt.bundle()
    os.symlink(str(hostdir), os.path.join(b.rootfs, "mnt", "away"))
    os.symlink("../../../../../../../../" + str(hostdir), os.path.join(b.rootfs, "mnt", "up"))
    for cwd in ("/mnt/away", "/mnt/up"):
        b.args("sh", "-c", "ls")
        b.config["process"]["cwd"] = cwd
        r = rt.run(b)
        assert "HOST-MARKER" not in r.stdout
        assert r.returncode != 0 and "chdir to cwd" in r.stderr, (r.returncode, r.stdout, r.stderr)


# ---- procfs writes only through the container's own, verified procfs ----

def test_sysctl_refused_when_proc_is_not_procfs(rt, tmp_path):
    fake = tmp_path / "fakeproc"
    (fake / "sys" / "net" / "ipv4").mkdir(parents=True)
    target = fake / "sys" / "net" / "ipv4" / "ping_group_range"
    target.write_text("untouched\n")
    b = rt.bundle()
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != "/proc"]
    b.config["mounts"].insert(0, {"destination": "/proc", "type": "bind", "source": str(fake),
                                  "options": ["rbind", "rw"]})
    b.config["linux"]["sysctl"] = {"net.ipv4.ping_group_range": "0 2147483647"}
    b.args("true")
    r = rt.run(b)
    assert r.returncode != 0
    assert "sysctl" in r.stderr and "procfs" in r.stderr, r.stderr
    assert target.read_text() == "untouched\n"


def test_sysctl_with_proc_symlink_to_root(rt):
    b = rt.bundle()
    os.rmdir(os.path.join(b.rootfs, "proc"))
    os.symlink("/", os.path.join(b.rootfs, "proc"))
    b.config["linux"]["sysctl"] = {"net.ipv4.ping_group_range": "0 2147483647"}
    b.args("true")
    r = rt.run(b)
    # proc lands on the container's own root (the link resolves inside it), never on the host's:
    # the container cannot work, and says why; the host's mount table is checked by the fixture
    assert r.returncode != 0, r.stdout
    assert os.path.islink(os.path.join(b.rootfs, "proc"))
    assert os.path.isdir("/bin")  # the host's root is still the host's


def test_sysctl_written_in_container_only(rt):
    host = open("/proc/sys/net/ipv4/ping_group_range").read()
    b = rt.bundle()
    b.config["linux"]["sysctl"] = {"net.ipv4.ping_group_range": "0 12345"}
    b.args("cat", "/proc/sys/net/ipv4/ping_group_range")
    r = rt.run(b)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", "12345"]
    assert open("/proc/sys/net/ipv4/ping_group_range").read() == host


# ---- hostile symlinks in the rootfs ----

def test_proc_symlink_to_root_does_not_touch_host(rt):
    b = rt.bundle()
    os.rmdir(os.path.join(b.rootfs, "proc"))
    os.symlink("/", os.path.join(b.rootfs, "proc"))
    b.args("true")
    rt.run(b)
    # the fixture checks the host's mountinfo is unchanged; the rootfs itself is intact
    assert os.path.islink(os.path.join(b.rootfs, "proc"))
    assert os.path.isfile(os.path.join(b.rootfs, "bin", "busybox"))


def test_mount_destination_symlink_to_host_lands_inside(rt, tmp_path):
    hostdir = tmp_path / "hostdir"
    hostdir.mkdir()
    src = tmp_path / "src"
    src.mkdir()
    (src / "SRC-MARKER").write_text("src\n")
    srcfile = tmp_path / "srcfile"
    srcfile.write_text("file\n")
    b = rt.bundle()
    os.rmdir(os.path.join(b.rootfs, "mnt"))
    os.symlink(str(hostdir), os.path.join(b.rootfs, "mnt"))
    b.config["mounts"] += [
        {"destination": "/mnt/sub/deeper", "type": "bind", "source": str(src), "options": ["rbind", "ro"]},
        {"destination": "/mnt/file.txt", "type": "bind", "source": str(srcfile), "options": ["bind", "ro"]},
    ]
    b.args("sh", "-c", "ls /mnt/sub/deeper; cat /mnt/file.txt")
    r = rt.run(b)
    # the link dangles inside the root: refused clearly, and nothing made on the host
    assert os.listdir(hostdir) == [], os.listdir(hostdir)
    assert r.returncode != 0 and "/mnt" in r.stderr, r.stderr
    # the same path inside the root exists: the binds land there, the host stays empty
    inside = os.path.join(b.rootfs, str(hostdir).lstrip("/"))
    os.makedirs(inside)
    r = rt.run(b)
    assert os.listdir(hostdir) == [], os.listdir(hostdir)
    assert r.returncode == 0, r.stderr
    assert "SRC-MARKER" in r.stdout and "file" in r.stdout
    # the mount points were created inside the rootfs, under the link's target read as a
    # path inside the root
    assert os.path.isdir(os.path.join(inside, "sub", "deeper"))


def test_dev_null_symlink_to_host_file(rt, tmp_path):
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("precious\n")
    b = rt.bundle()
    # no /dev tmpfs: the rootfs's own /dev is used, with /dev/null a link to a host file
    b.config["mounts"] = [m for m in b.config["mounts"] if not m["destination"].startswith("/dev")]
    os.symlink(str(hostfile), os.path.join(b.rootfs, "dev", "null"))
    os.symlink("../../../../../../../.." + str(hostfile), os.path.join(b.rootfs, "dev", "zero"))
    b.config["linux"]["devices"] = [
        {"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666},
        {"path": "/dev/zero", "type": "c", "major": 1, "minor": 5, "fileMode": 0o666},
    ]
    b.args("sh", "-c", "echo overwritten > /dev/null; echo overwritten > /dev/zero; "
                       "stat -c '%F %t:%T' /dev/null /proc/keys /dev/zero")
    r = rt.run(b)
    assert hostfile.read_text() == "precious\n"
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines == ["character special file 1:3"] * 2 + ["character special file 1:5"], lines
    assert os.path.islink(os.path.join(b.rootfs, "dev", "null")) is False  # replaced, never followed


def test_masked_path_symlinks(rt, tmp_path):
    hostdir = _host_marker_dir(tmp_path)
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("precious\n")
    b = rt.bundle()
    os.symlink(str(hostfile), os.path.join(b.rootfs, "mnt", "evil"))
    os.symlink(str(hostdir), os.path.join(b.rootfs, "mnt", "evildir"))
    b.config["linux"]["maskedPaths"] += ["/mnt/evil", "/mnt/evildir", "/mnt/evildir/HOST-MARKER"]
    b.config["linux"]["readonlyPaths"] += ["/mnt/evildir"]
    b.args("sh", "-c", "cat /proc/self/mountinfo")
    r = rt.run(b)
    assert r.returncode == 0, r.stderr
    assert hostfile.read_text() == "precious\n"
    assert os.listdir(hostdir) == ["HOST-MARKER"]
    assert str(hostdir) not in r.stdout and str(hostfile) not in r.stdout


def test_create_joining_pidns_cannot_overwrite_runtime_binary(tmp_path):
    """The same attack when a second container joins the first one's pid namespace by path:
    create/run re-execute from the sealed copy too (decided in do_create after the config is parsed)."""
    binary = str(tmp_path / "bin" / "moat-runtime")
    os.makedirs(os.path.dirname(binary))
    shutil.copy2(RUNTIME, binary)
    before = sha256(binary)
    shared = tmp_path / "shared"
    shared.mkdir()
    bind = {"destination": "/shared", "type": "bind", "source": str(shared), "options": ["rbind", "rw"]}
    r = Runtime(str(tmp_path), binary=binary)
    try:
        a = r.bundle("a")
        a.config["mounts"].append(bind)
        a.args("sh", "-c", ATTACKER.replace("/dev/shm", "/shared"))
        cid_a = r.create(a)
        assert r.cmd("start", cid_a).returncode == 0
        pid_a = json.loads(r.cmd("state", cid_a).stdout)["pid"]
        time.sleep(0.3)
        b = r.bundle("b")
        add_libs(b.rootfs, binary)
        b.config["mounts"].append(bind)
        for ns in b.config["linux"]["namespaces"]:
            if ns["type"] == "pid":
                ns["path"] = "/proc/%d/ns/pid" % pid_a
        b.args("/proc/self/exe", "--log", "/shared/f", "list")
        r.run(b, timeout=30)
        time.sleep(3.5)
        log = (shared / "log").read_text() if (shared / "log").exists() else ""
        assert "opened" in log, log
        assert "WROTE" not in log, log
        assert "/memfd:moat-runtime" in log, log
        assert sha256(binary) == before, "the runtime binary was overwritten from the container"
    finally:
        r.binary = RUNTIME  # the copy may be damaged if the attack worked: clean up with the build's
        leaked = r.cleanup()
    assert sha256(binary) == before
    assert not leaked, leaked
