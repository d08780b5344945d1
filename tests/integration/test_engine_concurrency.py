"""Two moat processes at once never corrupt state: many containers created and removed
concurrently from two processes, each kept whole."""
import json
import os
import subprocess
import sys
import time

from engine_helpers import moat  # noqa: F401

SCRIPT = r"""
import subprocess, sys
moat, root, tag, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
env = {"MOAT_BUILTIN_DIR": sys.argv[5], "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
ids = []
for i in range(n):
    args = [moat, "--root", root, "run", "-d", "--label", "tag=" + tag, "busybox", "echo", tag + str(i)] \
        if i % 2 else [moat, "--root", root, "create", "--name", f"{tag}-{i}", "busybox", "echo", tag + str(i)]
    p = subprocess.run(args, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        print("FAIL", p.stderr, flush=True)
        sys.exit(1)
    ids.append(p.stdout.strip())
print("\n".join(ids))
"""


def test_concurrent_creates_from_two_processes(moat):
    from engine_helpers import BUILTIN_DIR, MOAT
    moat("create", "busybox", "true", check=True)  # the built-in image is loaded once, up front
    n = 25  # 50 containers, as the issue asks
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, MOAT, moat.root, tag, str(n), BUILTIN_DIR],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for tag in ("a", "b")]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, out + err
    ids = [l for out, _ in outs for l in out.split()]
    assert len(ids) == 2 * n and len(set(ids)) == 2 * n
    moat.ids.update(ids)
    listed = moat.all_ids()
    assert set(ids) <= set(listed) and len(listed) == 2 * n + 1
    names = [moat.inspect(i)["Name"] for i in ids]
    assert len(set(names)) == len(names)
    # every detached one ran to completion and logged its line
    for cid in ids:
        d = moat.inspect(cid)
        if d["Config"]["Labels"].get("tag"):
            moat.wait_for(lambda: moat.state(cid)["Status"] == "exited", what="exit")
            assert moat("logs", cid).stdout == d["Args"][0] + "\n"
        else:
            assert d["State"]["Status"] == "created"
    # then remove them all from two processes at once
    half = len(ids) // 2
    rms = [moat.popen("rm", "-f", *ids[:half]), moat.popen("rm", "-f", *ids[half:])]
    for p in rms:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert len(moat.all_ids()) == 1
    for cid in ids:
        moat.assert_clean(cid)


def test_concurrent_start_stop_of_one_container(moat):
    cid = moat.run_d("busybox", "sleep", "1000")
    ps = [moat.popen("stop", "-t", "1", cid) for _ in range(3)] + [moat.popen("start", cid) for _ in range(2)]
    for p in ps:
        p.communicate(timeout=60)
    time.sleep(0.5)
    st = moat.state(cid)
    assert st["Status"] in ("running", "exited")
    moat("rm", "-f", cid, check=True)
    moat.assert_clean(cid)


WATCHER = r"""
import os, subprocess, sys
moat, root, kind, stop, builtin = sys.argv[1:6]
env = {"MOAT_BUILTIN_DIR": builtin, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
def m(*a):
    return subprocess.run([moat, "--root", root, *a], capture_output=True, text=True, env=env, timeout=30)
while not os.path.exists(stop):
    ids = m("ps", "-aq", "--no-trunc").stdout.split()
    if kind == "inspect" and ids:
        m("inspect", *ids)
    elif kind == "wait":
        for cid in ids[:4]:
            m("wait", cid)
"""


def test_each_transition_recorded_once_under_concurrent_readers(moat):
    """ps, inspect and wait refresh a container's record (they are the ones that find it ended) while
    its monitor's _sync does too: one of them records the end, once. Before, two could both see the
    record say running and both write it and log a die."""
    from engine_helpers import BUILTIN_DIR, MOAT
    warm = moat("create", "busybox", "true", check=True).stdout.strip()  # the image is loaded up front
    moat("rm", warm, check=True)  # (a created container is one wait would wait for forever)
    stop = os.path.join(moat.root, "stop-watchers")
    watchers = [subprocess.Popen([sys.executable, "-c", WATCHER, MOAT, moat.root, kind, stop, BUILTIN_DIR])
                for kind in ("ps", "ps", "inspect", "wait")]
    ids = []
    try:
        for _ in range(30):
            ids.append(moat.run_d("busybox", "true"))
        for cid in ids:
            moat.wait_for(lambda: moat.state(cid)["Status"] == "exited", what="exit")
        # removed from two processes at once, the readers still running
        half = len(ids) // 2
        rms = [moat.popen("rm", *ids[:half]), moat.popen("rm", *ids[half:])]
        for p in rms:
            _, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
    finally:
        open(stop, "w").close()
        for w in watchers:
            w.wait(timeout=60)
    counts = {}
    with open(os.path.join(moat.root, "events.log")) as f:
        for line in f:
            ev = json.loads(line)
            counts.setdefault(ev["id"], []).append(ev["action"])
    for cid in ids:
        assert counts.get(cid) == ["create", "start", "die", "destroy"], (cid, counts.get(cid))
        moat.assert_clean(cid)
    assert all(w.returncode == 0 for w in watchers)


def test_concurrent_restarts_log_a_restart_per_start(moat):
    """restart is stop then start: one that found the container started again by another restart
    (its start a no-op) restarted nothing, and logs no restart."""
    cid = moat.run_d("busybox", "sleep", "1000")
    for _ in range(3):
        ps = [moat.popen("restart", "-t", "0", cid) for _ in range(3)]
        for p in ps:
            _, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
    assert moat.state(cid)["Status"] == "running"
    with open(os.path.join(moat.root, "events.log")) as f:
        actions = [json.loads(l)["action"] for l in f]
    assert actions.count("restart") == actions.count("start") - 1, " ".join(actions)
    moat("rm", "-f", cid, check=True)
    moat.assert_clean(cid)


def test_concurrent_updates_keep_each_other(moat):
    """Two updates of different limits at once: config.json is read, changed and replaced under
    the container's lock, so neither is lost."""
    cid = moat("create", "busybox", "true", check=True).stdout.strip()
    moat.ids.add(cid)
    for n in range(4):
        a = moat.popen("update", "--pids-limit", str(100 + n), cid)
        b = moat.popen("update", "--cpu-shares", str(600 + n), cid)
        for p in (a, b):
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
        with open(os.path.join(moat.root, "containers", cid, "config.json")) as f:
            res = json.load(f)["linux"]["resources"]
        assert res["pids"]["limit"] == 100 + n and res["cpu"]["shares"] == 600 + n, res
        hc = moat.inspect(cid)["HostConfig"]
        assert hc["PidsLimit"] == 100 + n and hc["CpuShares"] == 600 + n, hc
