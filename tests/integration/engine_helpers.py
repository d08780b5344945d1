"""Helpers for the engine's integration tests: a per-test `moat --root TMPDIR`, and a teardown
that removes every container the test made and checks that no mount, cgroup, monitor or state
was left behind."""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

BUILD = os.path.abspath(os.environ.get("MOAT_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build")))
MOAT = os.path.join(BUILD, "src", "cli", "moat")
PROBE = os.path.join(BUILD, "tests", "probe", "moat-probe")
BUILTIN_DIR = os.path.join(BUILD, "data")
CGROUP_ROOTS = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu,cpuacct",
                "/sys/fs/cgroup/unified", "/sys/fs/cgroup"]


def mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return [l.split()[4] for l in f if l.split()[4].startswith(path)]


def cgroups_of(cid):
    found = []
    for r in CGROUP_ROOTS:
        p = os.path.join(r, "moat", cid)
        if os.path.exists(p):
            found.append(p)
    return found


def monitors_of(root):
    out = []
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(d + "/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"moat-monitor") and root.encode() in args:
            out.append(int(d[6:]))
    return out


class Moat:
    def __init__(self, root):
        self.root = root
        self.env = dict(os.environ, MOAT_BUILTIN_DIR=BUILTIN_DIR)
        self.ids = set()

    def argv(self, *args):
        return [MOAT, "--root", self.root] + [str(a) for a in args]

    def __call__(self, *args, input=None, timeout=60, check=False):
        p = subprocess.run(self.argv(*args), input=input, capture_output=True, text=True, timeout=timeout,
                           env=self.env)
        if check and p.returncode != 0:
            raise AssertionError(f"moat {' '.join(map(str, args))}: rc={p.returncode}\n{p.stdout}\n{p.stderr}")
        return p

    def popen(self, *args, **kw):
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        return subprocess.Popen(self.argv(*args), env=self.env, text=True, **kw)

    def run_d(self, *args):
        p = self("run", "-d", *args, check=True)
        cid = p.stdout.strip()
        assert len(cid) == 64, p.stdout
        self.ids.add(cid)
        return cid

    def inspect(self, name):
        p = self("inspect", name, check=True)
        return json.loads(p.stdout)[0]

    def state(self, name):
        return self.inspect(name)["State"]

    def all_ids(self):
        return self("ps", "-aq", "--no-trunc", check=True).stdout.split()

    def wait_for(self, pred, timeout=10, what="condition"):
        end = time.time() + timeout
        while time.time() < end:
            if pred():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def assert_clean(self, cid):
        """Nothing of container cid remains: record, directory, runtime state, mounts, cgroups."""
        assert cid not in self.all_ids()
        assert not os.path.exists(os.path.join(self.root, "containers", cid))
        assert not os.path.exists(os.path.join(self.root, "run", cid))
        assert not os.path.exists(os.path.join(self.root, "snapshots", cid))
        assert not [m for m in mounts_under(self.root) if cid in m]
        assert cgroups_of(cid) == []


@pytest.fixture
def moat():
    # MOAT_TEST_ENGINE_DIR: where roots go (the cgroup-v2 VM points it at an ext4 mount: its /tmp
    # is a tmpfs, which Linux 6.1 cannot idmap for the containers' user namespaces)
    root = tempfile.mkdtemp(prefix="moat-engine-", dir=os.environ.get("MOAT_TEST_ENGINE_DIR") or None)
    m = Moat(root)
    try:
        yield m
    finally:
        ids = set(m.all_ids()) | m.ids if os.path.exists(root) else m.ids
        for cid in ids:
            m("rm", "-f", cid, timeout=60)
        leaks = []
        for cid in ids:
            leaks += cgroups_of(cid)
        mons = monitors_of(root)
        for pid in mons:
            os.kill(pid, 9)
        left = mounts_under(root)
        for mp in reversed(left):
            subprocess.run(["umount", "-l", mp])
        shutil.rmtree(root, ignore_errors=True)
        assert not leaks, f"cgroups left: {leaks}"
        assert not mons, f"monitors left: {mons}"
        assert not left, f"mounts left: {left}"
