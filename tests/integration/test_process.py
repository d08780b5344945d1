"""The container process: rlimits, user and groups, cwd, env, umask, exit codes, stdio, console
socket, preserved fds."""
import subprocess

import pytest

from conftest import ConsoleSocket, wait_for


def out_of(rt, b, *extra):
    r = rt.run_container(b, *extra)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_rlimit_nofile(rt):
    # Within the caller's hard limit (20000 on these machines, and no CAP_SYS_RESOURCE): never above.
    b = rt.bundle(["sh", "-c", "ulimit -n; ulimit -Hn; grep 'Max open files' /proc/self/limits"])
    b.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 1234, "hard": 5678}]
    out = out_of(rt, b).splitlines()
    assert out[0] == "1234" and out[1] == "5678"
    assert out[2].split()[3:5] == ["1234", "5678"]


def test_rlimit_several(rt):
    b = rt.bundle(["sh", "-c", "grep -E 'Max (processes|core file size|open files)' /proc/self/limits"])
    b.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
                            {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400},
                            {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]
    lim = {}
    for line in out_of(rt, b).splitlines():
        f = line.split()
        lim[" ".join(f[:-3])] = f[-3:-1]
    assert lim["Max open files"] == ["100", "200"]
    assert lim["Max processes"] == ["300", "400"]
    assert lim["Max core file size"] == ["0", "0"]


def test_user_uid_gid_additional_gids(rt):
    b = rt.bundle(["sh", "-c", "id -u; id -g; id -G; id -un"])
    b.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10, 100]}
    out = out_of(rt, b).splitlines()
    assert out[0] == "1000" and out[1] == "1000"
    assert set(out[2].split()) == {"1000", "10", "100"}
    assert out[3] == "app"


def test_user_nobody_has_no_extra_groups(rt):
    b = rt.bundle(["sh", "-c", "id -u; id -G; grep -E '^(Uid|Gid|Groups)' /proc/self/status"])
    b.process["user"] = {"uid": 65534, "gid": 65534}
    out = out_of(rt, b).splitlines()
    assert out[0] == "65534"
    assert out[1].split() == ["65534"]
    status = {l.split(":")[0]: l.split(":")[1].split() for l in out[2:]}
    assert status["Uid"] == ["65534"] * 4 and status["Gid"] == ["65534"] * 4
    assert status["Groups"] == []


def test_cwd(rt):
    b = rt.bundle(["pwd"])
    b.process["cwd"] = "/home/app"
    assert out_of(rt, b) == "/home/app\n"


def test_cwd_created_when_missing(rt):
    b = rt.bundle(["pwd"])
    b.process["cwd"] = "/does/not/exist/yet"
    assert out_of(rt, b) == "/does/not/exist/yet\n"


def test_env(rt):
    b = rt.bundle(["env"])
    b.process["env"] = ["PATH=/bin", "FOO=bar baz", "EMPTY="]
    env = out_of(rt, b).splitlines()
    assert "FOO=bar baz" in env and "EMPTY=" in env and "PATH=/bin" in env
    assert not [e for e in env if e.startswith("PYTEST") or e.startswith("MOAT_RUNTIME")]


def test_umask(rt):
    b = rt.bundle(["sh", "-c", "umask; touch /tmp/f; stat -c %a /tmp/f"])
    b.process["user"]["umask"] = 0o027
    assert out_of(rt, b).split() == ["0027", "640"]


def test_default_umask_is_0022(rt):
    b = rt.bundle(["sh", "-c", "umask"])
    assert out_of(rt, b).split() == ["0022"]


@pytest.mark.v2
@pytest.mark.parametrize("code", [0, 1, 3, 42, 255])
def test_run_returns_container_exit_code(rt, code):
    b = rt.bundle(["sh", "-c", "exit %d" % code])
    assert rt.run_container(b).returncode == code


def test_run_killed_by_signal_exit_code(rt):
    """`run` (foreground) returns 128+signal when the container's init is killed by a signal."""
    b = rt.bundle(["sleep", "100"])
    b.write()
    p = subprocess.Popen([rt.binary, "--root", rt.root, "run", "--bundle", b.path, b.cid],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: rt("state", b.cid).stdout.find('"running"') >= 0, what="running")
        rt.ok("kill", b.cid, "KILL")
        p.wait(timeout=20)
        assert p.returncode == 137
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_stdio_passthrough(rt):
    b = rt.bundle(["sh", "-c", "read line; echo got:$line; echo err >&2"])
    r = rt.run_container(b, input="hello\n")
    assert r.returncode == 0
    assert r.stdout == "got:hello\n"
    assert "err" in r.stderr


def test_no_new_privileges(rt):
    b = rt.bundle(["grep", "NoNewPrivs", "/proc/self/status"])
    b.process["noNewPrivileges"] = True
    assert out_of(rt, b).split() == ["NoNewPrivs:", "1"]


def test_oom_score_adj(rt):
    b = rt.bundle(["cat", "/proc/self/oom_score_adj"])
    b.process["oomScoreAdj"] = 500
    assert out_of(rt, b).split() == ["500"]


def test_preserve_fds(rt):
    src = rt.tmp / "fd3.txt"
    src.write_text("through-fd-3\n")
    b = rt.bundle(["sh", "-c", "cat <&3; ls /proc/self/fd"])
    b.write()
    cmd = "exec %s --root %s run --preserve-fds 1 --bundle %s %s 3<%s" % (rt.binary, rt.root, b.path, b.cid, src)
    r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "through-fd-3"
    # Without --preserve-fds, fd 3 is not passed.
    b2 = rt.bundle(["sh", "-c", "cat <&3 2>/dev/null; echo rc=$?"])
    b2.write()
    cmd = "exec %s --root %s run --bundle %s %s 3<%s" % (rt.binary, rt.root, b2.path, b2.cid, src)
    r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=60)
    assert "through-fd-3" not in r.stdout
    assert "rc=0" not in r.stdout


def test_no_fds_leak_into_container(rt):
    """Only 0, 1, 2 are open in the container (plus the fd ls uses to list)."""
    b = rt.bundle(["ls", "/proc/self/fd"])
    fds = out_of(rt, b).split()
    assert set(fds) <= {"0", "1", "2", "3"} and len(fds) <= 4, fds


def test_console_socket(rt):
    cs = ConsoleSocket(rt.tmp / "console.sock")
    try:
        b = rt.bundle(["sh", "-c", "tty; test -t 0 && echo stdin-is-tty; stty size; echo done"])
        b.process["terminal"] = True
        b.process["consoleSize"] = {"height": 33, "width": 101}
        rt.create(b, "--console-socket", cs.path)
        rt.ok("start", b.cid)
        rt.wait_status(b.cid, "stopped")
    finally:
        cs.close()
    assert cs.error is None, cs.error
    out = cs.output.decode().replace("\r", "").splitlines()
    assert out[0].startswith("/dev/pts/"), out
    assert "stdin-is-tty" in out
    assert "33 101" in out
    assert "done" in out


def test_terminal_without_console_socket_fails_when_detached(rt):
    b = rt.bundle(["true"])
    b.process["terminal"] = True
    r = rt.create(b, check=False)
    assert r.returncode != 0
    assert rt.list_ids() == []
