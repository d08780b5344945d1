"""Shared fixtures for the integration suite: where the built binaries are, and helpers that
build a busybox bundle in a temporary directory and clean up every container a test made.

The suite drives an OCI runtime with runc's command line. It runs against moat-runtime by default
(build/src/cli/moat-runtime) and against any other runtime given in MOAT_RUNTIME, e.g.
    MOAT_RUNTIME=$(which runc) /usr/bin/python3 -m pytest -q tests/integration
Everything asserted is what a user of the runtime can observe: exit codes, stdout/stderr, the
state JSON, /proc and cgroup files on the host, and what a process sees inside the container.

Every test gets its own state directory (global --root), its own bundles and unique container ids;
the `rt` fixture's finalizer force-deletes every container the test made and then fails the test if
anything leaked (a cgroup directory named after a container, a mount under a bundle, a state dir).
"""
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid

import pytest

BUILD = os.environ.get("MOAT_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
RUNTIME = os.path.abspath(os.environ.get("MOAT_RUNTIME", os.path.join(BUILD, "src", "cli", "moat-runtime")))
BUSYBOX = "/bin/busybox"
CGROUP_ROOT = "/sys/fs/cgroup"
CGROUP_PARENT = "moat-test"  # every container's linux.cgroupsPath is /moat-test/<id>
# For a runtime still growing its confinement layers (capabilities, masked paths, devices...):
# MOAT_ITEST_NO_CONFINEMENT=1 strips those fields from the generated spec so the core tests run.
STRIP_CONFINEMENT = os.environ.get("MOAT_ITEST_NO_CONFINEMENT") == "1"


def run(args, **kw):
    if "stdout" not in kw and "stderr" not in kw:
        kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 60)
    return subprocess.run(args, **kw)


def _runtime_version():
    try:
        r = run([RUNTIME, "--version"], timeout=10)
        return r.stdout + r.stderr
    except (OSError, subprocess.TimeoutExpired):
        return ""


RUNTIME_VERSION = _runtime_version()
IS_MOAT = "moat-runtime" in RUNTIME_VERSION
IS_RUNC = RUNTIME_VERSION.startswith("runc")


def _cgroup_mode():
    if os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers")):
        return "v2"
    if os.path.isdir(os.path.join(CGROUP_ROOT, "unified")):
        return "hybrid"
    return "v1"


CGROUP_MODE = _cgroup_mode()
CGROUP_V2 = CGROUP_MODE == "v2"

# What a runtime that is not moat-runtime (runc 1.1.x here) is known not to do. The tests still run;
# they are expected to fail on that runtime, and pass on moat-runtime.
def xfail_on_runc(reason):
    return pytest.mark.xfail(IS_RUNC, reason="runc " + reason, strict=False)


def pytest_configure(config):
    config.addinivalue_line("markers", "v2: short subset also run on a pure cgroup v2 host (VM)")


def pytest_report_header(config):
    return "runtime: %s (%s); cgroups: %s" % (
        RUNTIME, RUNTIME_VERSION.splitlines()[0] if RUNTIME_VERSION else "not found", CGROUP_MODE)


def pytest_collection_modifyitems(config, items):
    if not RUNTIME_VERSION:
        skip = pytest.mark.skip(reason="runtime %s not found or not runnable" % RUNTIME)
        for item in items:
            item.add_marker(skip)


# ---------------------------------------------------------------------------------------------
# The bundle: a busybox root filesystem, built once per session and copied per bundle.

APPLETS = """sh ash true false echo cat id sleep ls mount umount grep hostname ps stat touch env pwd
 head tail tr dd wc cut seq mkdir rm cp ln readlink uname usleep kill test printf sed awk sort
 xargs find df chmod chown mknod whoami tty nproc date timeout yes nsenter mv rmdir basename dirname
 uptime stty""".split()


@pytest.fixture(scope="session")
def rootfs_template(tmp_path_factory):
    root = tmp_path_factory.mktemp("rootfs-template") / "rootfs"
    for d in ("bin", "etc", "proc", "sys", "dev", "tmp", "root", "home/app", "run", "mnt", "var"):
        (root / d).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "tmp", 0o1777)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    for a in APPLETS:
        os.symlink("busybox", root / "bin" / a)
    (root / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\n"
        "app:x:1000:1000:app:/home/app:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    (root / "etc" / "group").write_text(
        "root:x:0:\nwheel:x:10:\nusers:x:100:\napp:x:1000:\nnogroup:x:65534:\n")
    os.chown(root / "home" / "app", 1000, 1000)
    return root


