"""moat run as a user runs it: output, exit codes, --rm, defaults, refused flags, the isolation probe."""
import json
import os
import socket

import pytest

from engine_helpers import PROBE, moat  # noqa: F401


@pytest.mark.v2
def test_run_rm_echo_hello(moat):
    p = moat("run", "--rm", "busybox", "echo", "hello")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "hello\n"
    assert moat.all_ids() == []


@pytest.mark.v2
def test_rm_leaves_no_mount_cgroup_or_state(moat):
    cid = moat.run_d("--rm", "busybox", "sleep", "1")
    from engine_helpers import cgroups_of, mounts_under
    # while it runs, there is something to clean up
    assert cgroups_of(cid), "no cgroup /moat/<id> while running"
    assert [m for m in mounts_under(moat.root) if cid in m]
    moat.wait_for(lambda: cid not in moat.all_ids(), timeout=15, what="--rm removal")
    moat.assert_clean(cid)
    assert os.listdir(os.path.join(moat.root, "containers")) == []
    # and the attached form
    p = moat("run", "--rm", "busybox", "hostname")
    assert p.returncode == 0
    assert os.listdir(os.path.join(moat.root, "containers")) == []
    assert mounts_under(moat.root) == []


def test_exit_codes(moat):
    assert moat("run", "--rm", "busybox", "sh", "-c", "exit 3").returncode == 3
    assert moat("run", "--rm", "busybox", "true").returncode == 0
    # killed by a signal: 128 + the signal, as a shell reports it
    cid = moat.run_d("busybox", "sleep", "100")
    assert moat("kill", cid).returncode == 0
    assert moat("wait", cid, check=True).stdout == "137\n"
    assert moat.state(cid)["ExitCode"] == 137
    moat("rm", cid, check=True)
    p = moat("run", "--rm", "busybox", "no-such-command")
    assert p.returncode == 127
    assert "no-such-command" in p.stderr
    assert moat.all_ids() == []


