"""Devices (issue 3, item 5): nodes are made in the container's /dev, and the allow list is
enforced by the kernel: the devices cgroup on v1, the eBPF device program on v2 (these tests are
marked v2, so `make check-v2` runs them on a pure cgroup v2 host too)."""
import os

import pytest

from escape_helpers import rt  # noqa: F401  (fixture)

# /dev/kmsg: in every kernel, and opening it write-only needs no capability, so only the device
# rules decide (nothing is written to it)
KMSG = {"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 0o222}


def caps_with(config, cap):
    for k in ("bounding", "effective", "permitted"):
        config["process"]["capabilities"][k].append(cap)


@pytest.mark.v2
def test_node_not_in_allow_list_cannot_be_opened(rt):
    b = rt.bundle()
    b.config["linux"]["devices"] = [KMSG]
    b.args("sh", "-c", "stat -c '%t:%T' /dev/kmsg; exec 3>/dev/kmsg && echo OPENED")
    r = rt.run(b)
    assert "1:b" in r.stdout, r.stdout + r.stderr  # the node is there (1:11 in hex)
    assert "OPENED" not in r.stdout
    assert "Operation not permitted" in r.stderr, r.stderr


@pytest.mark.v2
def test_node_in_allow_list_opens(rt):
    b = rt.bundle()
    b.config["linux"]["devices"] = [KMSG]
    b.config["linux"]["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 1, "minor": 11, "access": "w"})
    b.args("sh", "-c", "exec 3>/dev/kmsg && echo OPENED")
    r = rt.run(b)
    assert r.returncode == 0 and "OPENED" in r.stdout, r.stdout + r.stderr


@pytest.mark.v2
def test_mknod_with_cap_mknod_still_denied(rt):
    b = rt.bundle()
    caps_with(b.config, "CAP_MKNOD")
    b.args("sh", "-c", "grep CapEff /proc/self/status; mknod /dev/mem c 1 1 && echo MADE; "
                       "head -c 1 /dev/mem >/dev/null && echo READ; mknod /dev/sda0 b 8 0 && echo MADE-BLOCK")
    r = rt.run(b)
    assert "MADE" not in r.stdout and "READ" not in r.stdout, r.stdout + r.stderr
    assert "Operation not permitted" in r.stderr, r.stderr


def test_image_device_node_is_replaced(rt, tmp_path):
    """A node (or anything) at a configured device path in the image is replaced by the node the
    config names, never reused."""
    b = rt.bundle()
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != "/dev"
                          and not m["destination"].startswith("/dev/")]
    os.mknod(os.path.join(b.rootfs, "dev", "kmsg"), 0o666 | 0o020000, os.makedev(1, 1))  # /dev/mem where the config says kmsg
    b.config["linux"]["devices"] = [KMSG]
    b.args("stat", "-c", "%t:%T", "/dev/kmsg")
    r = rt.run(b)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "1:b"
