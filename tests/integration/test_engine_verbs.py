"""The smaller verbs: restart, pause/unpause, rename, top, stats --no-stream."""
import time

from engine_helpers import moat  # noqa: F401


def test_pause_unpause(moat):
    cid = moat.run_d("busybox", "sh", "-c", "while true; do echo x; sleep 0.05; done")
    moat.wait_for(lambda: moat("logs", cid).stdout.count("x") > 2, what="output")
    assert moat("pause", cid).returncode == 0
    assert moat.state(cid)["Status"] == "paused" and moat.state(cid)["Paused"]
    assert "(Paused)" in moat("ps").stdout
    n = moat("logs", cid).stdout.count("x")
    time.sleep(0.5)
    assert moat("logs", cid).stdout.count("x") == n  # frozen: no output
    assert moat("pause", cid).returncode == 1
    assert moat("unpause", cid).returncode == 0
    moat.wait_for(lambda: moat("logs", cid).stdout.count("x") > n, what="output after unpause")
    # a paused container can still be stopped and removed
    assert moat("pause", cid).returncode == 0
    t = time.time()
    assert moat("stop", "-t", "1", cid).returncode == 0
    assert time.time() - t < 8
    assert moat.state(cid)["Status"] == "exited"


def test_restart_rename_top_stats(moat):
    cid = moat.run_d("--name", "one", "-m", "32m", "busybox", "sh", "-c", "echo start; sleep 1000")
    assert moat("rename", "one", "two").returncode == 0
    assert moat.inspect(cid)["Name"] == "/two"
    assert moat("rename", "two", "bad name!").returncode != 0
    top = moat("top", "two", check=True).stdout.splitlines()
    assert top[0].split() == ["UID", "PID", "PPID", "CMD"]
    assert any("sleep 1000" in l for l in top[1:])
    st = moat("stats", "--no-stream", "two", check=True).stdout.splitlines()
    assert st[0].split()[:2] == ["CONTAINER", "ID"] and st[1].startswith(cid[:12])
    assert "/ 32MiB" in st[1] or "/ 33.6MB" in st[1]
    pid1 = moat.state("two")["Pid"]
    assert moat("restart", "-t", "1", "two").returncode == 0
    st = moat.state("two")
    assert st["Running"] and st["Pid"] != pid1
    moat.wait_for(lambda: moat("logs", "two").stdout == "start\nstart\n", what="second run's output")
    assert moat("stats", "--no-stream", "nonexistent").returncode == 1
