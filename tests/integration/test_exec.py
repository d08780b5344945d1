"""exec: a new process in a running container joins all its namespaces and its cgroup."""
import json

import pytest

from conftest import ConsoleSocket, ns_inode, pid_alive, read, wait_for

NAMESPACES = ["ipc", "mnt", "net", "pid", "uts", "cgroup"]


@pytest.fixture
def running(rt):
    b = rt.bundle(["sleep", "100"])
    b.set_namespace("cgroup")
    b.config["hostname"] = "exec-box"
    st = rt.start_detached(b)
    b.pid = st["pid"]
    return b


def _namespaces(b):
    # the time namespace too when the config has one (moat-runtime's default spec does)
    types = {n["type"] for n in b.linux["namespaces"]}
    return NAMESPACES + (["time"] if "time" in types else [])


@pytest.mark.v2
def test_exec_joins_every_namespace(rt, running):
    names = _namespaces(running)
    r = rt.ok("exec", running.cid, "sh", "-c",
              "for n in %s; do stat -L -c %%i /proc/self/ns/$n; done; hostname" % " ".join(names))
    out = r.stdout.split()
    assert len(out) == len(names) + 1, out
    for n, ino in zip(names, out):
        assert int(ino) == ns_inode(running.pid, n), n
    assert out[-1] == "exec-box"


@pytest.mark.v2
def test_exec_joins_cgroup_and_namespaces_seen_from_host(rt, running):
    pidfile = rt.tmp / "exec.pid"
    rt.ok_detached("exec", "--detach", "--pid-file", pidfile, running.cid, "sleep", "100")
    pid = int(pidfile.read_text().strip())
    assert pid_alive(pid) and pid != running.pid
    assert read("/proc/%d/cgroup" % pid) == read("/proc/%d/cgroup" % running.pid)
    for n in _namespaces(running):
        assert ns_inode(pid, n) == ns_inode(running.pid, n), n
    # It is one of the container's processes.
    assert pid in json.loads(rt.ok("ps", "--format", "json", running.cid).stdout)
    # And its pid inside the container is not 1.
    r = rt.ok("exec", running.cid, "sh", "-c", "echo $$")
    assert int(r.stdout) > 1


def test_exec_process_file(rt, running):
    proc = {"args": ["sh", "-c", "echo $FOO; pwd; id -u; id -g"], "env": ["FOO=from-process-file", "PATH=/bin"],
            "cwd": "/tmp", "user": {"uid": 1000, "gid": 1000}, "terminal": False}
    pf = rt.tmp / "process.json"
    pf.write_text(json.dumps(proc))
    r = rt.ok("exec", "--process", pf, running.cid)
    assert r.stdout.split() == ["from-process-file", "/tmp", "1000", "1000"]


def test_exec_env(rt, running):
    r = rt.ok("exec", "--env", "FOO=bar", "--env", "X=y z", running.cid, "env")
    env = r.stdout.splitlines()
    assert "FOO=bar" in env and "X=y z" in env
    # The container's own env (from config) is there too.
    assert [e for e in env if e.startswith("PATH=")]


def test_exec_cwd(rt, running):
    r = rt.ok("exec", "--cwd", "/home/app", running.cid, "pwd")
    assert r.stdout == "/home/app\n"


def test_exec_user(rt, running):
    r = rt.ok("exec", "--user", "1000:1000", running.cid, "sh", "-c", "id -u; id -g")
    assert r.stdout.split() == ["1000", "1000"]


def test_exec_exit_code(rt, running):
    r = rt("exec", running.cid, "sh", "-c", "exit 5")
    assert r.returncode == 5


def test_exec_stdio(rt, running):
    r = rt("exec", running.cid, "sh", "-c", "read x; echo got:$x; echo oops >&2", input="hi\n")
    assert r.returncode == 0
    assert r.stdout == "got:hi\n" and "oops" in r.stderr


def test_exec_not_running_fails(rt):
    b = rt.bundle(["true"])
    rt.start_detached(b)
    rt.wait_status(b.cid, "stopped")
    r = rt("exec", b.cid, "true")
    assert r.returncode != 0
    assert "not running" in r.stderr or "stopped" in r.stderr


def test_exec_unknown_container_fails(rt):
    r = rt("exec", "no-such-container", "true")
    assert r.returncode != 0
    assert "does not exist" in r.stderr


def test_exec_missing_binary_fails(rt, running):
    r = rt("exec", running.cid, "/no/such/binary")
    assert r.returncode != 0
    assert rt.state(running.cid)["status"] == "running"


def test_exec_tty_console_socket(rt, running):
    cs = ConsoleSocket(rt.tmp / "exec-console.sock")
    pidfile = rt.tmp / "exec.pid"
    try:
        rt.ok_detached("exec", "--tty", "--detach", "--console-socket", cs.path, "--pid-file", pidfile,
              running.cid, "sh", "-c", "tty; echo exec-tty-done")
        pid = int(pidfile.read_text().strip())
        wait_for(lambda: not pid_alive(pid), what="exec'd process exit")
    finally:
        cs.close()
    assert cs.error is None, cs.error
    out = cs.output.decode().replace("\r", "").splitlines()
    assert out[0].startswith("/dev/pts/") and "exec-tty-done" in out, out
