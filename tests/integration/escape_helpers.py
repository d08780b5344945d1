"""Fixtures for the escape-class, device, user-namespace and Landlock tests: a busybox bundle made
with `moat-runtime spec` and edited in Python, a per-test state root, and cleanup of every
container, mount and cgroup a test makes (checked: the host's mount table must not grow)."""
import hashlib
import json
import os
import shutil
import subprocess
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.abspath(os.environ.get("MOAT_BUILD", os.path.join(HERE, "..", "..", "build")))
RUNTIME = os.environ.get("MOAT_RUNTIME", os.path.join(BUILD, "src", "cli", "moat-runtime"))
PROBE = os.path.join(BUILD, "tests", "probe", "moat-probe")
BUSYBOX = "/bin/busybox"


def sh(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 60)
    return subprocess.run(args, **kw)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def host_mounts():
    """(mount point, fs type, source) of every mount the host sees."""
    out = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            a, b = line.split(" - ", 1)
            out.add((a.split()[4], b.split()[0], b.split()[1]))
    return out


def new_host_mounts(before, tmp):
    """Mounts that appeared on the host and could be ours. Other work shares this host and may
    mount things meanwhile, so only what touches our tmp dir or a path a hostile rootfs aims at
    counts."""
    suspects = ("/", "/proc", "/sys", "/dev", "/dev/null", "/mnt", "/tmp", "/etc")
    return sorted(m for m in host_mounts() - before
                  if m[0].startswith(tmp) or m[0] in suspects or m[2].startswith(tmp))


def make_rootfs(dest):
    """A minimal root: a static busybox with every applet linked in /bin."""
    for d in ("bin", "proc", "dev", "sys", "tmp", "etc", "mnt", "root"):
        os.makedirs(os.path.join(dest, d), exist_ok=True)
    shutil.copy2(BUSYBOX, os.path.join(dest, "bin", "busybox"))
    applets = sh([BUSYBOX, "--list"]).stdout.split()
    for a in applets:
        p = os.path.join(dest, "bin", a)
        if a != "busybox" and not os.path.lexists(p):
            os.symlink("busybox", p)
    with open(os.path.join(dest, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n")
    with open(os.path.join(dest, "etc", "group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")


def add_libs(rootfs, binary):
    """Copy the shared libraries `binary` needs into rootfs, at the same paths, so it runs there."""
    for line in sh(["ldd", binary]).stdout.splitlines():
        parts = line.split()
        path = next((p for p in parts if p.startswith("/")), None)
        if not path:
            continue
        dest = os.path.join(rootfs, path.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(os.path.realpath(path), dest)


class Bundle:
    def __init__(self, path, runtime):
        self.path = path
        self.rootfs = os.path.join(path, "rootfs")
        make_rootfs(self.rootfs)
        r = sh([runtime, "spec"], cwd=path)
        assert r.returncode == 0, r.stderr
        with open(self.config_path) as f:
            self.config = json.load(f)
        self.config["root"]["path"] = self.rootfs
        self.config["process"]["terminal"] = False

    @property
    def config_path(self):
        return os.path.join(self.path, "config.json")

    def args(self, *args):
        self.config["process"]["args"] = list(args)

    def save(self):
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, indent=1)


class Runtime:
    """One state root per test; every container it made is force-deleted at teardown."""

    def __init__(self, tmp, binary=RUNTIME):
        self.binary = binary
        self.root = os.path.join(tmp, "state")
        os.makedirs(self.root, exist_ok=True)
        self.ids = []
        self.tmp = tmp

    def cmd(self, *args, **kw):
        return sh([self.binary, "--root", self.root] + list(args), **kw)

    def new_id(self):
        cid = "esc-" + uuid.uuid4().hex[:12]
        self.ids.append(cid)
        return cid

    def bundle(self, name="b"):
        return Bundle(os.path.join(self.tmp, name), self.binary)

    def run(self, bundle, *extra, **kw):
        bundle.save()
        cid = self.new_id()
        r = self.cmd("run", "--bundle", bundle.path, *extra, cid, **kw)
        self.cmd("delete", "--force", cid)
        return r

    def create(self, bundle, **kw):
        """The container inherits create's stdio, so it goes to files (pipes would never close)."""
        bundle.save()
        cid = self.new_id()
        out = os.path.join(self.tmp, cid + ".out")
        with open(out, "w") as o, open(out + ".err", "w") as e:
            r = self.cmd("create", "--bundle", bundle.path, cid, stdin=subprocess.DEVNULL, stdout=o, stderr=e,
                         capture_output=False, **kw)
        with open(out + ".err") as e:
            err = e.read()
        assert r.returncode == 0, err
        return cid

    def start_sleeper(self, bundle, seconds=600):
        """A running container whose init sleeps; returns its id."""
        bundle.args("/bin/sleep", str(seconds))
        cid = self.create(bundle)
        r = self.cmd("start", cid)
        assert r.returncode == 0, r.stderr
        return cid

    def exec(self, cid, *args, **kw):
        return self.cmd("exec", cid, *args, **kw)

    def cleanup(self):
        for cid in self.ids:
            self.cmd("delete", "--force", cid)
        left = [n for n in os.listdir(self.root) if not n.startswith(".")] if os.path.isdir(self.root) else []
        return left


@pytest.fixture
def rt(tmp_path):
    before = host_mounts()
    r = Runtime(str(tmp_path))
    yield r
    left = r.cleanup()
    assert not left, "containers left in the state root: %r" % left
    new = new_host_mounts(before, str(tmp_path))
    assert not new, "mounts leaked to the host: %r" % new
