"""The created -> running -> stopped state machine, kill and delete, list, ps, pid files."""
import json
import os
import time

import pytest

from conftest import IS_MOAT, pid_alive, read, wait_for


@pytest.mark.v2
def test_state_machine(rt):
    b = rt.bundle(["sh", "-c", "while ! test -e /go; do usleep 20000; done"])
    rt.create(b)
    st = rt.state(b.cid)
    assert st["status"] == "created"
    assert st["id"] == b.cid
    assert st["pid"] > 0 and pid_alive(st["pid"])
    assert os.path.realpath(st["bundle"]) == os.path.realpath(b.path)
    assert "ociVersion" in st
    # The user process has not run yet: its args are not what the created pid executes.
    rt.ok("start", b.cid)
    assert rt.state(b.cid)["status"] == "running"
    open(os.path.join(b.rootfs, "go"), "w").close()
    st = rt.wait_status(b.cid, "stopped")
    rt.ok("delete", b.cid)
    r = rt("state", b.cid)
    assert r.returncode == 1
    assert "does not exist" in r.stderr
    if IS_MOAT:  # runc 1.1.5 says only "container does not exist"
        assert b.cid in r.stderr
    assert rt.list_ids() == []


def test_start_twice_fails(rt):
    b = rt.bundle(["sleep", "100"])
    rt.start_detached(b)
    r = rt("start", b.cid)
    assert r.returncode != 0
    assert rt.state(b.cid)["status"] == "running"


def test_create_duplicate_id_fails(rt):
    b = rt.bundle(["sleep", "100"])
    rt.create(b)
    b2 = rt.bundle(["sleep", "100"], cid=b.cid)
    r = rt.create(b2, check=False)
    assert r.returncode != 0
    assert "exists" in r.stderr
    assert rt.state(b.cid)["status"] == "created"


def test_state_of_unknown_container(rt):
    r = rt("state", "no-such-container")
    # containerd's go-runc and others match "does not exist" in this message to mean "not found".
    assert r.returncode == 1
    assert "does not exist" in r.stderr
    if IS_MOAT:  # runc 1.1.5 says only "container does not exist"
        assert "no-such-container" in r.stderr


@pytest.mark.v2
@pytest.mark.parametrize("sig", ["KILL", "SIGKILL", "9"])
def test_kill_by_name_and_number(rt, sig):
    b = rt.bundle(["sleep", "100"])
    st = rt.start_detached(b)
    rt.ok("kill", b.cid, sig)
    rt.wait_status(b.cid, "stopped")
    wait_for(lambda: not pid_alive(st["pid"]), what="init gone")


TRAP_TERM = "trap 'echo got-term; exit 0' TERM; echo ready; while true; do usleep 20000; done"


def test_kill_term_with_handler(rt):
    # pid 1 of a pid namespace ignores signals it has no handler for, so install one.
    b = rt.bundle(["sh", "-c", TRAP_TERM])
    rt.start_detached(b)
    wait_for(lambda: "ready" in read(b.out), what="trap installed")  # else TERM is ignored
    rt.ok("kill", b.cid, "TERM")
    rt.wait_status(b.cid, "stopped")
    assert "got-term" in read(b.out)


def test_kill_default_signal_is_term(rt):
    b = rt.bundle(["sh", "-c", TRAP_TERM])
    rt.start_detached(b)
    wait_for(lambda: "ready" in read(b.out), what="trap installed")
    rt.ok("kill", b.cid)
    rt.wait_status(b.cid, "stopped")
    assert "got-term" in read(b.out)


def test_kill_all(rt):
    b = rt.bundle(["sh", "-c", "sleep 100 & sleep 100 & wait"])
    st = rt.start_detached(b)
    pids = wait_for(lambda: (lambda p: p if len(p) >= 3 else None)(json.loads(rt.ok("ps", "--format", "json", b.cid).stdout)),
                    what="3 processes")
    assert st["pid"] in pids
    rt.ok("kill", "--all", b.cid, "KILL")
    rt.wait_status(b.cid, "stopped")
    for p in pids:
        wait_for(lambda: not pid_alive(p), what="pid %d gone" % p)


def test_kill_bad_signal(rt):
    b = rt.bundle(["sleep", "100"])
    rt.start_detached(b)
    r = rt("kill", b.cid, "NOTASIGNAL")
    assert r.returncode != 0
    assert rt.state(b.cid)["status"] == "running"


def test_kill_stopped_container_fails(rt):
    b = rt.bundle(["true"])
    rt.start_detached(b)
    rt.wait_status(b.cid, "stopped")
    r = rt("kill", b.cid, "KILL")
    assert r.returncode != 0
    # containerd (pkg/process checkKillError) maps "container not running" to "already finished".
    assert "container not running" in r.stderr


def test_kill_created_container(rt):
    """A created (not started) container can be killed; it is then stopped."""
    b = rt.bundle(["true"])
    rt.create(b)
    rt.ok("kill", b.cid, "KILL")
    rt.wait_status(b.cid, "stopped")


