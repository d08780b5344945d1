#!/usr/bin/env bash
# Runtime start benchmark: moat-runtime, crun and runc side by side on one busybox bundle running
# /bin/true, interleaved (A B C A B C ...), printing medians, ratios and peak RSS.
#
#   bench/runtime.sh [--seccomp] [--runs N] [--write-doc FILE] [BUILD_DIR | PATH/TO/moat-runtime]
#
# Default: the same config (from `runc spec`) for all three, without seccomp; namespaces pid, mount,
# ipc, uts, network; no user namespace. --seccomp measures the secure case instead: moat-runtime
# with its own default spec (seccomp on) against crun and runc given Docker's default profile
# (bench/moby-default-seccomp.json, turned into an OCI seccomp section the way Docker does for its
# default capabilities on x86_64).
#
# crun 1.8 refuses hybrid cgroup hosts, so on such a host the whole crun loop runs inside ONE private
# mount namespace (unshare -m) in which /sys/fs/cgroup/unified is unmounted; that costs nothing per
# run. moat-runtime and runc run on the host as is. A runtime that is missing is skipped.
# Times come from posix_spawn + wait4 around each run. Peak RSS comes from separate runs (5 each,
# interleaved, after the timed ones) under GNU time (`/usr/bin/time -f %M`, apt package `time`):
# ru_maxrss of the runtime process, which includes the descendants it reaped itself (runc's
# `runc init`). Not from the Python driver's wait4: a process spawned by Python inherits Python's
# RSS high-water mark at exec, while GNU time forks from a ~1 MB process (its floor: ~1 MB).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 - "$HERE" "$@" <<'PY'
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = sys.argv[1]
argv = sys.argv[2:]
seccomp = False
runs = 50
warmup = 3
write_doc = None
target = os.path.join(HERE, "..", "build")
i = 0
while i < len(argv):
    a = argv[i]
    if a == "--seccomp":
        seccomp = True
    elif a == "--runs":
        i += 1
        runs = int(argv[i])
    elif a == "--write-doc":
        i += 1
        write_doc = argv[i]
    elif a in ("-h", "--help"):
        print(open(os.path.join(HERE, "runtime.sh")).read().split("set -euo")[0])
        sys.exit(0)
    else:
        target = a
    i += 1

if os.path.isdir(target) or not os.path.exists(target):
    moat = os.path.join(target, "src", "cli", "moat-runtime")
else:
    moat = target
moat = os.path.abspath(moat)


def version(binary):
    try:
        r = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
        return (r.stdout.splitlines() or ["?"])[0].strip()
    except OSError:
        return None


runtimes = []  # (name, binary)
if os.access(moat, os.X_OK) and version(moat):
    runtimes.append(("moat-runtime", moat))
else:
    print("moat-runtime not found at %s: skipping it" % moat, file=sys.stderr)
for name in ("crun", "runc"):
    b = shutil.which(name)
    if b:
        runtimes.append((name, b))
    else:
        print("%s not installed: skipping it" % name, file=sys.stderr)
if not runtimes:
    sys.exit("no runtime to measure")

work = tempfile.mkdtemp(prefix="moat-bench-")
CG_PARENT = "moat-bench"


def make_rootfs(path):
    os.makedirs(os.path.join(path, "bin"))
    for d in ("proc", "sys", "dev", "tmp", "etc"):
        os.makedirs(os.path.join(path, d))
    shutil.copy2("/bin/busybox", os.path.join(path, "bin", "busybox"))
    for a in ("true", "sh"):
        os.symlink("busybox", os.path.join(path, "bin", a))


def spec_of(binary):
    d = tempfile.mkdtemp(dir=work)
    subprocess.run([binary, "spec", "--bundle", d], check=True, capture_output=True)
    with open(os.path.join(d, "config.json")) as f:
        c = json.load(f)
    shutil.rmtree(d)
    return c


