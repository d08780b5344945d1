"""The command line outside the container lifecycle: spec, features, --version, logging, usage
errors. Callers (containerd's go-runc, podman, dockerd) depend on these shapes."""
import json
import os
import shutil

import pytest

from conftest import IS_MOAT, RUNTIME, run


def test_version():
    r = run([RUNTIME, "--version"])
    assert r.returncode == 0
    first = r.stdout.splitlines()[0]
    assert " version " in first, first
    # go-runc parses "spec: X" from this output.
    assert [l for l in r.stdout.splitlines() if l.startswith("spec: ")], r.stdout


def test_spec_writes_config(tmp_path):
    r = run([RUNTIME, "spec", "--bundle", str(tmp_path)])
    assert r.returncode == 0, r.stderr
    c = json.loads((tmp_path / "config.json").read_text())
    assert c["ociVersion"].startswith("1.")
    assert c["process"]["args"] == ["sh"]
    assert c["root"]["path"] == "rootfs"
    types = {n["type"] for n in c["linux"]["namespaces"]}
    assert {"pid", "mount", "ipc", "uts", "network"} <= types
    assert "user" not in types
    # A second spec refuses to overwrite.
    r = run([RUNTIME, "spec", "--bundle", str(tmp_path)])
    assert r.returncode != 0
    assert "exists" in r.stderr


def test_spec_in_cwd(tmp_path):
    r = run([RUNTIME, "spec"], cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "config.json").exists()


def test_spec_rootless(tmp_path):
    r = run([RUNTIME, "spec", "--rootless", "--bundle", str(tmp_path)])
    assert r.returncode == 0, r.stderr
    c = json.loads((tmp_path / "config.json").read_text())
    types = {n["type"] for n in c["linux"]["namespaces"]}
    assert "user" in types  # (runc also drops the network namespace; not required)
    assert c["linux"]["uidMappings"][0]["containerID"] == 0
    assert c["linux"]["uidMappings"][0]["hostID"] == os.getuid()
    assert c["linux"]["gidMappings"][0]["size"] == 1
    assert "resources" not in c["linux"] or not c["linux"]["resources"].get("devices")


def test_features():
    r = run([RUNTIME, "features"])
    assert r.returncode == 0, r.stderr
    f = json.loads(r.stdout)
    assert f["ociVersionMin"].startswith("1.0")
    assert f["ociVersionMax"].startswith("1.")
    assert set(f["hooks"]) >= {"prestart", "createRuntime", "createContainer", "startContainer",
                               "poststart", "poststop"}
    assert {"bind", "rbind", "ro", "nosuid", "nodev", "noexec", "rslave", "rprivate"} <= set(f["mountOptions"])
    ns = f["linux"]["namespaces"]
    assert {"pid", "network", "mount", "ipc", "uts", "cgroup", "user"} <= set(ns)
    if IS_MOAT:
        assert "time" in ns
        assert f["ociVersionMax"].startswith("1.2")


def test_unknown_command_fails():
    r = run([RUNTIME, "no-such-verb"])
    assert r.returncode != 0


def test_missing_id_is_a_usage_error(rt):
    for verb in ("state", "start", "delete", "kill", "pause", "resume", "ps", "exec"):
        r = rt(verb)
        assert r.returncode != 0, verb
        assert r.stderr.strip(), verb  # runc: `"ps" requires exactly 1 argument(s)`


def test_log_file_json(rt):
    """containerd passes --log FILE --log-format json and reads the error from FILE."""
    log = rt.tmp / "runtime.log"
    r = run([rt.binary, "--root", rt.root, "--log", str(log), "--log-format", "json", "state", "nope"])
    assert r.returncode == 1
    entries = [json.loads(l) for l in log.read_text().splitlines() if l.strip()]
    errs = [e for e in entries if e.get("level") == "error"]
    assert errs and "does not exist" in errs[-1]["msg"], entries


def test_log_format_text_default(rt):
    r = rt("state", "nope")
    assert r.returncode == 1
    assert "does not exist" in r.stderr


@pytest.mark.skipif(not IS_MOAT, reason="runc 1.1.5 has no --cgroup-manager flag")
@pytest.mark.parametrize("flags", [["--systemd-cgroup"], ["--cgroup-manager", "systemd"]])
def test_systemd_cgroup_refused(rt, flags):
    b = rt.bundle(["true"])
    b.write()
    r = run([rt.binary, "--root", rt.root] + flags + ["run", "--bundle", b.path, b.cid])
    assert r.returncode != 0
    assert "systemd" in r.stderr
    assert rt.list_ids() == []


@pytest.mark.skipif(not IS_MOAT, reason="runc accepts --rootless true (it ignores cgroup errors)")
def test_rootless_true_refused_auto_accepted(rt):
    """--rootless true would ask for cgroup permission errors to be ignored, which moat-runtime never
    does: refused, not silently accepted. false and auto describe what it does."""
    r = run([rt.binary, "--root", rt.root, "--rootless", "true", "list"])
    assert r.returncode != 0 and "--rootless true" in r.stderr
    for v in ("false", "auto"):
        assert run([rt.binary, "--root", rt.root, "--rootless", v, "list"]).returncode == 0


@pytest.mark.skipif(not IS_MOAT, reason="runc 1.1.5 has no --cgroup-manager flag")
def test_cgroup_manager_disabled(rt):
    b = rt.bundle(["sh", "-c", "cat /proc/self/cgroup"])
    b.write()
    r = run([rt.binary, "--root", rt.root, "--cgroup-manager", "disabled", "run", "--bundle", b.path, b.cid])
    assert r.returncode == 0, r.stderr
    assert b.cid not in r.stdout


@pytest.mark.skipif(not shutil.which("runc"), reason="runc not installed")
def test_runs_the_config_of_runc_spec(rt):
    """Tools hand runtimes configs made by `runc spec` (or from it). Such a config runs unchanged,
    apart from args, terminal and an absolute root path. Note: runc 1.1's spec lists ambient
    capabilities (CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE) that are not in an inheritable
    set; the kernel cannot raise them, and runc and crun skip them without an error."""
    b = rt.bundle(["sh", "-c", "echo ran"])
    d = rt.tmp / "runc-spec"
    d.mkdir()
    r = run([shutil.which("runc"), "spec", "--bundle", str(d)])
    assert r.returncode == 0, r.stderr
    c = json.loads((d / "config.json").read_text())
    c["process"]["args"] = ["sh", "-c", "echo ran"]
    c["process"]["terminal"] = False
    c["root"]["path"] = b.rootfs
    c["linux"]["cgroupsPath"] = b.config["linux"]["cgroupsPath"]
    b.config = c
    r = rt.run_container(b)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ran\n"
