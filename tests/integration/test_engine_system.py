"""The system verbs as a user runs them: diff, system df/prune, info, version, events, live stats."""
import json
import os
import re
import select
import subprocess
import time

from engine_helpers import moat  # noqa: F401


def lines_of(p):
    return p.stdout.splitlines()


def test_diff_added_changed_deleted_and_symlinks_not_followed(moat):
    moat("run", "--name", "d", "busybox", "sh", "-c",
         "echo x >> /etc/passwd; mkdir -p /tmp/a/b; echo hi > /tmp/a/b/f; rm -rf /home; rm /bin/ls;"
         " ln -s /etc/shadow /tmp/link; mkdir /tmp/esc; ln -s / /tmp/esc/root", check=True)
    out = lines_of(moat("diff", "d", check=True))
    for want in ("C /etc", "C /etc/passwd", "D /home", "C /bin", "D /bin/ls", "C /tmp", "A /tmp/a", "A /tmp/a/b",
                 "A /tmp/a/b/f", "A /tmp/link", "A /tmp/esc/root"):
        assert want in out, (want, out)
    # parents come before their contents, and nothing is reported through a symlink
    assert out.index("C /etc") < out.index("C /etc/passwd")
    assert not [l for l in out if l.startswith(("A /tmp/esc/root/", "A /tmp/link/"))]
    assert all(re.match(r"^[ACD] /", l) for l in out)
    # a running container, and an opaque directory (deleted and made again)
    cid = moat.run_d("busybox", "sh", "-c", "rm -rf /etc && mkdir /etc && echo n > /etc/new && sleep 100")
    moat.wait_for(lambda: "A /etc/new" in lines_of(moat("diff", cid)), what="diff of a running container")
    out = lines_of(moat("diff", cid))
    assert "D /etc/passwd" in out and "C /etc" in out
    assert moat("diff", "nope").returncode != 0
    assert moat("diff").returncode != 0


