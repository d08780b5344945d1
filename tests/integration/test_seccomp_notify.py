"""Seccomp user notification (SCMP_ACT_NOTIFY): the runtime hands the listener fd to the agent at
linux.seccomp.listenerPath together with the container's state (the OCI seccomp agent protocol)."""
import json
import os
import socket
import threading


def _agent(path, got):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(30)

    def serve():
        try:
            conn, _ = srv.accept()
            msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 4)
            got["msg"] = json.loads(msg)
            got["fds"] = fds
            # Closing the listener: the notified syscall then fails (ENOSYS) instead of hanging.
            for fd in fds:
                os.close(fd)
            conn.close()
        finally:
            srv.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t


def test_seccomp_notify_listener_reaches_agent(rt):
    path = os.path.join(str(rt.tmp), "agent.sock")
    got = {}
    t = _agent(path, got)
    b = rt.bundle(["sh", "-c", "mkdir /notified; echo rc=$?"])
    b.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": path,
        "listenerMetadata": "meta-1",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}],
    }
    r = rt.run_container(b)
    t.join(30)
    assert r.returncode == 0, r.stderr
    assert "msg" in got, "the agent got nothing"
    msg = got["msg"]
    assert msg["fds"] == ["seccompFd"] and len(got["fds"]) == 1
    assert msg["metadata"] == "meta-1"
    assert msg["state"]["id"] == b.cid and msg["pid"] > 0
    # the agent closed the listener without answering: mkdir must not have succeeded
    assert "rc=0" not in r.stdout
    assert not os.path.exists(os.path.join(b.rootfs, "notified"))