_spec_cache = {}


def runtime_spec():
    """The default config.json of `RUNTIME spec`, as a dict (generated once)."""
    if "spec" not in _spec_cache:
        d = "/tmp/moat-itest-spec-%s" % uuid.uuid4().hex[:8]
        os.mkdir(d)
        try:
            r = run([RUNTIME, "spec", "--bundle", d])
            assert r.returncode == 0, r.stderr
            with open(os.path.join(d, "config.json")) as f:
                _spec_cache["spec"] = json.load(f)
        finally:
            shutil.rmtree(d, ignore_errors=True)
    return json.loads(json.dumps(_spec_cache["spec"]))


def _link_or_copy(src, dst):
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


class Bundle:
    def __init__(self, path, config):
        self.path = str(path)
        self.rootfs = os.path.join(self.path, "rootfs")
        self.config = config

    def write(self):
        with open(os.path.join(self.path, "config.json"), "w") as f:
            json.dump(self.config, f, indent=1)
        return self

    def write_raw(self, text):
        with open(os.path.join(self.path, "config.json"), "w") as f:
            f.write(text)
        return self

    # conveniences to edit the config
    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config.setdefault("linux", {})

    def add_mount(self, destination, type_, source, options=()):
        m = {"destination": destination, "type": type_, "source": source}
        if options:
            m["options"] = list(options)
        self.config.setdefault("mounts", []).append(m)
        return m

    def set_namespace(self, type_, present=True, path=None):
        ns = [n for n in self.linux.get("namespaces", []) if n["type"] != type_]
        if present:
            n = {"type": type_}
            if path:
                n["path"] = path
            ns.append(n)
        self.linux["namespaces"] = ns