def test_system_df_and_verbose(moat):
    moat("volume", "create", "v1", check=True)
    moat("run", "--name", "w", "-v", "v1:/data", "busybox", "sh", "-c",
         "head -c 3000 /dev/zero > /data/f; head -c 5000 /dev/zero > /big", check=True)
    out = lines_of(moat("system", "df", check=True))
    assert out[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    rows = {l[:16].strip(): l[16:].split() for l in out[1:]}
    assert rows["Images"][:2] == ["1", "1"]
    assert rows["Containers"][:3] == ["1", "0", "5kB"] and rows["Containers"][3:] == ["5kB", "(100%)"]
    assert rows["Local Volumes"][:3] == ["1", "1", "3kB"] and rows["Local Volumes"][3:] == ["0B", "(0%)"]
    assert rows["Build Cache"] == ["0", "0", "0B", "0B"]
    v = moat("system", "df", "-v", check=True).stdout
    assert "Images space usage:" in v and "Containers space usage:" in v and "Local Volumes space usage:" in v
    assert re.search(r"^busybox\s+latest\s+[0-9a-f]{12}\s", v, re.M)
    assert re.search(r"^v1\s+1\s+3kB$", v, re.M)
    assert re.search(r"^[0-9a-f]{12}\s+busybox\s+.*\s1\s+5kB\s.*Exited \(0\).*\sw$", v, re.M)
    assert moat("system", "df", "--format", "{{json .}}").returncode == 125


def test_system_prune_prompts_and_removes(moat):
    moat("volume", "create", "named-unused", check=True)
    # an anonymous volume left by a removed container: what --volumes prunes (docker 23+)
    anon_of = moat("create", "-v", "/scratch", "busybox", "true", check=True).stdout.strip()
    anon = json.loads(moat("inspect", anon_of, check=True).stdout)[0]["Mounts"][0]["Name"]
    moat("rm", anon_of, check=True)
    moat("volume", "create", "used", check=True)
    keep = moat.run_d("-v", "used:/d", "busybox", "sleep", "100")
    gone = moat("create", "busybox", "true", check=True).stdout.strip()
    # without -f it asks; anything but y changes nothing
    p = moat("system", "prune", "--volumes", input="n\n", check=True)
    assert "WARNING! This will remove:" in p.stdout and "[y/N]" in p.stdout
    assert gone in moat.all_ids() or gone[:12] in moat.all_ids()
    assert moat("system", "prune", "--filter", "until=1h", "-f").returncode == 125
    assert gone[:12] in moat("ps", "-aq").stdout
    p = moat("system", "prune", "--volumes", input="y\n", check=True)
    assert "Deleted Containers:\n" + gone in p.stdout
    assert "Deleted Volumes:\n" + anon + "\n" in p.stdout
    assert re.search(r"^Total reclaimed space: \d", p.stdout, re.M)
    assert sorted(moat("volume", "ls", "-q").stdout.split()) == ["named-unused", "used"]
    moat.assert_clean(gone)
    # the running container keeps its image, even with -a
    p = moat("system", "prune", "-a", "-f", check=True)
    assert "Deleted Images" not in p.stdout
    assert "busybox" in moat("images").stdout
    moat("rm", "-f", keep, check=True)
    p = moat("system", "prune", "-a", "-f", check=True)
    assert re.search(r"^Deleted Images:\nuntagged: busybox:latest\ndeleted: sha256:[0-9a-f]{64}$", p.stdout, re.M), \
        p.stdout
    assert len(moat("images").stdout.splitlines()) == 1


def test_info_and_version(moat):
    moat.run_d("busybox", "sleep", "100")
    moat("create", "busybox", "true", check=True)
    t = moat("info", check=True).stdout
    for want in ("Containers: 2", "  Running: 1", "  Paused: 0", "  Stopped: 1", "Images: 1", "Storage Driver: overlay",
                 "Cgroup Driver: cgroupfs", "Security Options:", "  seccomp", "   Profile: default",
                 "  no-new-privileges", "  userns", f"Moat Root Dir: {moat.root}", "Runtimes: moat"):
        assert want in t, want
    v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    assert f"Cgroup Version: {2 if v2 else 1}" in t
    assert f"Kernel Version: {os.uname().release}" in t
    assert f"CPUs: {os.cpu_count()}" in t
    for fmt in ("json", "{{json .}}"):
        d = json.loads(moat("info", "--format", fmt, check=True).stdout)
        assert (d["Containers"], d["ContainersRunning"], d["ContainersStopped"], d["Images"]) == (2, 1, 1, 1)
        assert d["CgroupVersion"] == ("2" if v2 else "1") and d["DockerRootDir"] == moat.root
        assert "name=no-new-privileges" in d["SecurityOptions"] and d["UsernsMode"] == "private"
    assert json.loads(moat("system", "info", "-f", "{{json .}}", check=True).stdout)["Images"] == 1
    p = moat("info", "--format", "{{.Name}}")
    assert p.returncode == 125 and "not supported" in p.stderr

    t = moat("version", check=True).stdout
    assert t.startswith("Client:\n Version:") and "\nServer: " in t
    assert re.search(r"^ OS/Arch:\s+linux/\w+$", t, re.M) and "libseccomp" in t
    d = json.loads(moat("version", "--format", "json", check=True).stdout)
    assert d["Client"]["Version"] == d["Server"]["Version"] and d["Server"]["Os"] == "linux"
    assert [c["Name"] for c in d["Server"]["Components"]][0] == "Engine"
    assert moat("version", "--format", "{{.Client.Version}}").returncode == 125


def test_events_past_filters_and_formats(moat):
    t0 = time.time()
    cid = moat.run_d("--name", "ev", "busybox", "sleep", "100")
    moat("pause", "ev", check=True)
    moat("unpause", "ev", check=True)
    moat("rename", "ev", "ev2", check=True)
    assert moat("exec", "ev2", "true").returncode == 0
    moat("kill", "ev2", check=True)
    moat("wait", "ev2", check=True)
    moat("rm", "ev2", check=True)
    until = str(time.time() + 0.001)
    p = moat("events", "--since", str(t0 - 1), "--until", until, timeout=10, check=True)
    out = lines_of(p)
    actions = [l.split()[2] for l in out]
    assert actions[:2] == ["create", "start"] and actions[-1] == "destroy"
    for a in ("pause", "unpause", "rename", "exec_create:", "exec_start:", "exec_die", "kill", "die"):
        assert a in actions, (a, actions)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container create " + cid +
                    r" \(image=busybox, name=ev\)$", out[0]), out[0]
    # destroy's line lacks the name in the log; the reader fills it (the name after the rename)
    assert out[-1].endswith("(image=busybox, name=ev2)")
    assert "signal=9" in [l for l in out if " kill " in l][0]
    # filters: container by old or new name or id prefix, event (exec_start matches "exec_start: true")
    f = lines_of(moat("events", "--since", "10m", "--until", until, "--filter", "event=exec_start",
                      "--filter", "container=" + cid[:8], check=True))
    assert len(f) == 1 and " exec_start: true " in f[0]
    f = lines_of(moat("events", "--since", "10m", "--until", until, "-f", "event=pause", "-f", "event=unpause",
                      "-f", "type=container", check=True))
    assert [l.split()[2] for l in f] == ["pause", "unpause"]
    js = [json.loads(l) for l in lines_of(moat("events", "--since", "10m", "--until", until,
                                               "--format", "{{json .}}", "-f", "event=die", check=True))]
    assert len(js) == 1 and js[0]["Type"] == "container" and js[0]["Actor"]["ID"] == cid
    assert js[0]["Action"] == "die" and js[0]["Actor"]["Attributes"]["exitCode"] == "137" and js[0]["from"] == "busybox"
    assert js[0]["timeNano"] // 10**9 == js[0]["time"]
    # nothing before --since, nothing after --until
    assert moat("events", "--since", until, "--until", until, check=True).stdout == ""
    # bad input is refused, clearly
    for bad in (["--since", "yesterday"], ["--filter", "image=busybox"], ["--filter", "type=image"],
                ["--filter", "nokey"], ["--format", "{{.ID}}"], ["--since", "1m", "--until", "2m"]):
        p = moat("events", "--until", until, *bad) if "--until" not in bad else moat("events", *bad)
        assert p.returncode == 125 and p.stderr.startswith("moat: "), (bad, p.stderr)


