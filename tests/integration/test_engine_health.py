"""Health checks: --health-* flags and the image's Healthcheck, run by the monitor inside the
container's confinement; State.Health in inspect, the ps status, ps --filter health, events."""
import hashlib
import io
import json
import os
import tarfile
import time

from engine_helpers import moat  # noqa: F401


def health(moat, name):
    return moat.state(name).get("Health")


def events(moat, cid):
    path = os.path.join(moat.root, "events.log")
    return [e["action"] for e in (json.loads(l) for l in open(path)) if e["id"] == cid]


def test_healthy_check_flips_starting_to_healthy(moat):
    cid = moat.run_d("--name", "ok", "--health-cmd", "echo fine; id -u; cat /proc/self/status | grep NoNewPrivs",
                     "--health-interval", "0.5s", "-u", "1234", "busybox", "sleep", "1000")
    assert health(moat, "ok")["Status"] == "starting"
    assert "(health: starting)" in moat("ps").stdout
    moat.wait_for(lambda: health(moat, "ok")["Status"] == "healthy", what="healthy")
    h = health(moat, "ok")
    assert h["FailingStreak"] == 0 and 1 <= len(h["Log"]) <= 5
    last = h["Log"][-1]
    # the check ran in the container as its process does: its user, no_new_privs
    assert last["ExitCode"] == 0 and last["Output"].split() == ["fine", "1234", "NoNewPrivs:", "1"]
    assert last["Start"] <= last["End"] and last["End"].endswith("Z")
    assert "(healthy)" in moat("ps").stdout
    assert moat("ps", "-q", "-f", "health=healthy").stdout.strip() == cid[:12]
    assert moat("ps", "-q", "-f", "health=starting").stdout == ""
    assert moat("ps", "--format", "{{.Status}}").stdout.strip().endswith("(healthy)")
    cfg = moat.inspect("ok")["Config"]["Healthcheck"]
    assert cfg == {"Test": ["CMD-SHELL", "echo fine; id -u; cat /proc/self/status | grep NoNewPrivs"],
                   "Interval": 500000000}
    assert events(moat, cid).count("health_status: healthy") == 1
    # the log keeps the last five results
    moat.wait_for(lambda: len(health(moat, "ok")["Log"]) == 5, timeout=10, what="five results")
    time.sleep(0.7)
    assert len(health(moat, "ok")["Log"]) == 5
    # stopped: docker reports unhealthy, and ps no longer shows a health
    moat("stop", "-t", "1", "ok", check=True)
    assert health(moat, "ok")["Status"] == "unhealthy"
    assert "health" not in moat("ps", "-a", "--format", "{{.Status}}").stdout


def test_failing_check_becomes_unhealthy_after_retries(moat):
    cid = moat.run_d("--name", "bad", "--health-cmd", "echo broken >&2; exit 3", "--health-interval", "0.15s",
                     "--health-retries", "3", "busybox", "sleep", "1000")
    seen = []
    end = time.time() + 15
    while time.time() < end:
        h = health(moat, "bad")
        seen.append((h["Status"], h["FailingStreak"]))
        if h["Status"] == "unhealthy":
            break
        time.sleep(0.03)
    assert seen[-1][0] == "unhealthy" and seen[-1][1] >= 3
    assert all(streak < 3 for status, streak in seen if status == "starting")
    last = health(moat, "bad")["Log"][-1]
    assert last["ExitCode"] == 3 and last["Output"] == "broken\n"
    assert "(unhealthy)" in moat("ps").stdout
    assert moat("ps", "-q", "-f", "health=unhealthy").stdout.strip() == cid[:12]
    assert "health_status: unhealthy" in events(moat, cid) and "health_status: healthy" not in events(moat, cid)


def test_start_period_does_not_count_failures(moat):
    moat.run_d("--name", "slowstart", "--health-cmd", "false", "--health-interval", "0.1s", "--health-retries", "1",
               "--health-start-period", "1s", "--health-start-interval", "0.1s", "busybox", "sleep", "1000")
    time.sleep(0.6)
    h = health(moat, "slowstart")
    assert h["Status"] == "starting" and h["FailingStreak"] == 0 and len(h["Log"]) >= 2
    moat.wait_for(lambda: health(moat, "slowstart")["Status"] == "unhealthy", what="unhealthy after the start period")


def test_hanging_check_is_killed_at_the_timeout(moat):
    cid = moat.run_d("--name", "hang", "--health-cmd", "sleep 77; true", "--health-timeout", "0.3s",
                     "--health-interval", "0.2s", "--health-retries", "1", "busybox", "sleep", "1000")
    moat.wait_for(lambda: health(moat, "hang")["Status"] == "unhealthy", what="unhealthy")
    last = health(moat, "hang")["Log"][-1]
    assert last["ExitCode"] == -1 and last["Output"] == "Health check exceeded timeout (300ms)"
    # each probe, and the sleep its shell started, is killed before the next: they never pile up
    time.sleep(2)
    assert sum(l.endswith(" sleep 77") for l in moat("top", cid).stdout.splitlines()) <= 1


def test_command_not_found_is_a_failure(moat):
    moat.run_d("--name", "nf", "--health-cmd", "/nonexistent", "--health-interval", "0.1s", "--health-retries", "1",
               "busybox", "sleep", "1000")
    moat.wait_for(lambda: health(moat, "nf")["Status"] == "unhealthy", what="unhealthy")
    assert health(moat, "nf")["Log"][-1]["ExitCode"] == 127


