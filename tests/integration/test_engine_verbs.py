"""The smaller verbs: restart, pause/unpause, rename, top, stats --no-stream."""
import os
import time

import pytest

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


def test_oom_kill_shows_in_inspect(moat):
    p = moat("run", "--name", "hog", "-m", "16m", "busybox", "sh", "-c",
             "a=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived")
    assert p.returncode == 137 and "survived" not in p.stdout
    st = moat.state("hog")
    assert st["OOMKilled"] and st["ExitCode"] == 137
    p = moat("run", "--name", "fine", "-m", "64m", "busybox", "true")
    assert p.returncode == 0 and not moat.state("fine")["OOMKilled"]


def test_weakening_flags_are_in_inspect_and_the_event_log(moat):
    import json
    import os
    cid = moat("create", "--cap-add", "NET_ADMIN", "--security-opt", "seccomp=unconfined", "--network", "host",
               "busybox", "true", check=True).stdout.strip()
    moat.ids.add(cid)
    weak = moat.inspect(cid)["MoatWeakenings"]
    assert weak == ["--cap-add=NET_ADMIN", "--security-opt=seccomp=unconfined", "--network=host", "--userns=host"]
    plain = moat("create", "busybox", "true", check=True).stdout.strip()
    assert moat.inspect(plain)["MoatWeakenings"] == []
    events = [json.loads(l) for l in open(os.path.join(moat.root, "events.log"))]
    created = {e["id"]: e for e in events if e["action"] == "create"}
    assert created[cid]["weakenings"] == weak and created[plain]["weakenings"] == []
    moat("start", "-a", plain, check=True)
    moat("rm", plain, check=True)
    actions = [e["action"] for e in (json.loads(l) for l in open(os.path.join(moat.root, "events.log")))
               if e["id"] == plain]
    assert actions == ["create", "start", "die", "destroy"]


def test_ulimit_cpu_shares_memory_swap(moat):
    p = moat("run", "--rm", "--ulimit", "nofile=100:200", "--cpu-shares", "512", "-m", "32m", "--memory-swap", "64m",
             "busybox", "sh", "-c", "ulimit -n; ulimit -Hn; cat /sys/fs/cgroup/cpu/cpu.shares "
             "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/cpu.weight")
    assert p.returncode == 0, p.stderr
    out = p.stdout.split()
    assert out[:2] == ["100", "200"]
    if len(out) == 4:
        assert out[2:] == ["512", str(64 << 20)]
    assert moat("run", "--rm", "--ulimit", "bogus=1", "busybox", "true").returncode == 125
    assert moat("run", "--rm", "--memory-swap", "64m", "busybox", "true").returncode == 125


LIMITS = ("for f in memory/memory.limit_in_bytes pids/pids.max cpu/cpu.cfs_quota_us memory.max pids.max cpu.max; "
          "do [ -f /sys/fs/cgroup/$f ] && cat /sys/fs/cgroup/$f; done; true")


def limits(moat, cid):
    """memory limit, pids limit, cpu quota (per 100 ms) as the container sees its cgroup"""
    out = moat("exec", cid, "sh", "-c", LIMITS, check=True).stdout.split()
    return out[0], out[1], out[2]


@pytest.mark.v2
def test_update_limits_and_restart_policy(moat):
    cid = moat.run_d("-m", "64m", "busybox", "sleep", "1000")
    assert moat("update", "-m", "96m", "--cpus", "0.5", "--pids-limit", "77", cid, check=True).stdout == cid + "\n"
    assert limits(moat, cid) == (str(96 << 20), "77", "50000")
    hc = moat.inspect(cid)["HostConfig"]
    assert (hc["Memory"], hc["NanoCpus"], hc["PidsLimit"]) == (96 << 20, 500000000, 77)
    # unlimited pids is a weakening, shown as such; a limit again takes it back
    moat("update", "--pids-limit", "-1", cid, check=True)
    assert moat.inspect(cid)["MoatWeakenings"] == ["--pids-limit=-1"]
    assert limits(moat, cid)[1] == "max"
    moat("update", "--pids-limit", "500", cid, check=True)
    assert moat.inspect(cid)["MoatWeakenings"] == []
    # kept for the next start
    moat("stop", "-t", "1", cid, check=True)
    moat("update", "--pids-limit", "55", cid, check=True)
    moat("start", cid, check=True)
    assert limits(moat, cid) == (str(96 << 20), "55", "50000")
    # refused: nothing changes
    before = moat.inspect(cid)["HostConfig"]
    for args, rc in ((["--restart", "bogus"], 1), (["--blkio-weight", "500"], 125), ([], 1), (["-m", "1k"], 125),
                     (["--cpus", "-1"], 125), (["--memory-swap", "32m"], 1)):
        p = moat("update", *args, cid)
        assert p.returncode == rc and p.stderr, (args, p.returncode, p.stderr)
    assert moat.inspect(cid)["HostConfig"] == before
    assert limits(moat, cid) == (str(96 << 20), "55", "50000")
    assert moat("update", "-m", "64m", "no-such-container").returncode == 1


