"""Landlock from annotations (issue 3, item 8): org.moat.landlock.ro / .rw limit the container's
filesystem access to those paths, for the first process and for exec alike."""
import os

import pytest

from escape_helpers import rt  # noqa: F401  (fixture)

SCRIPT = ("cat /etc/passwd >/tmp/ok-read && echo READ-ETC; "
          "cat /root/secret && echo READ-ROOT; "
          "echo x > /tmp/new && echo WROTE-TMP; "
          "echo x > /etc/new && echo WROTE-ETC; "
          "ls /mnt && echo LISTED-MNT")


def landlock_bundle(rt):
    b = rt.bundle()
    b.config["root"]["readonly"] = False
    with open(os.path.join(b.rootfs, "root", "secret"), "w") as f:
        f.write("secret\n")
    b.config["annotations"] = {"org.moat.landlock.ro": "/bin,/etc", "org.moat.landlock.rw": "/tmp"}
    return b


def check(out):
    assert "READ-ETC" in out and "WROTE-TMP" in out, out
    assert "READ-ROOT" not in out and "WROTE-ETC" not in out and "LISTED-MNT" not in out, out


def test_landlock_limits_first_process(rt):
    b = landlock_bundle(rt)
    b.args("sh", "-c", SCRIPT)
    r = rt.run(b)
    check(r.stdout)
    assert "Permission denied" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(b.rootfs, "etc", "new"))


def test_landlock_applies_to_exec(rt):
    b = landlock_bundle(rt)
    cid = rt.start_sleeper(b)
    r = rt.exec(cid, "sh", "-c", SCRIPT)
    check(r.stdout)


def test_without_annotation_no_landlock(rt):
    b = landlock_bundle(rt)
    del b.config["annotations"]
    b.args("sh", "-c", SCRIPT)
    r = rt.run(b)
    assert "READ-ROOT" in r.stdout and "WROTE-ETC" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("value", ["bin", "/bin,relative"])
def test_bad_annotation_refused_at_create(rt, value):
    b = landlock_bundle(rt)
    b.config["annotations"]["org.moat.landlock.ro"] = value
    b.args("true")
    r = rt.run(b)
    assert r.returncode != 0
    assert "org.moat.landlock.ro" in r.stderr and "absolute" in r.stderr, r.stderr


def test_missing_path_refused(rt):
    b = landlock_bundle(rt)
    b.config["annotations"]["org.moat.landlock.rw"] = "/tmp,/does-not-exist"
    b.args("true")
    r = rt.run(b)
    assert r.returncode != 0 and "/does-not-exist" in r.stderr, r.stderr
