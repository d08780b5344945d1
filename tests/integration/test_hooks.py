"""OCI hooks: the six stages in order, each given the state on stdin; failure and timeout."""
import json
import os
import time

import pytest

from conftest import IS_MOAT, assert_no_trace, xfail_on_runc

STAGES = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]

HOOK = """#!/bin/sh
# $1 = stage, $2 = log dir
cat > "$2/$1.json"
env > "$2/$1.env"
echo "$1" >> "$2/order"
"""


def setup_hooks(rt, b, stages=STAGES):
    logdir = rt.tmp / "hooklog"
    logdir.mkdir()
    host_hook = rt.tmp / "hook.sh"
    host_hook.write_text(HOOK)
    os.chmod(host_hook, 0o755)
    # startContainer's path resolves in the container (after pivot_root): a copy in the rootfs,
    # logging through a bind mount of the same log dir.
    with open(os.path.join(b.rootfs, "hook.sh"), "w") as f:
        f.write(HOOK)
    os.chmod(os.path.join(b.rootfs, "hook.sh"), 0o755)
    b.add_mount("/hooklog", "bind", str(logdir), ["rbind", "rw"])
    hooks = {}
    for s in stages:
        if s == "startContainer":
            hooks[s] = [{"path": "/hook.sh", "args": ["hook.sh", s, "/hooklog"]}]
        else:
            hooks[s] = [{"path": str(host_hook), "args": ["hook.sh", s, str(logdir)],
                         "env": ["HOOKVAR=%s" % s]}]
    b.config["hooks"] = hooks
    return logdir


RUNC_POSTSTART = xfail_on_runc(
    "1.1.5 runs poststart hooks during `create` (before startContainer and before `start`), "
    "against the runtime-spec. Its order is prestart, createRuntime, createContainer, poststart, startContainer, poststop")


@RUNC_POSTSTART
def test_all_six_hooks_in_order(rt):
    b = rt.bundle(["true"])
    logdir = setup_hooks(rt, b)
    r = rt.run_container(b)
    assert r.returncode == 0, r.stderr
    assert (logdir / "order").read_text().split() == STAGES


def test_all_six_hooks_get_state_on_stdin(rt):
    b = rt.bundle(["true"])
    logdir = setup_hooks(rt, b)
    r = rt.run_container(b)
    assert r.returncode == 0, r.stderr
    assert sorted((logdir / "order").read_text().split()) == sorted(STAGES)
    statuses = {}
    for s in STAGES:
        st = json.loads((logdir / (s + ".json")).read_text())
        assert st["id"] == b.cid, (s, st)
        assert os.path.realpath(st["bundle"]) == os.path.realpath(b.path), (s, st)
        assert "ociVersion" in st and "status" in st, (s, st)
        if s != "poststop":
            assert st.get("pid", 0) > 0, (s, st)
        statuses[s] = st["status"]
    # runc 1.1.5 reports: prestart/createRuntime/createContainer "creating", startContainer
    # "created", poststart "created" (it runs it during create), poststop "stopped".
    assert statuses["poststop"] == "stopped", statuses
    assert statuses["createRuntime"] == "creating", statuses
    # Hook env is exactly what the config says.
    env = (logdir / "createRuntime.env").read_text()
    assert "HOOKVAR=createRuntime" in env


@RUNC_POSTSTART
def test_hooks_with_create_start_delete(rt):
    """With separate verbs: create runs the first three, start the next two, delete poststop."""
    b = rt.bundle(["sleep", "100"])
    logdir = setup_hooks(rt, b)
    rt.create(b)
    assert (logdir / "order").read_text().split() == STAGES[:3]
    rt.ok("start", b.cid)
    assert (logdir / "order").read_text().split() == STAGES[:5]
    rt.ok("kill", b.cid, "KILL")
    rt.wait_status(b.cid, "stopped")
    rt.ok("delete", b.cid)
    assert (logdir / "order").read_text().split() == STAGES


@pytest.mark.parametrize("stage", ["prestart", "createRuntime", "createContainer"])
def test_failing_hook_fails_create(rt, stage):
    b = rt.bundle(["true"])
    hook = rt.tmp / "fail.sh"
    hook.write_text("#!/bin/sh\necho hook-said-no >&2\nexit 3\n")
    os.chmod(hook, 0o755)
    b.config["hooks"] = {stage: [{"path": str(hook), "args": ["fail.sh"]}]}
    r = rt.create(b, check=False)
    assert r.returncode != 0
    assert_no_trace(rt, b.cid)
    if IS_MOAT:
        assert stage in r.stderr


def test_hook_timeout(rt):
    b = rt.bundle(["true"])
    hook = rt.tmp / "slow.sh"
    hook.write_text("#!/bin/sh\nexec sleep 5\n")
    os.chmod(hook, 0o755)
    b.config["hooks"] = {"createRuntime": [{"path": str(hook), "args": ["slow.sh"], "timeout": 1}]}
    t0 = time.monotonic()
    r = rt.create(b, check=False)
    elapsed = time.monotonic() - t0
    assert r.returncode != 0
    assert elapsed < 4.5, "the runtime waited for the hook instead of timing out"
    assert_no_trace(rt, b.cid)
    if IS_MOAT:
        assert "timed out" in r.stderr or "timeout" in r.stderr


@RUNC_POSTSTART
def test_failing_poststart_hook(rt):
    """A failing poststart hook makes `start` fail (runtime-spec: log a warning is also allowed, but
    runc 1.2 and crun fail the start); create must succeed since poststart has not run yet."""
    b = rt.bundle(["sleep", "100"])
    hook = rt.tmp / "fail.sh"
    hook.write_text("#!/bin/sh\nexit 1\n")
    os.chmod(hook, 0o755)
    b.config["hooks"] = {"poststart": [{"path": str(hook), "args": ["fail.sh"]}]}
    rt.create(b)
    r = rt("start", b.cid)
    assert r.returncode != 0


def test_failing_poststop_hook_does_not_block_delete(rt):
    """A failing poststop hook is logged but delete still removes the container (runc ignores it)."""
    b = rt.bundle(["true"])
    hook = rt.tmp / "fail.sh"
    hook.write_text("#!/bin/sh\nexit 1\n")
    os.chmod(hook, 0o755)
    b.config["hooks"] = {"poststop": [{"path": str(hook), "args": ["fail.sh"]}]}
    rt.run_container(b)
    assert rt.list_ids() == []