CPUSET = "cat /sys/fs/cgroup/cpuset/cpuset.cpus 2>/dev/null || cat /sys/fs/cgroup/cpuset.cpus"


@pytest.mark.v2
def test_cpuset_at_run_and_update(moat):
    p = moat("run", "--rm", "--cpuset-cpus", "0", "--cpuset-mems", "0", "busybox", "sh", "-c", CPUSET)
    assert p.returncode == 0 and p.stdout == "0\n", p.stderr
    cid = moat.run_d("--cpuset-cpus", "0", "busybox", "sleep", "1000")
    ncpu = os.cpu_count()
    last = "0-%d" % (ncpu - 1) if ncpu > 1 else "0"
    moat("update", "--cpuset-cpus", last, cid, check=True)
    assert moat("exec", cid, "sh", "-c", CPUSET, check=True).stdout == last + "\n"
    assert moat.inspect(cid)["HostConfig"]["CpusetCpus"] == last
    # refused, by us (syntax) or by the kernel (no such CPU): nothing changes
    for bad in ("a", "1-", str(ncpu + 7)):
        p = moat("update", "--cpuset-cpus", bad, cid)
        assert p.returncode == 1 and p.stderr, (bad, p.stderr)
    assert moat.inspect(cid)["HostConfig"]["CpusetCpus"] == last
    p = moat("run", "--rm", "--cpuset-cpus", str(ncpu + 7), "busybox", "true")
    assert p.returncode == 125 and "cpuset.cpus" in p.stderr, p.stderr


def test_update_restart_policy_of_a_running_container(moat):
    """The monitor of a running container follows a restart policy given by update."""
    cid = moat.run_d("busybox", "sh", "-c", "sleep 1; exit 3")
    moat("update", "--restart", "on-failure:2", cid, check=True)
    assert moat.inspect(cid)["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    moat.wait_for(lambda: moat.inspect(cid)["RestartCount"] == 2 and moat.state(cid)["Status"] == "exited",
                  timeout=30, what="two restarts, then exited")
    assert moat.state(cid)["ExitCode"] == 3
    rm = moat.run_d("--rm", "busybox", "sleep", "100")
    p = moat("update", "--restart", "always", rm)
    assert p.returncode == 1 and "AutoRemove" in p.stderr


def test_attach_and_container_prune(moat):
    cid = moat.run_d("busybox", "sh", "-c", "sleep 0.5; echo late; echo err >&2; exit 6")
    p = moat("attach", cid)
    assert (p.returncode, p.stdout, p.stderr) == (6, "late\n", "err\n")
    keep = moat.run_d("busybox", "sleep", "100")
    made = moat("create", "busybox", "true", check=True).stdout.strip()
    p = moat("container", "prune", check=True)
    assert cid in p.stdout and made in p.stdout and keep not in p.stdout
    assert moat.all_ids() == [keep[:12]] or moat.all_ids() == [keep]
    assert moat("container", "ls", "-q").stdout.strip() == keep[:12]
    for gone in (cid, made):
        moat.assert_clean(gone)