def docker_seccomp(profile_path):
    """Docker's default profile as the OCI seccomp section Docker hands the runtime on x86_64
    with Docker's default capabilities (matches the seccomp of `docker create` configs)."""
    caps = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
            "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
            "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}
    arch = "amd64"
    kernel = tuple(int(x) for x in platform.release().split("-")[0].split(".")[:2])
    with open(profile_path) as f:
        p = json.load(f)
    out = {"defaultAction": p["defaultAction"], "architectures": []}
    if "defaultErrnoRet" in p:
        out["defaultErrnoRet"] = p["defaultErrnoRet"]
    for m in p.get("archMap", []):
        if m["architecture"] == "SCMP_ARCH_X86_64":
            out["architectures"] = [m["architecture"]] + m.get("subArchitectures", [])
    rules = []
    for s in p["syscalls"]:
        inc, exc = s.get("includes", {}), s.get("excludes", {})
        if inc.get("caps") and not set(inc["caps"]) <= caps:
            continue
        if inc.get("arches") and arch not in inc["arches"]:
            continue
        if inc.get("minKernel") and kernel < tuple(int(x) for x in inc["minKernel"].split(".")[:2]):
            continue
        if exc.get("caps") and set(exc["caps"]) & caps:
            continue
        if exc.get("arches") and arch in exc["arches"]:
            continue
        r = {"names": s["names"], "action": s["action"]}
        for k in ("args", "errnoRet"):
            if k in s:
                r[k] = s[k]
        rules.append(r)
    out["syscalls"] = rules
    return out


def make_bundle(name, config):
    b = os.path.join(work, name)
    os.makedirs(b)
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(config, f)
    return b