def test_events_follow_new_lines_until_interrupted(moat):
    ev = moat.popen("events", "--filter", "type=container")
    try:
        time.sleep(0.3)  # let it reach the end of the log before the events it must see
        cid = moat("create", "--name", "f1", "busybox", "true", check=True).stdout.strip()
        moat("start", "f1", check=True)
        # raw reads of the pipe: one read may bring several lines, which a buffered readline
        # after select would leave unseen in Python's buffer
        buf = b""
        end = time.time() + 10
        while time.time() < end and buf.count(b"\n") < 3:
            r, _, _ = select.select([ev.stdout], [], [], 0.2)
            if r:
                chunk = os.read(ev.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
        got = buf.decode().splitlines()
        assert [l.split()[2] for l in got] == ["create", "start", "die"], got
        assert all(cid in l for l in got)
        assert ev.poll() is None  # still following
    finally:
        ev.terminate()
        ev.wait(5)
    # a past --since with a future --until: the past, then what comes, then it ends by itself
    p = moat.popen("events", "--since", "1h", "--until", str(time.time() + 2), "-f", "event=destroy")
    moat("rm", "f1", check=True)
    out, _ = p.communicate(timeout=10)
    assert p.returncode == 0 and out.count(" destroy ") == 1


def test_stats_live_redraws_and_refuses_format(moat):
    cid = moat.run_d("--name", "busy", "busybox", "sh", "-c", "while :; do :; done")
    moat("create", "--name", "idle", "busybox", "true", check=True)
    p = moat("stats", "--no-stream", check=True)
    rows = lines_of(p)
    assert len(rows) == 2 and rows[1].startswith(cid[:12])
    assert float(rows[1].split()[2].rstrip("%")) > 5  # from two samples: a busy loop shows
    rows = lines_of(moat("stats", "--no-stream", "-a", "--no-trunc", check=True))
    assert {r.split()[0] for r in rows[1:]} == {cid, moat.inspect("idle")["Id"]}
    s = moat.popen("stats", "busy")
    try:
        frames = ""
        end = time.time() + 10
        while time.time() < end and frames.count("\033[2J") < 2:
            r, _, _ = select.select([s.stdout], [], [], 0.2)
            if r:  # raw reads, as above
                frames += os.read(s.stdout.fileno(), 65536).decode(errors="replace")
        assert frames.count("\033[2J\033[HCONTAINER ID") >= 2
        assert s.poll() is None
    finally:
        s.terminate()
        s.wait(5)
    assert moat("stats", "--format", "{{.Name}}", "--no-stream").returncode == 125
    assert moat("stats", "--no-stream", "nonexistent").returncode == 1
