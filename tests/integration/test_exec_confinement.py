"""exec gets exactly the confinement of the container's first process (issue 3, item 9): the
isolation probe passes every check under `moat-runtime spec` defaults both as the first process
and through `moat-runtime exec`, and exec's process is in the same namespaces and cgroup."""
import json
import os
import shutil

from escape_helpers import PROBE, rt  # noqa: F401  (fixture)


def probe_bundle(rt):
    b = rt.bundle()
    shutil.copy2(PROBE, os.path.join(b.rootfs, "moat-probe"))
    return b


def assert_all_pass(r):
    lines = r.stdout.splitlines()
    fails = [l for l in lines if l.startswith("FAIL")]
    passes = [l for l in lines if l.startswith("PASS")]
    assert not fails, "\n".join(fails) + r.stderr
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(passes) >= 70, r.stdout
    return passes


def test_probe_first_process(rt):
    b = probe_bundle(rt)
    b.args("/moat-probe", "--not-hostname", os.uname().nodename)
    assert_all_pass(rt.run(b))


def test_probe_via_exec(rt):
    b = probe_bundle(rt)
    cid = rt.start_sleeper(b)
    r = rt.exec(cid, "/moat-probe", "--not-hostname", os.uname().nodename)
    assert_all_pass(r)


def test_exec_same_namespaces_and_cgroup(rt):
    b = rt.bundle()
    cid = rt.start_sleeper(b)
    pid = json.loads(rt.cmd("state", cid).stdout)["pid"]
    names = ["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"]
    script = "for n in %s; do readlink /proc/self/ns/$n; done; cat /proc/self/cgroup; grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status" % " ".join(names)
    r = rt.exec(cid, "sh", "-c", script)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    for n, line in zip(names, out):
        assert line == os.readlink("/proc/%d/ns/%s" % (pid, n)), (n, line)
    with open("/proc/%d/status" % pid) as f:
        init_status = [l.rstrip("\n") for l in f if l.startswith(("Cap", "NoNewPrivs", "Seccomp"))]
    exec_status = [l for l in out if l.startswith(("Cap", "NoNewPrivs", "Seccomp"))]
    assert exec_status == init_status
    # the same cgroup as the init, in every hierarchy (both seen through the container's /proc)
    r = rt.exec(cid, "sh", "-c", "cat /proc/self/cgroup; echo --; cat /proc/1/cgroup")
    mine, init = r.stdout.split("--\n")
    assert mine == init and mine.strip(), r.stdout