def test_stdout_stderr_and_stdin(moat):
    p = moat("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert (p.stdout, p.stderr) == ("out\n", "err\n")
    p = moat("run", "--rm", "-i", "busybox", "sh", "-c", "tr a-z A-Z", input="piped in\n")
    assert p.stdout == "PIPED IN\n"
    # without -i the container's stdin is empty
    p = moat("run", "--rm", "busybox", "cat", input="ignored\n")
    assert p.returncode == 0 and p.stdout == ""


def test_tty(moat):
    p = moat("run", "--rm", "-t", "busybox", "sh", "-c", "tty && echo $TERM")
    assert p.returncode == 0, p.stderr
    assert p.stdout.replace("\r", "").splitlines() == ["/dev/pts/0", "xterm"]


def test_flags_env_workdir_user_entrypoint(moat, tmp_path):
    envf = tmp_path / "env"
    envf.write_text("# comment\nFROMFILE=yes\n")
    p = moat("run", "--rm", "-e", "A=1", "--env-file", envf, "-w", "/tmp", "-u", "nobody", "busybox",
             "sh", "-c", "echo $A $FROMFILE $(pwd) $(id -u):$(id -g) $HOSTNAME")
    assert p.returncode == 0, p.stderr
    a, f, wd, ids, hn = p.stdout.split()
    assert (a, f, wd, ids) == ("1", "yes", "/tmp", "65534:65534")
    assert len(hn) == 12
    p = moat("run", "--rm", "--entrypoint", "echo", "busybox", "via", "entrypoint")
    assert p.stdout == "via entrypoint\n"
    p = moat("run", "--rm", "-u", "1234:5678", "busybox", "sh", "-c", "echo $(id -u):$(id -g)")
    assert p.stdout == "1234:5678\n"
    p = moat("run", "--rm", "-u", "nosuchuser", "busybox", "true")
    assert p.returncode == 125 and "nosuchuser" in p.stderr
    p = moat("run", "--rm", "--hostname", "box", "busybox", "hostname")
    assert p.stdout == "box\n"


def test_user_lookup_does_not_follow_symlinks_out_of_the_root(moat, tmp_path):
    # an image whose /etc/passwd points at the host's: the name must not resolve through it
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    (rootfs / "bin").mkdir()
    os.symlink("/etc/passwd", rootfs / "etc" / "passwd")
    import shutil
    import subprocess
    shutil.copy("/bin/busybox", rootfs / "bin" / "busybox")
    os.symlink("busybox", rootfs / "bin" / "sh")
    tar = tmp_path / "img.tar"
    subprocess.run(["tar", "-C", rootfs, "-cf", tar, "."], check=True)
    with open(tar, "rb") as f:
        p = moat("import", "-", "evil:1", input=None) if False else None
    p = moat("import", str(tar), "evil:1")
    assert p.returncode == 0, p.stderr
    # "daemon" exists in the host's /etc/passwd (uid 1); RESOLVE_IN_ROOT turns the absolute
    # symlink into <rootfs>/etc/passwd, which does not exist
    p = moat("run", "--rm", "-u", "daemon", "evil:1", "sh", "-c", "true")
    assert p.returncode == 125, p.stdout + p.stderr
    assert "daemon" in p.stderr


def test_read_only_and_tmpfs(moat):
    p = moat("run", "--rm", "--read-only", "--tmpfs", "/scratch", "busybox", "sh", "-c",
             "touch /x 2>/dev/null && echo wrote-root; touch /scratch/y && echo wrote-tmpfs")
    assert p.stdout == "wrote-tmpfs\n", p.stderr
    p = moat("run", "--rm", "busybox", "sh", "-c", "touch /x && echo wrote-root")
    assert p.stdout == "wrote-root\n"


@pytest.mark.v2
def test_defaults_match_the_baseline(moat):
    p = moat("run", "--rm", "busybox", "sh", "-c",
             "grep -E '^(CapBnd|CapEff|CapInh|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status; "
             "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max")
    assert p.returncode == 0, p.stderr
    st = dict(l.split(":\t") for l in p.stdout.splitlines()[:-1])
    assert st["CapBnd"] == st["CapEff"] == "00000000800405fb"  # Moat's 11
    assert st["CapInh"] == st["CapAmb"] == "0000000000000000"
    assert st["NoNewPrivs"] == "1"
    assert st["Seccomp"] == "2"
    assert p.stdout.splitlines()[-1] == "2048"
    # the network namespace is the container's own: only loopback
    p = moat("run", "--rm", "busybox", "ls", "/sys/class/net")
    assert p.stdout.split() == ["lo"]


def test_weakening_flags_show_in_the_process_and_inspect(moat):
    p = moat("run", "--rm", "--cap-drop", "ALL", "--cap-add", "NET_RAW", "busybox", "grep", "CapEff", "/proc/self/status")
    assert p.stdout.split()[1] == "0000000000002000"
    p = moat("run", "--rm", "--security-opt", "seccomp=unconfined", "busybox", "grep", "^Seccomp:", "/proc/self/status")
    assert p.stdout.split()[1] == "0"
    cid = moat.run_d("--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined", "busybox", "true")
    d = moat.inspect(cid)
    assert "seccomp=unconfined" in d["HostConfig"]["SecurityOpt"]
    assert d["HostConfig"]["CapAdd"] == ["SYS_ADMIN"]
    assert "CAP_SYS_ADMIN" in d["EffectiveCaps"]
    # the user namespace stays Moat's own: a capability added there is not one on the host
    assert d["HostConfig"]["UsernsMode"] == ""
    assert d["MoatUserns"]["Size"] == 65536


@pytest.mark.v2
def test_resources(moat):
    p = moat("run", "--rm", "-m", "64m", "--pids-limit", "100", "--cpus", "0.5", "busybox", "sh", "-c",
             "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max "
             "/sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/memory.max "
             "/sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max")
    assert p.returncode == 0, p.stderr
    out = p.stdout.split()
    assert out[0] == str(64 << 20) and out[1] == "100" and out[2] in ("50000", "50000 100000")


def test_refused_flags(moat):
    for args, word in [(["-p", "8080:80"], "publish"), (["--network", "bridge"], "bridge"),
                       (["--userns", "auto"], "userns"), (["--volumes-from", "other"], "volumes-from"),
                       (["--security-opt", "apparmor=x"], "apparmor"), (["--no-such-flag"], "")]:
        p = moat("run", "--rm", *args, "busybox", "true")
        assert p.returncode == 125, (args, p.stderr)
        assert word in p.stderr, (args, p.stderr)
    assert moat("run", "--rm", "--restart", "always", "busybox", "true").returncode == 125
    assert moat.all_ids() == []


def test_network_host(moat):
    p = moat("run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net")
    assert sorted(p.stdout.split()) == sorted(os.listdir("/sys/class/net"))


@pytest.mark.v2
def test_bind_mount_and_isolation_probe(moat):
    """The confinement issue's probe passes inside a container started with no flags."""
    d = os.path.dirname(PROBE)
    p = moat("run", "--rm", "-v", f"{d}:/probe:ro", "busybox", "/probe/moat-probe", "--not-hostname",
             socket.gethostname(), "--pids-fork", timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "# " in p.stdout and " 0 failed" in p.stdout


def test_privileged_gets_what_the_host_has(moat):
    host_bnd = [l for l in open("/proc/self/status") if l.startswith("CapBnd:")][0].split()[1]
    p = moat("run", "--rm", "--privileged", "busybox", "sh", "-c",
             "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status")
    assert p.returncode == 0, p.stderr
    st = dict(l.split(":\t") for l in p.stdout.splitlines())
    assert int(st["CapEff"], 16) == int(host_bnd, 16)
    assert st["NoNewPrivs"] == "0" and st["Seccomp"] == "0"
    p = moat("run", "--rm", "--cap-add", "ALL", "busybox", "grep", "CapEff", "/proc/self/status")
    assert int(p.stdout.split()[1], 16) == int(host_bnd, 16)