def test_named_volumes(moat):
    assert moat("run", "--rm", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f").returncode == 0
    p = moat("run", "--rm", "-v", "data:/data:ro", "busybox", "sh", "-c", "cat /data/f; touch /data/g || echo ro")
    assert p.stdout == "kept\nro\n"
    assert moat("volume", "ls", "-q").stdout.split() == ["data"]
    import json
    d = json.loads(moat("volume", "inspect", "data", check=True).stdout)[0]
    assert d["Name"] == "data" and d["Mountpoint"].startswith(moat.root)
    cid = moat("create", "-v", "data:/d", "busybox", "true", check=True).stdout.strip()
    moat.ids.add(cid)
    assert moat.inspect(cid)["MoatWeakenings"] == []  # a named volume gives nothing of the host
    p = moat("volume", "rm", "data")
    assert p.returncode == 1 and "in use" in p.stderr
    moat("rm", cid, check=True)
    assert moat("volume", "rm", "data").returncode == 0
    assert moat("volume", "ls", "-q").stdout == ""
    assert moat("run", "--rm", "-v", "../x:/d", "busybox", "true").returncode == 125


def test_volume_create_labels_and_refused_options(moat):
    import json
    assert moat("volume", "create", "--label", "team=a", "lab", "--label", "bare", check=True).stdout == "lab\n"
    d = json.loads(moat("volume", "inspect", "lab", check=True).stdout)[0]
    assert d["Labels"] == {"team": "a", "bare": ""}
    assert moat("volume", "create", "--name", "named2", check=True).stdout == "named2\n"
    anon = moat("volume", "create", check=True).stdout.strip()
    assert len(anon) == 64
    # refused, and nothing made
    for args in (["-d", "nfs", "x1"], ["-o", "type=tmpfs", "x2"], ["a1", "a2"], ["--bogus", "x3"]):
        p = moat("volume", "create", *args)
        assert p.returncode == 125, (args, p.stderr)
    for args in (["extra"], ["--filter", "bogus=1"], ["-f", "dangling=maybe"], ["-f", "name=("],
                 ["--format", "{{.Nope"]):
        assert moat("volume", "ls", *args).returncode == 125, args
    assert sorted(moat("volume", "ls", "-q").stdout.split()) == sorted(["lab", "named2", anon])


def test_volume_ls_filters_and_format(moat):
    import json
    moat("volume", "create", "--label", "team=a", "--label", "tier=db", "va", check=True)
    moat("volume", "create", "--label", "team=b", "vb", check=True)
    moat("volume", "create", "other", check=True)
    cid = moat("create", "-v", "vb:/d", "busybox", "true", check=True).stdout.strip()
    moat.ids.add(cid)

    def names(*args):
        return moat("volume", "ls", "-q", *args, check=True).stdout.split()
    assert names() == ["other", "va", "vb"]
    assert names("-f", "label=team") == ["va", "vb"]
    assert names("-f", "label=team=a") == ["va"]
    assert names("-f", "label=team", "-f", "label=tier=db") == ["va"]  # every label must hold
    assert names("-f", "name=^v") == ["va", "vb"]
    assert names("-f", "name=va", "-f", "name=other") == ["other", "va"]  # one key: alternatives
    assert names("-f", "dangling=true") == ["other", "va"]
    assert names("--filter", "dangling=false") == ["vb"]
    assert names("-f", "driver=local", "-f", "name=b$") == ["vb"]
    assert names("-f", "driver=nfs") == []
    out = moat("volume", "ls", check=True).stdout.splitlines()
    assert out[0].split() == ["DRIVER", "VOLUME", "NAME"] and out[1].split() == ["local", "other"]
    p = moat("volume", "ls", "-f", "name=^v", "--format", '{{.Name}}:{{.Label "team"}}:{{.Links}}', check=True)
    assert p.stdout == "va:a:0\nvb:b:1\n"
    rows = [json.loads(l) for l in moat("volume", "ls", "--format", "json", check=True).stdout.splitlines()]
    va = [r for r in rows if r["Name"] == "va"][0]
    assert va["Driver"] == "local" and va["Mountpoint"].startswith(moat.root)
    assert sorted(va["Labels"].split(",")) == ["team=a", "tier=db"]
    t = moat("volume", "ls", "--format", "table {{.Name}}\t{{.Labels}}", "-f", "name=other", check=True).stdout
    assert t.splitlines()[0].split() == ["VOLUME", "NAME", "LABELS"] and t.splitlines()[1].split() == ["other"]


def test_volumes_from(moat, tmp_path):
    """--volumes-from CONTAINER[:ro|:rw]: the same volumes (named and anonymous) and binds at the
    same targets, modes kept unless overridden; the user's own mount on a target wins; a shared
    anonymous volume outlives `rm -v` of its maker while another container uses it."""
    import json
    host = tmp_path / "hb"
    host.mkdir()
    (host / "f").write_text("from-host\n")
    src = moat("create", "--name", "src", "-v", "data:/data", "-v", "/anon", "-v", f"{host}:/hb:ro",
               "busybox", "true", check=True).stdout.strip()
    moat.ids.add(src)
    p = moat("run", "--rm", "--volumes-from", "src", "busybox", "sh", "-c",
             "echo x > /data/a && echo y > /anon/b && cat /hb/f && (touch /hb/z 2>/dev/null || echo hb-ro)")
    assert p.stdout == "from-host\nhb-ro\n", p.stderr
    p = moat("run", "--rm", "--volumes-from", "src:ro", "busybox", "sh", "-c",
             "cat /data/a /anon/b; touch /data/q 2>/dev/null || echo data-ro")
    assert p.stdout == "x\ny\ndata-ro\n", p.stderr
    c2 = moat("create", "--volumes-from", "src", "-v", "other:/data", "busybox", "true", check=True).stdout.strip()
    moat.ids.add(c2)
    d = moat.inspect(c2)
    by_dst = {m["Destination"]: m for m in d["Mounts"]}
    assert by_dst["/data"]["Name"] == "other"  # the user's mount wins
    anon = {m["Destination"]: m for m in moat.inspect(src)["Mounts"]}["/anon"]["Name"]
    assert by_dst["/anon"]["Name"] == anon and by_dst["/hb"]["Type"] == "bind" and not by_dst["/hb"]["RW"]
    assert d["HostConfig"]["VolumesFrom"] == ["src"]
    assert d["MoatWeakenings"] == [f"--volumes-from=src ({host}:/hb)"]  # the host bind, as with -v
    # src's anonymous volume stays while c2 uses it, without a complaint
    p = moat("rm", "-v", src)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert anon in moat("volume", "ls", "-q").stdout.split()
    for bad in ("nope", "src:xx", f"{c2}:rwx"):
        p = moat("run", "--rm", "--volumes-from", bad, "busybox", "true")
        assert p.returncode == 125 and "--volumes-from" in p.stderr, (bad, p.stderr)


def test_cp_both_ways_and_symlinks_stay_inside(moat, tmp_path):
    import os
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "f").write_text("a\n")
    (src / "sub" / "g").write_text("b\n")
    os.symlink("/etc/hostname", src / "link")
    cid = moat.run_d("busybox", "sh", "-c", "mkdir /out && echo inside > /out/x && ln -s / /out/root && "
                     "ln -s /etc/passwd /passwd-link && sleep 1000")
    moat.wait_for(lambda: moat("exec", cid, "test", "-e", "/out/root").returncode == 0, what="setup")
    assert moat("cp", str(src), f"{cid}:/tmp/").returncode == 0
    p = moat("exec", cid, "sh", "-c", "cat /tmp/src/f /tmp/src/sub/g; readlink /tmp/src/link")
    assert p.stdout == "a\nb\n/etc/hostname\n"
    back = tmp_path / "back"
    assert moat("cp", f"{cid}:/out", str(back)).returncode == 0
    assert (back / "x").read_text() == "inside\n"
    assert os.readlink(back / "root") == "/"  # copied as a link, not followed
    # a path through a symlink in the container resolves inside the container, never on the host
    p = moat("cp", f"{cid}:/out/root/etc/passwd", str(tmp_path / "pw"))
    assert p.returncode == 0
    assert (tmp_path / "pw").read_text() == moat("exec", cid, "cat", "/etc/passwd").stdout
    p = moat("cp", f"{cid}:/out/root/etc/shadow", str(tmp_path / "shadow"))
    assert p.returncode == 1 and not (tmp_path / "shadow").exists()  # busybox has none; the host's is not reached
    # writing into the container through its symlinks stays inside too
    one = tmp_path / "one"
    one.write_text("x\n")
    assert moat("cp", str(one), f"{cid}:/out/root/tmp/").returncode == 0
    assert not os.path.exists("/tmp/one") or open("/tmp/one").read() != "x\n"
    assert moat("exec", cid, "cat", "/tmp/one").stdout == "x\n"