def test_delete_running_needs_force(rt):
    b = rt.bundle(["sleep", "100"])
    st = rt.start_detached(b)
    r = rt("delete", b.cid)
    assert r.returncode != 0
    assert "running" in r.stderr or "not stopped" in r.stderr
    assert rt.state(b.cid)["status"] == "running"
    rt.ok("delete", "--force", b.cid)
    assert rt("state", b.cid).returncode != 0
    wait_for(lambda: not pid_alive(st["pid"]), what="init gone")


def test_delete_created_container(rt):
    b = rt.bundle(["true"])
    rt.create(b)
    pid = rt.state(b.cid)["pid"]
    rt.ok("delete", "--force", b.cid)
    wait_for(lambda: not pid_alive(pid), what="init gone")
    assert rt.list_ids() == []


def test_delete_unknown_container(rt):
    r = rt("delete", "no-such-container")
    assert r.returncode == 1
    assert "does not exist" in r.stderr
    if IS_MOAT:
        assert "no-such-container" in r.stderr


def test_delete_force_unknown_container_succeeds(rt):
    """runc: `delete --force` of a container that does not exist is not an error."""
    r = rt("delete", "--force", "no-such-container")
    assert r.returncode == 0, r.stderr


def test_list(rt):
    b1 = rt.bundle(["sleep", "100"])
    b2 = rt.bundle(["true"])
    st1 = rt.start_detached(b1)
    rt.create(b2)
    r = rt.ok("list")
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    rows = {l.split()[0]: l.split() for l in lines[1:]}
    assert set(rows) == {b1.cid, b2.cid}
    assert rows[b1.cid][1] == str(st1["pid"]) and rows[b1.cid][2] == "running"
    assert rows[b2.cid][2] == "created"
    assert rows[b1.cid][3] == b1.path
    assert rows[b1.cid][5] == "root"
    assert sorted(rt.ok("list", "-q").stdout.split()) == sorted([b1.cid, b2.cid])
    js = json.loads(rt.ok("list", "--format", "json").stdout)
    assert isinstance(js, list) and {c["id"] for c in js} == {b1.cid, b2.cid}
    c1 = [c for c in js if c["id"] == b1.cid][0]
    assert c1["pid"] == st1["pid"] and c1["status"] == "running" and c1["bundle"] == b1.path
    assert "created" in c1 and c1["owner"] == "root"


def test_list_empty(rt):
    r = rt.ok("list")
    assert r.stdout.split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    assert rt.ok("list", "-q").stdout == ""
    assert json.loads(rt.ok("list", "--format", "json").stdout or "null") in (None, [])


def test_ps(rt):
    b = rt.bundle(["sh", "-c", "sleep 100 & wait"])
    st = rt.start_detached(b)
    pids = wait_for(lambda: (lambda p: p if len(p) >= 2 else None)(json.loads(rt.ok("ps", "--format", "json", b.cid).stdout)),
                    what="2 processes")
    assert st["pid"] in pids and all(isinstance(p, int) for p in pids)
    for p in pids:
        assert pid_alive(p)
    # The table form is `ps -ef`-like with a PID column.
    r = rt.ok("ps", b.cid)
    assert "PID" in r.stdout.splitlines()[0]
    assert str(st["pid"]) in r.stdout


@pytest.mark.parametrize("verb", ["create", "run"])
def test_pid_file(rt, verb):
    b = rt.bundle(["sleep", "100"])
    pidfile = rt.tmp / "pid"
    rt.create(b, "--pid-file", str(pidfile), verb=verb)
    pid = int(pidfile.read_text().strip())
    st = rt.state(b.cid)
    assert pid == st["pid"]
    assert st["status"] == ("created" if verb == "create" else "running")


def test_run_detach(rt):
    b = rt.bundle(["sh", "-c", "echo hello-detached; sleep 100"])
    t0 = time.monotonic()
    rt.create(b, verb="run")
    assert time.monotonic() - t0 < 20
    assert rt.state(b.cid)["status"] == "running"
    wait_for(lambda: "hello-detached" in read(b.out), what="output")


def test_run_removes_container_after_exit(rt):
    b = rt.bundle(["true"])
    assert rt.run_container(b).returncode == 0
    assert rt.list_ids() == []
    assert not os.path.exists(os.path.join(rt.root, b.cid))


def test_run_keep(rt):
    b = rt.bundle(["sh", "-c", "exit 7"])
    assert rt.run_container(b, "--keep").returncode == 7
    assert rt.state(b.cid)["status"] == "stopped"
    assert rt.list_ids() == [b.cid]
    rt.ok("delete", b.cid)
    assert rt.list_ids() == []


def test_run_same_id_after_delete(rt):
    b = rt.bundle(["true"])
    assert rt.run_container(b).returncode == 0
    assert rt.run_container(b).returncode == 0
