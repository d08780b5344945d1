"""After a reboot: the end of a container the reboot took is recorded as such, and `moat system
restore` applies docker's daemon-start rules to the restart policies (always; unless-stopped when
the user did not stop it; on-failure after a failure); `moat start --all --filter` is podman's form.

A reboot is simulated without one: the engine reads the boot id from MOAT_TEST_BOOT_ID_FILE (for
tests only); the test kills -9 the monitors and container processes it started (by pid), unmounts
their root filesystems (gone with a reboot too) and writes a new boot id."""
import json
import os
import signal
import time

import pytest

from engine_helpers import cgroups_of, monitors_of, mounts_under, moat  # noqa: F401


@pytest.fixture
def boot(moat):
    path = os.path.join(moat.root, "test-boot-id")
    with open(path, "w") as f:
        f.write("11111111-1111-4111-8111-111111111111\n")
    moat.env["MOAT_TEST_BOOT_ID_FILE"] = path
    return path


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def simulate_reboot(moat, boot_file, new_id="22222222-2222-4222-8222-222222222222"):
    """Kill what a reboot kills (only the processes of this test's containers), then a new boot id."""
    running = [c for c in moat.all_ids() if moat.state(c)["Running"]]
    pids = []
    for cid in running:
        with open(os.path.join(moat.root, "containers", cid, "status.json")) as f:
            st = json.load(f)
        mon = st["monitor_pid"]
        assert mon in monitors_of(moat.root)
        os.kill(mon, signal.SIGKILL)  # first the monitor: it must not see its container end
        pids.append(mon)
    for cid in running:
        for cg in cgroups_of(cid):
            procs = os.path.join(cg, "cgroup.procs")
            if os.path.exists(procs):
                for p in open(procs).read().split():
                    os.kill(int(p), signal.SIGKILL)
                    pids.append(int(p))
    moat.wait_for(lambda: not any(pid_alive(p) for p in pids), what="the killed processes to go")
    # no moat command until the new boot id is there: it would record the old boot's verdict
    for cid in os.listdir(os.path.join(moat.root, "containers")):
        rootfs = os.path.join(moat.root, "containers", cid, "rootfs")
        if rootfs in mounts_under(rootfs):
            assert os.system(f"umount {rootfs}") == 0
    with open(boot_file, "w") as f:
        f.write(new_id + "\n")
    return running


def test_reboot_is_recorded_as_such(moat, boot):
    cid = moat.run_d("--restart", "always", "busybox", "sleep", "1000")
    assert simulate_reboot(moat, boot) == [cid]
    st = moat.state(cid)
    assert st["Status"] == "exited" and st["ExitCode"] == 255  # docker's code for an end it did not see
    assert "host rebooted" in st["Error"] and "monitor" not in st["Error"]
    assert moat("ps", "-q").stdout == ""
    # recorded once, as a die event with the reason
    with open(os.path.join(moat.root, "events.log")) as f:
        dies = [json.loads(l) for l in f if '"die"' in l]
    assert len(dies) == 1 and "host rebooted" in dies[0].get("error", "")


def test_killed_monitor_in_the_same_boot_is_not_a_reboot(moat, boot):
    cid = moat.run_d("busybox", "sleep", "1000")
    mons = monitors_of(moat.root)
    assert len(mons) == 1
    os.kill(mons[0], signal.SIGKILL)
    moat.wait_for(lambda: not pid_alive(mons[0]), what="the monitor to go")
    st = moat.state(cid)
    assert st["ExitCode"] == 255 and "moat-monitor exited unexpectedly" in st["Error"]
    assert "rebooted" not in st["Error"]


def test_restore_applies_the_restart_policies(moat, boot):
    run = lambda name, policy, *cmd: moat.run_d("--name", name, "--restart", policy, "busybox", *(cmd or ("sleep", "1000")))
    run("always_up", "always")
    run("always_stopped", "always")
    run("unless_up", "unless-stopped")
    run("unless_stopped", "unless-stopped")
    run("unless_killed", "unless-stopped")
    run("unless_restarted", "unless-stopped")
    run("no_up", "no")
    run("onfail_up", "on-failure")
    run("onfail_stopped", "on-failure:5")
    run("onfail_ok", "on-failure", "true")
    run("onfail_spent", "on-failure:1", "sh", "-c", "exit 3")
    rm = moat.run_d("--name", "rm_up", "--rm", "busybox", "sleep", "1000")
    moat("create", "--name", "never_started", "--restart", "always", "busybox", "sleep", "1000", check=True)
    assert moat("stop", "-t", "0", "always_stopped").returncode == 0
    assert moat("stop", "-t", "0", "unless_stopped").returncode == 0
    assert moat("kill", "unless_killed").returncode == 0
    assert moat("stop", "-t", "0", "onfail_stopped").returncode == 0
    # stopped by the user, then started again: that start undoes the stop
    assert moat("stop", "-t", "0", "unless_restarted").returncode == 0
    assert moat("start", "unless_restarted").returncode == 0
    moat.wait_for(lambda: moat.state("onfail_ok")["Status"] == "exited", what="onfail_ok to end")
    moat.wait_for(lambda: moat.state("onfail_spent")["Status"] == "exited"
                  and moat.inspect("onfail_spent")["RestartCount"] == 1, timeout=15, what="onfail_spent to give up")

    simulate_reboot(moat, boot)
    assert moat("ps", "-q").stdout == ""
    # a container started in the new boot is left alone by restore
    fresh = moat.run_d("--name", "fresh", "--restart", "always", "busybox", "sleep", "1000")
    before = moat.state(fresh)

    p = moat("system", "restore")
    assert p.returncode == 0, p.stderr
    started = sorted(l.split()[1] for l in p.stdout.splitlines() if l.startswith("started "))
    removed = [l.split()[1] for l in p.stdout.splitlines() if l.startswith("removed ")]
    want = ["always_stopped", "always_up", "onfail_up", "unless_restarted", "unless_up"]
    assert started == want, p.stdout
    assert removed == ["rm_up"]
    moat.ids.discard(rm)
    for name in want:
        st = moat.state(name)
        assert st["Running"] and st["Error"] == "", name
        assert moat("exec", name, "true").returncode == 0  # its root filesystem is mounted again
    for name in ("unless_stopped", "unless_killed", "no_up", "onfail_stopped", "onfail_ok", "onfail_spent"):
        assert moat.state(name)["Status"] == "exited", name
    assert moat.state("never_started")["Status"] == "created"
    assert "No such object" in moat("inspect", "rm_up").stderr
    assert not os.path.exists(os.path.join(moat.root, "containers", rm))
    after = moat.state(fresh)
    assert after["Pid"] == before["Pid"] and after["StartedAt"] == before["StartedAt"]
    # once more: nothing left to do
    p = moat("system", "restore")
    assert p.returncode == 0 and p.stdout == "", p.stdout + p.stderr


