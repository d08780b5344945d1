"""docker-archive interchange with the real docker: an archive from `moat save` loads into dockerd
and runs there, and one from `docker save` loads into moat and runs there. The test starts its own
dockerd (no iptables, no bridge, every path in a temporary directory) and stops it, by PID."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from registry import moat, moat_root  # noqa: F401 (fixture)

DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"


@pytest.fixture(scope="module")
def dockerd():
    if not (os.path.exists(DOCKERD) and shutil.which("docker")):
        pytest.skip("dockerd is not installed (scripts/install-deps.sh installs docker.io)")
    d = tempfile.mkdtemp(prefix="moat-dockerd-")
    # dockerd makes a "docker" parent cgroup in every hierarchy for its containers; the ones that
    # were not there before are ours to remove afterwards
    parents_before = set(docker_parent_cgroups())
    sock = os.path.join(d, "docker.sock")
    log = open(os.path.join(d, "log"), "w")
    proc = subprocess.Popen([DOCKERD, "--iptables=false", "--ip6tables=false", "--bridge=none",
                             "--storage-driver=overlay2", "--data-root", os.path.join(d, "data"),
                             "--exec-root", os.path.join(d, "exec"), "--pidfile", os.path.join(d, "pid"),
                             "-H", "unix://" + sock], stdout=log, stderr=log)
    env = dict(os.environ, DOCKER_HOST="unix://" + sock)
    deadline = time.time() + 30
    while time.time() < deadline:
        if subprocess.run(["docker", "version"], env=env, capture_output=True).returncode == 0:
            break
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    else:
        proc.kill()
    if proc.poll() is not None:
        pytest.fail("dockerd did not start: " + open(os.path.join(d, "log")).read()[-2000:])
    try:
        yield env
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        with open("/proc/self/mountinfo") as f:
            mps = [l.split()[4] for l in f if l.split()[4].startswith(d)]
        for mp in reversed(mps):
            subprocess.run(["umount", "-l", mp], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)
        for cg in set(docker_parent_cgroups()) - parents_before:
            try:
                os.rmdir(cg)  # empty once dockerd's containers are gone; never forced
            except OSError:
                pass


def docker_parent_cgroups():
    root = "/sys/fs/cgroup"
    out = [os.path.join(root, "docker")] if os.path.exists(os.path.join(root, "cgroup.controllers")) else \
        [os.path.join(root, h, "docker") for h in os.listdir(root)
         if not os.path.islink(os.path.join(root, h)) and os.path.isdir(os.path.join(root, h))]
    return [p for p in out if os.path.isdir(p)]


def docker(env, *args, timeout=120):
    return subprocess.run(["docker"] + list(args), env=env, capture_output=True, text=True, timeout=timeout)


def test_moat_save_loads_and_runs_in_docker(dockerd, moat_root, tmp_path):  # noqa: F811
    archive = str(tmp_path / "busybox.tar")
    r = moat(moat_root, "save", "-o", archive, "busybox")
    assert r.returncode == 0, r.stderr
    r = docker(dockerd, "load", "-i", archive)
    assert r.returncode == 0 and "busybox" in r.stdout, r.stdout + r.stderr
    r = docker(dockerd, "run", "--rm", "--network", "none", "busybox", "echo", "ran-in-docker")
    assert r.returncode == 0 and r.stdout.strip() == "ran-in-docker", r.stdout + r.stderr


def test_docker_save_loads_and_runs_in_moat(dockerd, moat_root, tmp_path):  # noqa: F811
    # an image docker built itself (so its layer and config are docker's, not ours)
    src = tmp_path / "ctx"
    src.mkdir()
    (src / "Dockerfile").write_text("FROM busybox\nRUN echo made-by-docker > /marker\n")
    r = moat(moat_root, "save", "-o", str(tmp_path / "base.tar"), "busybox")
    assert r.returncode == 0, r.stderr
    assert docker(dockerd, "load", "-i", str(tmp_path / "base.tar")).returncode == 0
    r = docker(dockerd, "build", "--network", "none", "-t", "moat-test/fromdocker:1", str(src), timeout=180)
    if r.returncode != 0:
        pytest.skip("docker build is not usable here: " + (r.stderr or r.stdout)[-300:])
    archive = str(tmp_path / "fromdocker.tar")
    r = docker(dockerd, "save", "-o", archive, "moat-test/fromdocker:1")
    assert r.returncode == 0, r.stderr
    r = moat(moat_root, "load", "-i", archive)
    assert r.returncode == 0, r.stderr
    r = moat(moat_root, "run", "--rm", "moat-test/fromdocker:1", "cat", "/marker")
    assert r.returncode == 0 and r.stdout.strip() == "made-by-docker", r.stdout + r.stderr