class Runtime:
    """One test's view of the runtime: a private state dir (--root) and bookkeeping for cleanup."""

    def __init__(self, tmp_path, rootfs_template):
        self.binary = RUNTIME
        self.tmp = tmp_path
        self.root = str(tmp_path / "state")
        self.template = rootfs_template
        self.ids = []
        self.bundles = []
        self.host_mounts = []  # mounts a test made on the host; unmounted before the leak checks
        self.extra_dirs = []   # directories outside tmp_path a test made; removed at cleanup
        self.kill_ids = []     # ids to kill and delete at cleanup without leak checks (invalid ids)
        self._n = 0

    # -- identifiers and bundles ------------------------------------------------------------
    def new_id(self, prefix="t"):
        cid = "moat-%s-%s" % (prefix, uuid.uuid4().hex[:10])
        self.ids.append(cid)
        return cid

    def bundle(self, args=("true",), cid=None, parent=None):
        """A fresh bundle: busybox rootfs, config from `RUNTIME spec`, edited for the suite.
        The config is returned unwritten in b.config; call b.write() after editing."""
        self._n += 1
        path = (parent or self.tmp) / ("bundle%d" % self._n)
        path.mkdir()
        # Hard links, not copies: ~200 bundles a run would otherwise copy busybox ~200 times.
        shutil.copytree(self.template, path / "rootfs", symlinks=True, copy_function=_link_or_copy)
        c = runtime_spec()
        c["process"]["args"] = list(args)
        c["process"]["terminal"] = False
        c["root"] = {"path": str(path / "rootfs"), "readonly": False}
        c["hostname"] = "moat-test"
        c.setdefault("linux", {})
        c["linux"].pop("seccomp", None)
        if STRIP_CONFINEMENT:
            c["process"].pop("capabilities", None)
            c["process"].pop("apparmorProfile", None)
            c["process"].pop("selinuxLabel", None)
            c["process"].pop("noNewPrivileges", None)
            for k in ("maskedPaths", "readonlyPaths", "mountLabel", "intelRdt"):
                c["linux"].pop(k, None)
            c["linux"].get("resources", {}).pop("devices", None)
        b = Bundle(path, c)
        b.cid = cid or self.new_id()
        c["linux"]["cgroupsPath"] = "/%s/%s" % (CGROUP_PARENT, b.cid)
        self.bundles.append(b)
        return b

    # -- invoking the runtime ---------------------------------------------------------------
    def __call__(self, *args, timeout=60, **kw):
        return run([self.binary, "--root", self.root] + [str(a) for a in args], timeout=timeout, **kw)

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        assert r.returncode == 0, "%s %s failed (%d): %s%s" % (
            self.binary, " ".join(map(str, args)), r.returncode, r.stdout, r.stderr)
        return r

    def ok_detached(self, *args):
        """Run a command whose children may keep stdio open (exec --detach): stdio to a file."""
        log = os.path.join(self.tmp, "detached-%s.log" % uuid.uuid4().hex[:6])
        with open(log, "w") as f:
            r = self(*args, stdin=subprocess.DEVNULL, stdout=f, stderr=f, text=True)
        r.stdout = r.stderr = read(log)
        assert r.returncode == 0, "%s failed (%d): %s" % (" ".join(map(str, args)), r.returncode, r.stdout)
        return r

    def run_container(self, b, *extra, write=True, **kw):
        """`RUNTIME --root R run --bundle B [extra] ID`; returns the CompletedProcess."""
        if write:
            b.write()
        return self(*(["run", "--bundle", b.path] + list(extra) + [b.cid]), **kw)

    def create(self, b, *extra, write=True, verb="create", check=True, cid=None):
        """`RUNTIME create` (or run --detach with verb="run"). Without a terminal the container
        inherits the runtime's stdio, so they go to files (b.out, b.err), never to a pipe the
        test would wait on until the container exits."""
        if write:
            b.write()
        b.out = os.path.join(self.tmp, b.cid + ".out")
        b.err = os.path.join(self.tmp, b.cid + ".err")
        args = [verb] + (["--detach"] if verb == "run" else []) + ["--bundle", b.path] + list(extra) + \
            [b.cid if cid is None else cid]
        with open(b.out, "w") as o, open(b.err, "w") as e:
            r = self(*args, stdin=subprocess.DEVNULL, stdout=o, stderr=e, text=True)
        r.stdout, r.stderr = read(b.out), read(b.err)
        if check:
            assert r.returncode == 0, "%s %s failed (%d): %s" % (self.binary, " ".join(args), r.returncode, r.stderr)
        return r

    def start_detached(self, b, *extra):
        """create + start a long-running container; returns its state."""
        self.create(b, *extra)
        self.ok("start", b.cid)
        return self.state(b.cid)

    def state(self, cid):
        r = self.ok("state", cid)
        return json.loads(r.stdout)

    def list_ids(self):
        r = self.ok("list", "-q")
        return r.stdout.split()

    def wait_status(self, cid, status, timeout=10):
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            st = self.state(cid)
            if st["status"] == status:
                return st
            time.sleep(0.05)
        raise AssertionError("container %s did not reach %r: %r" % (cid, status, st))

    # -- cleanup and leak checks ------------------------------------------------------------
    def cleanup(self):
        for cid in self.ids + self.kill_ids:
            self("kill", cid, "KILL", timeout=20)
            self("delete", "--force", cid, timeout=20)
        for m in reversed(self.host_mounts):
            subprocess.run(["umount", "-R", "-l", m], capture_output=True)
        leaks = []
        mi_now = read("/proc/self/mountinfo")
        for b in self.bundles:
            for line in mi_now.splitlines():
                if b.path in line:
                    leaks.append("mount " + line)
        if not leaks:  # never rm -rf a tree that still has mounts in it
            for d in self.extra_dirs:
                shutil.rmtree(d, ignore_errors=True)
        for cid in self.ids:
            leaks += ["cgroup " + p for p in cgroup_dirs_named(cid)]
            if os.path.exists(os.path.join(self.root, cid)):
                leaks.append("state dir " + os.path.join(self.root, cid))
        return leaks


def cgroup_dirs_named(name):
    r = run(["find", CGROUP_ROOT, "-mindepth", "1", "-maxdepth", "4", "-type", "d", "-name", name])
    return [p for p in r.stdout.split() if p]


@pytest.fixture
def rt(tmp_path, rootfs_template):
    r = Runtime(tmp_path, rootfs_template)
    yield r
    leaks = r.cleanup()
    assert not leaks, "leaked after the test: %s" % leaks


