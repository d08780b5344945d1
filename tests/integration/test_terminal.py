"""A foreground `run` with process.terminal and no console socket: the runtime allocates the pty
inside the container and proxies it to its own terminal, and the exit code comes through."""
import shutil
import subprocess

import pytest


@pytest.mark.skipif(not shutil.which("script"), reason="needs script(1) from util-linux")
def test_foreground_terminal_proxy(rt):
    b = rt.bundle(["sh", "-c", "tty; echo out-through-pty; exit 7"])
    b.process["terminal"] = True
    b.write()
    cmd = "%s --root %s run --bundle %s %s" % (rt.binary, rt.root, b.path, b.cid)
    log = rt.tmp / "typescript"
    r = subprocess.run(["script", "-qec", cmd, str(log)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 7, r.stdout + r.stderr
    text = log.read_text(errors="replace")
    assert "out-through-pty" in text
    assert "/dev/pts/" in text