def test_ps_filter(moat):
    import json
    a = moat.run_d("--name", "web", "-l", "tier=front", "-l", "team=x", "busybox", "sleep", "100")
    b = moat("run", "--name", "job", "-l", "tier=back", "busybox", "sh", "-c", "exit 3").stdout
    c = moat("create", "--name", "idle", "busybox", "true", check=True).stdout.strip()
    moat.ids.add(c)

    def names(*flags):
        p = moat("ps", "--format", "{{.Names}}", *flags)
        assert p.returncode == 0, p.stderr
        return sorted(p.stdout.split())

    assert names() == ["web"]
    assert names("-a") == ["idle", "job", "web"]
    assert names("-f", "status=exited") == ["job"]  # a status filter looks at every container
    assert names("-f", "status=exited", "-f", "status=created") == ["idle", "job"]
    assert names("-a", "-f", "exited=3") == ["job"] and names("-a", "-f", "exited=0") == []
    assert names("-a", "-f", "label=tier") == ["job", "web"]
    assert names("-a", "-f", "label=tier=front") == ["web"]
    assert names("-a", "-f", "label=tier", "-f", "label=team=x") == ["web"]  # every label must hold
    assert names("-a", "-f", "name=^jo") == ["job"] and names("-a", "-f", "name=^/idle$") == ["idle"]
    assert names("-a", "-f", "name=web", "-f", "name=idle") == ["idle", "web"]
    assert names("-a", "-f", f"id={a[:10]}") == ["web"]
    assert names("-a", "-f", "ancestor=busybox") == ["idle", "job", "web"]
    assert names("-a", "-f", "ancestor=nosuchimage") == []
    assert names("-a", "-f", "before=idle") == ["job", "web"] and names("-a", "-f", "since=web") == ["idle", "job"]
    assert names("-a", "-f", "health=none") == ["idle", "job", "web"] and names("-a", "-f", "health=healthy") == []
    assert moat("ps", "-aq", "-f", "status=running").stdout.strip() == a[:12]
    for bad, msg in (("foo=1", "invalid filter 'foo'"), ("status=sleeping", "status is one of"),
                     ("health=ok", "health is one of"), ("exited=x", "exit code"), ("nokey", "name=value"),
                     ("volume=v", "not supported yet"), ("before=nosuch", "No such container"),
                     ("name=(", "regular expression")):
        p = moat("ps", "-a", "-f", bad)
        assert p.returncode == 125 and msg in p.stderr and p.stdout == "", (bad, p.stderr)
    assert b == ""