rootfs = os.path.join(work, "rootfs")
make_rootfs(rootfs)
ref = shutil.which("runc") or shutil.which("crun") or moat
base = spec_of(ref)
base["process"]["args"] = ["/bin/true"]
base["process"]["terminal"] = False
base["root"] = {"path": rootfs, "readonly": True}
base["linux"].pop("seccomp", None)
base["linux"]["namespaces"] = [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")]
base["linux"]["cgroupsPath"] = "/%s/c" % CG_PARENT
# runc 1.1's spec lists ambient capabilities that are not inheritable; the kernel cannot raise
# those, runc and crun skip them quietly, moat-runtime refuses the config. They mean nothing for
# a root /bin/true, so the common config has none.
base["process"].get("capabilities", {}).pop("ambient", None)

bundles = {}
if not seccomp:
    common = make_bundle("bundle", base)
    for name, _ in runtimes:
        bundles[name] = common
else:
    sec = json.loads(json.dumps(base))
    sec["linux"]["seccomp"] = docker_seccomp(os.path.join(HERE, "moby-default-seccomp.json"))
    peers = make_bundle("bundle-docker-seccomp", sec)
    for name, binary in runtimes:
        if name == "moat-runtime":
            c = spec_of(binary)
            c["process"]["args"] = ["/bin/true"]
            c["process"]["terminal"] = False
            c["root"] = {"path": rootfs, "readonly": True}
            c.setdefault("linux", {})["cgroupsPath"] = "/%s/c" % CG_PARENT
            if not c["linux"].get("seccomp"):
                print("note: moat-runtime's default spec has no linux.seccomp", file=sys.stderr)
            bundles[name] = make_bundle("bundle-moat", c)
        else:
            bundles[name] = peers

# The timing primitive, shared by the driver and the crun helper: posix_spawn + wait4.
TIMER = r'''
import os, time
DEVNULL_R = ("/dev/null", os.O_RDONLY)
def timed(argv, errlog):
    fa = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
          (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
          (os.POSIX_SPAWN_OPEN, 2, errlog, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)]
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=fa)
    _, status, ru = os.wait4(pid, 0)
    t = time.perf_counter() - t0
    return t, ru.ru_maxrss, os.waitstatus_to_exitcode(status)
'''
exec(TIMER)

HELPER = TIMER + r'''
import json, sys
for line in sys.stdin:
    req = json.loads(line)
    t, rss, rc = timed(req["argv"], req["errlog"])
    sys.stdout.write(json.dumps({"t": t, "rss": rss, "rc": rc}) + "\n")
    sys.stdout.flush()
'''


def unified_is_hybrid():
    try:
        with open("/proc/self/mountinfo") as f:
            return any(l.split()[4] == "/sys/fs/cgroup/unified" for l in f)
    except OSError:
        return False


class RunFailed(Exception):
    pass


class Runner:
    def __init__(self, name, binary):
        self.name, self.binary = name, binary
        self.state = os.path.join(work, "state-" + name)
        self.errlog = os.path.join(work, name + ".err")
        self.times, self.rss = [], []
        self.helper = None
        self.note = ""
        if name == "crun" and unified_is_hybrid():
            hp = os.path.join(work, "helper.py")
            with open(hp, "w") as f:
                f.write(HELPER)
            self.helper = subprocess.Popen(
                ["unshare", "-m", "--propagation", "private", "sh", "-c",
                 # crun, seeing no cgroup2 there, writes plain dirs and cgroup.procs files into
                 # the tmpfs under the unmounted /sys/fs/cgroup/unified (hidden from the host by
                 # the cgroup2 mount): remove ours when the loop ends, checking it is the tmpfs.
                 "umount /sys/fs/cgroup/unified && /usr/bin/python3 " + hp + "; "
                 "[ \"$(stat -f -c %T /sys/fs/cgroup/unified)\" = tmpfs ] && "
                 "rm -rf /sys/fs/cgroup/unified/" + CG_PARENT],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            self.note = "in one private mount namespace without /sys/fs/cgroup/unified"

    def argv(self, n):
        cid = "bench-%s-%d" % (self.name, n)
        return [self.binary, "--root", self.state, "run", "--bundle", bundles[self.name], cid]

    def once(self, n, record=True, rss=False):
        argv = self.argv(n)
        if rss:
            out = os.path.join(work, "rss-%s" % self.name)
            argv = [GNU_TIME, "-o", out, "-f", "%M"] + argv
        if self.helper:
            self.helper.stdin.write(json.dumps({"argv": argv, "errlog": self.errlog}) + "\n")
            self.helper.stdin.flush()
            r = json.loads(self.helper.stdout.readline())
            t, rc = r["t"], r["rc"]
        else:
            t, _maxrss, rc = timed(argv, self.errlog)
        if rc != 0:
            err = open(self.errlog).read()[-2000:] if os.path.exists(self.errlog) else ""
            raise RunFailed("%s run failed (exit %d): %s" % (self.name, rc, err.strip()))
        if rss:
            self.rss.append(int(open(out).read().split()[-1]))
        elif record:
            self.times.append(t)

    def close(self):
        if self.helper:
            self.helper.stdin.close()
            self.helper.wait()


class Floor(Runner):
    """The floor: unshare(1) making the same namespaces and exec'ing the same /bin/true."""

    def __init__(self):
        Runner.__init__(self, "floor", shutil.which("unshare"))

    def argv(self, n):
        return [self.binary, "--fork", "--pid", "--mount", "--uts", "--ipc", "--net", "/bin/true"]


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
if not GNU_TIME:
    print("GNU time (/usr/bin/time, apt package `time`) missing: no peak RSS", file=sys.stderr)
RSS_RUNS = 5
LOAD_BEFORE = open("/proc/loadavg").read().split()[0]
runners = [Runner(n, b) for n, b in runtimes]
floor = Floor() if not seccomp else None
everyone = runners + ([floor] if floor else [])
failed = {}


def round_of(n, **kw):
    for r in list(everyone):
        try:
            r.once(n, **kw)
        except RunFailed as e:
            # A runtime that fails is reported and left out; the others are still measured.
            print(str(e), file=sys.stderr)
            failed[r.name] = str(e)
            everyone.remove(r)
            runners.remove(r)
            r.close()


try:
    for n in range(warmup):
        round_of(-1 - n, record=False)
    for n in range(runs):
        round_of(n)
    if GNU_TIME:
        for n in range(RSS_RUNS):
            round_of(runs + n, rss=True)
finally:
    for r in runners:
        r.close()
    for ctrl in os.listdir("/sys/fs/cgroup"):
        for d in (os.path.join("/sys/fs/cgroup", ctrl, CG_PARENT, "c"), os.path.join("/sys/fs/cgroup", ctrl, CG_PARENT)):
            try:
                os.rmdir(d)
            except OSError:
                pass
    for d in (os.path.join("/sys/fs/cgroup", CG_PARENT, "c"), os.path.join("/sys/fs/cgroup", CG_PARENT)):
        try:
            os.rmdir(d)
        except OSError:
            pass
    shutil.rmtree(work, ignore_errors=True)


def ms(x):
    return "%.2f" % (x * 1000)


def q(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


cpu = "?"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
cg = "v2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else ("hybrid" if unified_is_hybrid() else "v1")
when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
mode = ("with seccomp: moat-runtime's own default spec; crun and runc with Docker's default profile"
        if seccomp else "no seccomp, the same config for all (from `runc spec`)")
lines = []
lines.append("`run` of `/bin/true` in a busybox bundle, %s; namespaces pid, mount, ipc, uts, network; "
             "%d runs each after %d warm-up runs, interleaved." % (mode, runs, warmup))
lines.append("")
lines.append("Machine: %s, %d CPUs, kernel %s, cgroups %s; %s; load average %s before, %s after." % (
    cpu, os.cpu_count(), platform.release(), cg, when, LOAD_BEFORE, open("/proc/loadavg").read().split()[0]))
lines.append("")
lines.append("| runtime | version | median ms | p10 ms | p90 ms | peak RSS MB | note |")
lines.append("|---|---|---|---|---|---|---|")
for r in everyone:
    v = "util-linux unshare" if r is floor else version(r.binary)
    lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
        r.name, v, ms(statistics.median(r.times)), ms(q(r.times, 0.1)), ms(q(r.times, 0.9)),
        "%.1f" % (max(r.rss) / 1024) if r.rss else "-",
        r.note if r is not floor else "the floor: unshare --fork --pid --mount --uts --ipc --net"))
lines.append("")
med = {r.name: statistics.median(r.times) for r in runners}
rss = {r.name: max(r.rss) if r.rss else float("nan") for r in runners}
for name, err in failed.items():
    lines.append("- %s: not measured, it failed: %s" % (name, err.splitlines()[0] if err else "?"))
if "moat-runtime" in failed:
    pass
elif "moat-runtime" in med:
    for peer in ("crun", "runc"):
        if peer in med:
            lines.append("- moat-runtime / %s: median %.2f, peak RSS %.2f" % (
                peer, med["moat-runtime"] / med[peer], rss["moat-runtime"] / rss[peer]))
else:
    lines.append("- moat-runtime: not measured (not built)")
if "crun" in med and "runc" in med:
    lines.append("- crun / runc: median %.2f, peak RSS %.2f" % (med["crun"] / med["runc"], rss["crun"] / rss["runc"]))
report = "\n".join(lines)
print(report)

if write_doc:
    title = "### " + ("With seccomp" if seccomp else "Without seccomp")
    try:
        doc = open(write_doc).read()
    except FileNotFoundError:
        doc = "# Performance\n"
    if "## Runtime start" not in doc:
        doc = doc.rstrip("\n") + "\n\n## Runtime start\n\nMeasured by `bench/runtime.sh` (see its header).\n"
    start = doc.index("## Runtime start")
    nxt = doc.find("\n## ", start + 3)
    section = doc[start:] if nxt < 0 else doc[start:nxt + 1]
    rest = "" if nxt < 0 else doc[nxt + 1:]
    block = title + "\n\n" + report + "\n"
    if title in section:
        s = section.index(title)
        e = section.find("\n### ", s + 3)
        section = section[:s] + block + ("" if e < 0 else section[e + 1:])
    else:
        section = section.rstrip("\n") + "\n\n" + block
    doc = doc[:start] + section.rstrip("\n") + "\n" + ("\n" + rest if rest else "")
    with open(write_doc, "w") as f:
        f.write(doc)
PY