def test_start_all_with_filters(moat, boot):
    moat.run_d("--name", "a_no", "busybox", "sleep", "1000")
    moat.run_d("--name", "a_always", "--restart", "always", "busybox", "sleep", "1000")
    moat.run_d("--name", "a_onfail", "--restart", "on-failure:3", "busybox", "sleep", "1000")
    moat.run_d("--name", "a_unless", "--restart", "unless-stopped", "busybox", "sleep", "1000")
    assert moat("stop", "-t", "0", "a_unless").returncode == 0
    simulate_reboot(moat, boot)
    # ps filters on the policy too (on-failure:N is on-failure)
    p = moat("ps", "-a", "--format", "{{.Names}}", "--filter", "restart-policy=on-failure")
    assert p.returncode == 0 and p.stdout.split() == ["a_onfail"]

    # refused, and nothing started
    for args in (["--all", "--filter", "restart-policy=sometimes"], ["--all", "--filter", "bogus=1"],
                 ["--all", "--filter", "restart-policy"], ["--filter", "restart-policy=always"],
                 ["--all", "a_no"], ["--all", "-a"], ["--all", "--bogus"], ["--bogus", "a_no"]):
        p = moat("start", *args)
        assert p.returncode == 125, (args, p.returncode, p.stderr)
    for args in (["restore", "extra"], ["restore", "--bogus"]):
        assert moat("system", *args).returncode == 125, args
    assert moat("ps", "-q").stdout == ""

    # podman's boot line: the values of one key are alternatives; it starts what the user stopped too
    p = moat("start", "--all", "--filter", "restart-policy=always", "-f", "restart-policy=unless-stopped")
    assert p.returncode == 0, p.stderr
    assert sorted(p.stdout.split()) == ["a_always", "a_unless"]
    running = sorted(moat("ps", "--format", "{{.Names}}").stdout.split())
    assert running == ["a_always", "a_unless"]
    # different keys must all hold
    p = moat("start", "--all", "--filter", "restart-policy=no", "--filter", "name=nomatch")
    assert p.returncode == 0 and p.stdout == ""
    # without filters: every container that is not running; running ones are left as they are
    pid = moat.state("a_always")["Pid"]
    p = moat("start", "--all")
    assert p.returncode == 0 and sorted(p.stdout.split()) == ["a_no", "a_onfail"]
    assert moat.state("a_always")["Pid"] == pid
    assert len(moat("ps", "-q").stdout.split()) == 4


def test_kill_with_the_stop_signal_or_sigkill_ends_the_restart_policy(moat, boot):
    """docker: `kill` with the stop signal or SIGKILL is a stop by the user: the container is not
    restarted by its policy (before, the monitor started it again)."""
    cid = moat.run_d("--restart", "always", "busybox", "sleep", "1000")
    pid = moat.state(cid)["Pid"]
    assert moat("kill", "-s", "HUP", cid).returncode == 0  # pid 1 ignores it: still the same run
    time.sleep(0.3)
    assert moat.state(cid)["Pid"] == pid
    assert moat("kill", cid).returncode == 0
    moat.wait_for(lambda: moat.state(cid)["Status"] == "exited", what="the end")
    time.sleep(1)
    assert moat.state(cid)["Status"] == "exited" and moat.inspect(cid)["RestartCount"] == 0
    # started again, the policy holds again: an end of its own is restarted
    assert moat("start", cid).returncode == 0
    pid = moat.state(cid)["Pid"]
    os.kill(pid, signal.SIGKILL)
    moat.wait_for(lambda: moat.inspect(cid)["RestartCount"] == 1 and moat.state(cid)["Running"], timeout=15,
                  what="the policy's restart")
