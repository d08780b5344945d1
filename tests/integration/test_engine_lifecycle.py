"""Detached containers: create/start, ps, logs, stop, kill, rm, restart policies, exec, inspect,
and the monitor's independence from the moat that started it."""
import json
import os
import signal
import time

from engine_helpers import monitors_of, moat  # noqa: F401


def ps_rows(moat, *flags):
    lines = moat("ps", *flags, check=True).stdout.splitlines()
    assert lines[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    return lines[1:]


def test_detached_logs_ps_stop_rm(moat):
    cid = moat.run_d("--name", "ticker", "busybox", "sh", "-c",
                     "trap 'echo bye; exit 0' TERM; i=0; while true; do echo tick $i; echo warn $i >&2; "
                     "i=$((i+1)); sleep 0.1; done")
    moat.wait_for(lambda: "tick 3" in moat("logs", "ticker").stdout, what="logs")
    rows = ps_rows(moat)
    assert len(rows) == 1 and rows[0].startswith(cid[:12]) and rows[0].endswith("ticker")
    assert "Up " in rows[0] and '"sh -c trap \'echo by…"' in rows[0]
    p = moat("logs", "--tail", "2", "ticker")
    assert len(p.stdout.splitlines()) + len(p.stderr.splitlines()) == 2
    assert "warn" in moat("logs", "ticker").stderr
    # docker's json-file format on disk
    log = os.path.join(moat.root, "containers", cid, cid + "-json.log")
    first = json.loads(open(log).readline())
    assert set(first) == {"log", "stream", "time"} and first["log"].endswith("\n")
    assert first["stream"] in ("stdout", "stderr") and first["time"].endswith("Z") and "." in first["time"]
    t = time.time()
    assert moat("stop", "ticker").returncode == 0
    assert time.time() - t < 5  # the trap answered the stop signal
    st = moat.state("ticker")
    assert st["Status"] == "exited" and st["ExitCode"] == 0 and not st["Running"]
    assert moat("logs", "ticker").stdout.splitlines()[-1] == "bye"
    assert ps_rows(moat) == []
    assert "Exited (0)" in ps_rows(moat, "-a")[0]
    assert moat("ps", "-q").stdout == ""
    assert moat("ps", "-aq").stdout.strip() == cid[:12]
    assert moat("rm", "ticker").returncode == 0
    moat.assert_clean(cid)


def test_stop_timeout_then_sigkill(moat):
    cid = moat.run_d("busybox", "sleep", "1000")  # pid 1 ignores SIGTERM
    t = time.time()
    assert moat("stop", "-t", "1", cid).returncode == 0
    assert 0.9 < time.time() - t < 8
    assert moat.state(cid)["ExitCode"] == 137


def test_stop_signal_flag(moat):
    cid = moat.run_d("--stop-signal", "USR1", "busybox", "sh", "-c", "trap 'exit 7' USR1; while true; do sleep 0.1; done")
    time.sleep(0.3)
    assert moat("stop", "-t", "10", cid).returncode == 0
    assert moat.state(cid)["ExitCode"] == 7


def test_create_then_start_and_wait(moat):
    p = moat("create", "--name", "later", "busybox", "sh", "-c", "echo started; exit 2", check=True)
    cid = p.stdout.strip()
    moat.ids.add(cid)
    assert moat.state("later")["Status"] == "created"
    assert "Created" in ps_rows(moat, "-a")[0]
    assert moat("start", "later", check=True).stdout == "later\n"
    assert moat("wait", "later", check=True).stdout == "2\n"
    assert moat("logs", "later").stdout == "started\n"
    # a stopped container starts again; its log keeps both runs
    p = moat("start", "-a", "later")
    assert p.returncode == 2 and p.stdout == "started\n"
    assert moat("logs", "later").stdout == "started\nstarted\n"


def test_rm_running_needs_force(moat):
    cid = moat.run_d("busybox", "sleep", "1000")
    p = moat("rm", cid)
    assert p.returncode == 1 and "force" in p.stderr
    assert moat("rm", "-f", cid).returncode == 0
    moat.assert_clean(cid)
    assert monitors_of(moat.root) == []


def test_names_unique_and_generated(moat):
    moat("create", "--name", "dup", "busybox", "true", check=True)
    p = moat("create", "--name", "dup", "busybox", "true")
    assert p.returncode == 125 and "already in use" in p.stderr
    cid = moat("create", "busybox", "true", check=True).stdout.strip()
    name = moat.inspect(cid)["Name"]
    assert name.startswith("/") and "_" in name
    assert moat.inspect(cid[:8])["Id"] == cid  # an id prefix finds it
    assert moat("rm", "no-such").returncode == 1


def test_lookup_precedence(moat):
    """docker's order: a full id, then an exact name, then an id prefix only one container has."""
    def create(*args):
        cid = moat("create", *args, "busybox", "true", check=True).stdout.strip()
        moat.ids.add(cid)
        return cid
    a = create()
    b = create("--name", a[:12])
    assert moat.inspect(a[:12])["Id"] == b and moat.inspect("/" + a[:12])["Id"] == b  # the name beats a's prefix
    assert moat.inspect(a[:11])["Id"] == a
    # a name that is another container's full id: the id wins, whichever row is older
    c = create()
    moat("rename", a, c, check=True)
    assert moat.inspect(c)["Id"] == c and moat.inspect("/" + c)["Id"] == c
    # a prefix two containers share is refused, not resolved to either
    ids = [a, b, c]
    while len({i[0] for i in ids}) == len(ids):
        ids.append(create())
    shared = next(i[0] for i in ids if sum(j[0] == i[0] for j in ids) > 1)
    p = moat("logs", shared)
    assert p.returncode == 1 and "multiple containers match the prefix" in p.stderr, p.stderr


def test_stop_returns_when_the_monitor_is_done(moat):
    """stop (and rm -f) wait for the monitor to be gone, so its _sync has run: a --rm container is
    already removed when stop returns."""
    cid = moat.run_d("--rm", "busybox", "sleep", "1000")
    assert moat("stop", "-t", "1", cid).returncode == 0
    assert monitors_of(moat.root) == []
    moat.assert_clean(cid)
    cid = moat.run_d("busybox", "sleep", "1000")
    assert moat("stop", "-t", "0", cid).returncode == 0
    assert monitors_of(moat.root) == [] and moat.state(cid)["Status"] == "exited"


def test_restart_on_failure(moat):
    cid = moat.run_d("--restart", "on-failure:2", "busybox", "sh", "-c", "echo run; exit 4")
    moat.wait_for(lambda: moat.state(cid)["Status"] == "exited" and moat.inspect(cid)["RestartCount"] == 2,
                  timeout=15, what="two restarts")
    assert moat("logs", cid).stdout == "run\nrun\nrun\n"
    assert moat.state(cid)["ExitCode"] == 4
    # success is not restarted
    cid = moat.run_d("--restart", "on-failure", "busybox", "true")
    moat.wait_for(lambda: moat.state(cid)["Status"] == "exited", what="exit")
    time.sleep(0.5)
    assert moat.inspect(cid)["RestartCount"] == 0


def test_restart_always_until_stopped(moat):
    cid = moat.run_d("--restart", "always", "busybox", "sh", "-c", "echo up; sleep 0.2")
    moat.wait_for(lambda: moat.inspect(cid)["RestartCount"] >= 2, timeout=15, what="restarts")
    assert moat("stop", "-t", "1", cid).returncode == 0
    n = moat.inspect(cid)["RestartCount"]
    time.sleep(1)
    d = moat.inspect(cid)
    assert d["State"]["Status"] == "exited" and d["RestartCount"] == n


def test_detached_survives_kill_of_the_moat_that_started_it(moat):
    """A container run in the foreground keeps running and logging when its moat is killed -9."""
    p = moat.popen("run", "--name", "survivor", "busybox", "sh", "-c",
                   "i=0; while [ $i -lt 40 ]; do echo line $i; i=$((i+1)); sleep 0.05; done")
    moat.wait_for(lambda: "line 2" in moat("logs", "survivor").stdout, what="first lines")
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert moat.state("survivor")["Running"]
    moat.wait_for(lambda: moat.state("survivor")["Status"] == "exited", timeout=15, what="the end")
    out = moat("logs", "survivor").stdout.splitlines()
    assert out == [f"line {i}" for i in range(40)]
    assert moat.state("survivor")["ExitCode"] == 0
    # the monitor is nobody's child of ours: its parent is not the killed moat
    cid = moat.run_d("busybox", "sleep", "100")
    mons = monitors_of(moat.root)
    assert len(mons) == 1
    ppid = int(open(f"/proc/{mons[0]}/stat").read().rsplit(")", 1)[1].split()[1])
    assert ppid != os.getpid()
    assert os.getsid(mons[0]) != os.getsid(0)  # its own session: no terminal hangup reaches it
    moat("rm", "-f", cid, check=True)


def test_killed_monitor_is_reported(moat):
    cid = moat.run_d("busybox", "sleep", "1000")
    mons = monitors_of(moat.root)
    assert len(mons) == 1
    os.kill(mons[0], signal.SIGKILL)
    time.sleep(0.2)
    st = moat.state(cid)
    assert st["Status"] == "exited" and st["ExitCode"] == 255
    assert "monitor" in st["Error"]
    assert moat("rm", cid).returncode == 0
    moat.assert_clean(cid)


def test_exec(moat):
    cid = moat.run_d("busybox", "sleep", "1000")
    p = moat("exec", cid, "sh", "-c", "echo $(id -u) $(pwd); exit 5")
    assert p.returncode == 5 and p.stdout == "0 /\n"
    p = moat("exec", "-u", "nobody", "-e", "X=y", "-w", "/tmp", cid, "sh", "-c", "echo $(id -un) $X $(pwd)")
    assert p.stdout == "nobody y /tmp\n"
    p = moat("exec", "-i", cid, "cat", input="through exec\n")
    assert p.stdout == "through exec\n"
    assert moat("exec", cid, "no-such-cmd").returncode in (126, 127)
    p = moat("exec", cid, "grep", "CapEff", "/proc/self/status")
    assert p.stdout.split()[1] == "00000000800405fb"
    moat("stop", "-t", "0", cid, check=True)
    assert moat("exec", cid, "true").returncode != 0


def drainers():
    """pids of moat-exec-pty processes (what keeps an `exec -d -t` terminal open)"""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/comm") as f:
                    if f.read().strip() == "moat-exec-pty":
                        out.append(int(d))
            except OSError:
                pass
    return out


def test_exec_detached_with_a_terminal(moat):
    """exec -d -t: the process gets a terminal that stays open while it runs (its output is
    dropped, as docker's), and nothing is left once it ends."""
    cid = moat.run_d("busybox", "sleep", "1000")
    before = set(drainers())
    p = moat("exec", "-d", "-t", cid, "sh", "-c", "tty > /tty.txt; i=0; while [ $i -lt 200 ]; do echo line $i; "
             "i=$((i+1)); done; sleep 1; echo done > /done.txt")
    assert p.returncode == 0 and p.stdout == "", p.stderr
    moat.wait_for(lambda: moat("exec", cid, "cat", "/done.txt").stdout == "done\n", timeout=20,
                  what="the detached process to finish")
    assert moat("exec", cid, "cat", "/tty.txt", check=True).stdout.startswith("/dev/pts/")
    moat.wait_for(lambda: set(drainers()) <= before, timeout=10, what="the terminal's drainer to exit")


def test_inspect_document(moat):
    cid = moat.run_d("--name", "insp", "--label", "a=b", "-e", "K=V", "busybox", "sleep", "100")
    d = moat.inspect("insp")
    assert d["Id"] == cid and d["Name"] == "/insp" and d["Path"] == "sleep" and d["Args"] == ["100"]
    assert d["State"]["Running"] and d["State"]["Pid"] > 0
    assert d["Config"]["Labels"] == {"a": "b"} and "K=V" in d["Config"]["Env"]
    assert d["Config"]["Image"] == "busybox" and d["Image"].startswith("sha256:")
    assert d["HostConfig"]["PidsLimit"] == 2048 and "no-new-privileges" in d["HostConfig"]["SecurityOpt"]
    assert d["HostConfig"]["RestartPolicy"] == {"Name": "no", "MaximumRetryCount": 0}
    assert len(d["EffectiveCaps"]) == 11
    # images are inspected by the same verb
    img = json.loads(moat("inspect", "busybox", check=True).stdout)[0]
    assert img["Id"] == d["Image"]
    assert moat("inspect", "nothing-here").returncode == 1


def test_interrupted_create_is_reported_and_removable(moat):
    """A record left 'creating' by a killed moat is reported dead, and rm removes it."""
    import sqlite3
    moat("create", "busybox", "true", check=True)  # the schema and the image exist
    cid = "f" * 64
    os.mkdir(os.path.join(moat.root, "containers", cid))
    db = sqlite3.connect(os.path.join(moat.root, "moat.db"))
    db.execute("INSERT INTO containers(id, name, image, created, state) VALUES(?, 'half', 'busybox', 1, 'creating')",
               (cid,))
    db.commit()
    db.close()
    st = moat.state("half")
    assert st["Status"] == "dead" and "interrupted" in st["Error"]
    assert moat("rm", "half").returncode == 0
    moat.assert_clean(cid)


def test_kill_9_of_moat_at_any_point_of_run(moat):
    """moat killed at random points of create/start: every record is whole or reported, rm cleans all."""
    import random
    rnd = random.Random(5)
    for i in range(12):
        p = moat.popen("run", "-d", "busybox", "sleep", "0.5")
        time.sleep(rnd.uniform(0.0, 0.25))
        p.kill()
        p.wait()
    time.sleep(1)
    for line in moat("ps", "-a").stdout.splitlines()[1:]:
        assert any(w in line for w in ("Exited", "Up", "Created", "Dead")), line
    ids = moat.all_ids()
    for cid in ids:
        assert moat("rm", "-f", cid).returncode == 0
    assert moat.all_ids() == []
    from engine_helpers import mounts_under
    assert mounts_under(moat.root) == []
    assert os.listdir(os.path.join(moat.root, "containers")) == []


def test_logs_follow_and_timestamps(moat):
    cid = moat.run_d("busybox", "sh", "-c", "for i in 1 2 3 4 5; do echo n$i; sleep 0.1; done")
    p = moat("logs", "-f", cid, timeout=30)  # returns when the container ends
    assert p.stdout.split() == ["n1", "n2", "n3", "n4", "n5"]
    p = moat("logs", "-t", "--tail", "1", cid)
    ts, line = p.stdout.split()
    assert line == "n5" and ts.endswith("Z") and ts[:4].isdigit()


def test_log_rotation_is_size_capped(moat):
    moat.env["MOAT_LOG_MAX_SIZE"] = "4096"
    cid = moat.run_d("busybox", "sh", "-c", "i=0; while [ $i -lt 400 ]; do echo line-$i; i=$((i+1)); done")
    moat.wait_for(lambda: moat.state(cid)["Status"] == "exited", what="exit")
    d = os.path.join(moat.root, "containers", cid)
    logs = sorted(f for f in os.listdir(d) if "-json.log" in f)
    assert logs == [cid + "-json.log", cid + "-json.log.1"]
    for f in logs:
        assert os.path.getsize(os.path.join(d, f)) <= 4096
    out = moat("logs", cid).stdout.split()
    assert out[-1] == "line-399" and len(out) < 400  # older lines rotated away