def test_ps_format(moat):
    import json
    cid = moat.run_d("--name", "web", "-l", "b=2", "-l", "a=1", "-v", "vol:/data", "busybox", "sh", "-c",
                     "echo a very long command line; sleep 100")
    p = moat("ps", "--format", r'{{.ID}}\t{{.Names}}|{{.Label "a"}}|{{.Label "zz"}}|{{.Labels}}|{{.State}}')
    assert p.stdout == f"{cid[:12]}\tweb|1||a=1,b=2|running\n", p.stdout
    p = moat("ps", "--no-trunc", "--format", "{{.ID}} {{.Command}} {{.Mounts}} {{.Image}}")
    assert p.stdout == f'{cid} "sh -c echo a very long command line; sleep 100" vol busybox\n'
    assert moat("ps", "--format", "{{.Command}}").stdout == '"sh -c echo a very l…"\n'
    lines = moat("ps", "--format", r"table {{.Names}}\t{{.Status}}\t{{.Labels}}").stdout.splitlines()
    assert lines[0].split("   ")[0] == "NAMES" and lines[0].startswith("NAMES     STATUS")
    assert lines[1].startswith("web       Up ") and lines[1].endswith("a=1,b=2")
    assert lines[0].index("LABELS") == lines[1].index("a=1")
    d = json.loads(moat("ps", "--format", "json").stdout)
    assert d["ID"] == cid[:12] and d["Names"] == "web" and d["Labels"] == "a=1,b=2" and d["State"] == "running"
    assert d["Status"].startswith("Up ") and d["RunningFor"].endswith(" ago") and d["Mounts"] == "vol"
    assert json.loads(moat("ps", "--format", "{{json .}}").stdout) == d
    assert moat("ps", "--format", "{{json .Names}}").stdout == '"web"\n'
    lines = moat("ps", "--format", "table").stdout.splitlines()
    assert lines[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    assert moat("ps", "-q", "--format", "{{.Names}}").stdout.strip() == cid[:12]  # -q wins, as in docker
    for bad, msg in (("{{if .ID}}x{{end}}", "unsupported construct {{if .ID}}"),
                     ("{{.Names | upper}}", "unsupported construct"), ("{{range .}}", "unsupported"),
                     ("{{.Nope}}", "can't evaluate field Nope"), ("{{.Size}}", "can't evaluate field Size"),
                     ("{{.ID", "unclosed action"), ("{{.Label}}", "takes an argument")):
        p = moat("ps", "--format", bad)
        assert p.returncode == 125 and msg in p.stderr and p.stdout == "", (bad, p.stderr, p.stdout)
    for flag in ("-s", "--last=1", "-l"):
        p = moat("ps", flag)
        assert p.returncode == 125 and "not supported yet" in p.stderr


def test_inspect_format(moat):
    cid = moat("create", "--name", "box", "-l", "k=v", "busybox", "sh", "-c", "echo hi", check=True).stdout.strip()
    moat.ids.add(cid)
    p = moat("inspect", "-f", '{{.State.Status}} {{.Name}} {{index .Config.Labels "k"}}|{{index .Config.Labels "no"}}|'
             '{{.Config.Cmd}} {{index .Config.Cmd 2}} {{.State.Pid}} {{.HostConfig.Privileged}}', "box")
    assert p.returncode == 0 and p.stdout == "created /box v||[sh -c echo hi] echo hi 0 false\n", p.stdout
    assert moat("inspect", "--format", "{{json .Config.Labels}}", cid).stdout == '{"k":"v"}\n'
    assert moat("inspect", "-f", "{{.Id}}", "box", "box").stdout == f"{cid}\n{cid}\n"
    for bad, msg in (("{{.Config}}", "is an object: use {{json"), ("{{.Nope}}", "can't evaluate field Nope"),
                     ("{{printf \"%s\" .Id}}", "unsupported construct")):
        p = moat("inspect", "-f", bad, "box")
        assert p.returncode != 0 and msg in p.stderr and p.stdout == "", (bad, p.stderr)


def test_logs_since_until(moat):
    cid = moat.run_d("busybox", "sh", "-c", "for i in 1 2 3 4 5 6; do echo n$i; sleep 0.1; done; sleep 100")
    moat.wait_for(lambda: "n6" in moat("logs", cid).stdout, what="output")
    stamped = [l.split() for l in moat("logs", "-t", cid, check=True).stdout.splitlines()]
    assert [w for _, w in stamped] == ["n1", "n2", "n3", "n4", "n5", "n6"]
    t3 = stamped[2][0]

    def words(*flags):
        p = moat("logs", *flags, cid)
        assert p.returncode == 0, p.stderr
        return p.stdout.split()

    assert words("--since", t3) == ["n3", "n4", "n5", "n6"]  # both bounds are inclusive
    assert words("--until", t3) == ["n1", "n2", "n3"]
    assert words("--since", stamped[1][0], "--until", stamped[3][0]) == ["n2", "n3", "n4"]
    assert words("--since", t3, "--tail", "2") == ["n5", "n6"]  # tail first, then the range
    assert words("--since", stamped[4][0], "--tail", "4", "-t")[1::2] == ["n5", "n6"]
    assert words("--since", "1h") == [f"n{i}" for i in range(1, 7)]
    assert words("--since", "0") == [f"n{i}" for i in range(1, 7)]
    assert words("--until", "1h30m") == [] and words("--since", str(time.time() + 100)) == []
    # unix seconds with a fraction, and RFC3339 with an offset and a local time without one
    import datetime
    ts = datetime.datetime.fromisoformat(t3[:26] + "+00:00")
    assert words("--since", f"{ts.timestamp():.6f}") == ["n3", "n4", "n5", "n6"]
    assert words("--since", ts.astimezone(datetime.timezone(datetime.timedelta(hours=2))).isoformat()) == \
        ["n3", "n4", "n5", "n6"]
    assert words("--since", ts.astimezone().replace(tzinfo=None).isoformat()) == ["n3", "n4", "n5", "n6"]
    # -f stops at --until even while the container keeps running
    t = time.time()
    assert words("-f", "--until", f"{time.time() + 1:.3f}") == [f"n{i}" for i in range(1, 7)]
    assert time.time() - t < 5
    for bad in ("yesterday", "2024-13-01", "10x", "1.2.3", ""):
        for flag in ("--since", "--until"):
            p = moat("logs", flag, bad, cid)
            assert p.returncode == 125 and "invalid value for" in p.stderr and p.stdout == "", (flag, bad)