def _image_with_healthcheck(moat, tmp_path, hc, shell=None):
    """busybox with a Healthcheck (and a Shell) in its config, loaded as hc-busybox."""
    src = tmp_path / "bb.tar"
    moat("save", "-o", str(src), "busybox", check=True)
    out = tmp_path / "hc.tar"
    with tarfile.open(src) as t, tarfile.open(out, "w") as o:
        manifest = json.load(t.extractfile("manifest.json"))
        old = manifest[0]["Config"]
        cfg = json.load(t.extractfile(old))
        cfg["config"]["Healthcheck"] = hc
        if shell:
            cfg["config"]["Shell"] = shell
        data = json.dumps(cfg).encode()
        name = hashlib.sha256(data).hexdigest() + ".json"
        manifest[0]["Config"] = name
        manifest[0]["RepoTags"] = ["hc-busybox:latest"]
        for m in t.getmembers():
            if m.name in (old, "manifest.json"):
                continue
            o.addfile(m, t.extractfile(m) if m.isfile() else None)
        for n, d in ((name, data), ("manifest.json", json.dumps(manifest).encode())):
            ti = tarfile.TarInfo(n)
            ti.size = len(d)
            o.addfile(ti, io.BytesIO(d))
    moat("load", "-i", str(out), check=True)


def test_image_healthcheck_and_no_healthcheck(moat, tmp_path):
    _image_with_healthcheck(moat, tmp_path, {"Test": ["CMD", "sh", "-c", "echo from-image"],
                                             "Interval": 200000000, "Retries": 2})
    moat.run_d("--name", "img", "hc-busybox", "sleep", "1000")
    moat.wait_for(lambda: health(moat, "img")["Status"] == "healthy", what="the image's check")
    assert health(moat, "img")["Log"][-1]["Output"] == "from-image\n"
    # flags override field by field: the image's test with our retries
    moat.run_d("--name", "mixed", "--health-retries", "5", "hc-busybox", "sleep", "1000")
    assert moat.inspect("mixed")["Config"]["Healthcheck"] == {"Test": ["CMD", "sh", "-c", "echo from-image"],
                                                              "Interval": 200000000, "Retries": 5}
    cid = moat.run_d("--name", "off", "--no-healthcheck", "hc-busybox", "sleep", "1000")
    time.sleep(0.6)
    assert health(moat, "off") is None
    assert moat.inspect("off")["Config"]["Healthcheck"] == {"Test": ["NONE"]}
    assert moat("ps", "-q", "-f", "health=none").stdout.strip() == cid[:12]
    assert "health" not in moat("ps", "-f", "name=off", "--format", "{{.Status}}").stdout
    # an image that disables its check: nothing runs
    _image_with_healthcheck(moat, tmp_path, {"Test": ["NONE"]})
    moat.run_d("--name", "none", "hc-busybox", "sleep", "1000")
    time.sleep(0.3)
    assert health(moat, "none") is None


def test_bad_health_flags_are_refused(moat):
    for flags, msg in ((["--health-interval", "-1s"], "invalid --health-interval"),
                       (["--health-timeout", "soon"], "invalid --health-timeout"),
                       (["--health-retries", "-2"], "invalid --health-retries"),
                       (["--health-cmd", "true", "--health-interval", "500us"], "cannot be less than 1ms"),
                       (["--health-cmd", "true", "--no-healthcheck"], "conflicts with --health-*"),
                       (["--health-interval", "1s"], "need a health check command")):
        p = moat("run", "-d", *flags, "busybox", "sleep", "1")
        assert p.returncode == 125 and msg in p.stderr, (flags, p.stderr)
    assert moat.all_ids() == []


def test_monitor_stays_small_with_a_health_check(moat):
    from engine_helpers import monitors_of
    moat.run_d("--name", "hc", "--health-cmd", "true", "--health-interval", "0.1s", "busybox", "sleep", "1000")
    moat.wait_for(lambda: len(health(moat, "hc")["Log"]) >= 3, what="probes")
    time.sleep(0.05)
    # the monitor, not a probe's helper (a fork of it, with the same command line)
    mons = monitors_of(moat.root)

    def ppid(p):
        try:
            return int(next(l for l in open(f"/proc/{p}/status") if l.startswith("PPid")).split()[1])
        except (OSError, StopIteration):
            return -1  # a probe's helper that ended meanwhile
    (pid,) = [p for p in mons if ppid(p) not in mons and ppid(p) != -1]
    rss = int(next(l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")).split()[1])
    assert rss < 2048, rss  # kB; ~0.7 MB idle between probes, ~1.0 MB at the peak of one


def test_cmd_shell_checks_run_with_the_images_shell(moat, tmp_path):
    """docker runs a CMD-SHELL check with the image's SHELL (here busybox's ash, asked to print $0)."""
    _image_with_healthcheck(moat, tmp_path, {"Test": ["CMD-SHELL", "echo shell=$0"], "Interval": 200000000},
                            shell=["/bin/ash", "-c"])
    moat.run_d("--name", "sh", "hc-busybox", "sleep", "1000")
    moat.wait_for(lambda: (health(moat, "sh") or {}).get("Status") == "healthy", what="the check")
    assert health(moat, "sh")["Log"][-1]["Output"] == "shell=/bin/ash\n"
    # --health-cmd is CMD-SHELL too: the same shell
    moat.run_d("--name", "flag", "--health-cmd", "echo flag=$0", "--health-interval", "0.2s", "hc-busybox",
               "sleep", "1000")
    moat.wait_for(lambda: (health(moat, "flag") or {}).get("Status") == "healthy", what="the flag's check")
    assert health(moat, "flag")["Log"][-1]["Output"] == "flag=/bin/ash\n"