@pytest.fixture
def runtime():
    return RUNTIME


@pytest.fixture(scope="session", autouse=True)
def _remove_cgroup_parent():
    hierarchies = [CGROUP_ROOT] + [os.path.join(CGROUP_ROOT, x) for x in os.listdir(CGROUP_ROOT)]
    # Moat's default parent ("moat", for containers without a cgroupsPath) is removed only where
    # this session created it: on a machine that runs Moat for real it is not ours to remove.
    had_moat = {d for d in hierarchies if os.path.isdir(os.path.join(d, "moat"))}
    yield
    # Remove our parent cgroups in each hierarchy, only when empty (rmdir fails otherwise).
    for d in hierarchies:
        for name in (CGROUP_PARENT, "moat"):
            p = os.path.join(d, name)
            if os.path.isdir(p) and not (name == "moat" and d in had_moat):
                try:
                    os.rmdir(p)
                except OSError:
                    pass


# ---------------------------------------------------------------------------------------------
# Host-side helpers.

def cgroup_path(pid, controller):
    """The host directory of `pid`'s cgroup for `controller` (v1/hybrid) or its v2 cgroup."""
    with open("/proc/%d/cgroup" % pid) as f:
        lines = f.read().splitlines()
    for line in lines:
        hid, ctrls, path = line.split(":", 2)
        if CGROUP_V2:
            if hid == "0":
                return CGROUP_ROOT + path
        elif controller in ctrls.split(","):
            return os.path.join(CGROUP_ROOT, controller) + path
    raise AssertionError("no %s cgroup for pid %d: %s" % (controller, pid, lines))


def read(path):
    with open(path) as f:
        return f.read()


def ns_inode(pid, ns):
    return os.stat("/proc/%s/ns/%s" % (pid, ns)).st_ino


def mountinfo_entries(text):
    """Parse mountinfo text into dicts: mountpoint, root, options, optional, fstype, source, super."""
    out = []
    for line in text.splitlines():
        if " - " not in line:
            continue
        left, right = line.split(" - ", 1)
        lf = left.split()
        rf = right.split()
        out.append({"mountpoint": lf[4], "root": lf[3], "options": lf[5].split(","),
                    "optional": lf[6:], "fstype": rf[0], "source": rf[1] if len(rf) > 1 else "",
                    "super": rf[2].split(",") if len(rf) > 2 else []})
    return out


def mount_at(text, mountpoint):
    """The last (topmost) mountinfo entry at `mountpoint`."""
    ms = [m for m in mountinfo_entries(text) if m["mountpoint"] == mountpoint]
    assert ms, "nothing mounted at %s in:\n%s" % (mountpoint, text)
    return ms[-1]


def host_mount(rt, target, *args):
    """Mount on the host (e.g. host_mount(rt, dir, "-t", "tmpfs", "tmpfs")); undone at cleanup."""
    os.makedirs(target, exist_ok=True)
    subprocess.run(["mount"] + list(args) + [str(target)], check=True)
    rt.host_mounts.append(str(target))


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except FileNotFoundError:
        return False
    return st.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(pred, timeout=10, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError("timed out waiting for " + what)


def assert_no_trace(rt, cid):
    """Nothing left of container `cid`: not listed, no state dir, no cgroup, no process."""
    assert cid not in rt.list_ids()
    assert not os.path.exists(os.path.join(rt.root, cid)), "state dir left for " + cid
    assert cgroup_dirs_named(cid) == [], "cgroups left: %s" % cgroup_dirs_named(cid)
    r = rt("state", cid)
    assert r.returncode != 0


class ConsoleSocket:
    """A unix socket server that receives the pty master over SCM_RIGHTS and reads from it."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.sock.settimeout(20)
        self.master = None
        self.output = b""
        self.error = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
            with conn:
                msg, fds, _, _ = socket.recv_fds(conn, 4096, 1)
                assert fds, "no fd received on the console socket"
                self.master = fds[0]
            while True:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # EIO once the last slave fd is closed
                    break
                if not chunk:
                    break
                self.output += chunk
        except Exception as e:  # reported by the test
            self.error = e

    def close(self):
        self.thread.join(20)
        if self.master is not None:
            os.close(self.master)
        self.sock.close()
