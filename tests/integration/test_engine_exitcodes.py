"""docker's exit codes for the moat command line (docs/ENGINE.md "Verbs"): --help is 0 with the
usage on stdout, a bad flag 125, a missing argument 1, an unknown container (an engine error) 1."""
import pytest

from engine_helpers import moat  # noqa: F401

VERBS = ["run", "create", "start", "stop", "kill", "rm", "ps", "logs", "exec", "wait", "restart", "pause",
         "unpause", "rename", "update", "top", "stats", "attach", "cp", "diff", "events", "info", "version", "inspect",
         "images", "rmi", "history", "load", "save", "import", "tag", "pull", "push", "login", "logout",
         "volume", "system", "image", "container", "container prune", "image ls", "system df"]

# the verb, then its arguments with "nosuch" where a container goes
ON_A_CONTAINER = [["stop", "nosuch"], ["start", "nosuch"], ["kill", "nosuch"], ["rm", "nosuch"],
                  ["restart", "nosuch"], ["pause", "nosuch"], ["unpause", "nosuch"], ["wait", "nosuch"],
                  ["logs", "nosuch"], ["inspect", "nosuch"], ["top", "nosuch"], ["rename", "nosuch", "other"], ["update", "-m", "64m", "nosuch"],
                  ["diff", "nosuch"], ["attach", "nosuch"], ["stats", "--no-stream", "nosuch"],
                  ["exec", "nosuch", "true"], ["cp", "nosuch:/etc/hostname", "/tmp/moat-exitcodes-x"]]

NEED_ARGS = ["start", "stop", "kill", "rm", "restart", "pause", "unpause", "wait", "logs", "inspect", "top",
             "rename", "update", "diff", "attach", "exec", "cp", "run", "create", "rmi", "history", "tag", "pull", "save"]


@pytest.mark.parametrize("verb", VERBS)
def test_help_is_0_on_stdout(moat, verb):
    p = moat(*verb.split(), "--help")
    assert p.returncode == 0 and p.stdout.startswith("Usage: moat "), (p.stdout, p.stderr)


@pytest.mark.parametrize("args", ON_A_CONTAINER, ids=lambda a: a[0])
def test_unknown_container_is_1(moat, args):
    p = moat(*args)
    assert p.returncode == 1 and ("No such container" in p.stderr or "No such object" in p.stderr), p.stderr
    # docker's words, and only them (not "...: No such file or directory" after them)
    assert p.stderr.rstrip().endswith(("No such container: nosuch", "No such object: nosuch")), p.stderr


@pytest.mark.parametrize("verb", NEED_ARGS)
def test_missing_argument_is_1(moat, verb):
    p = moat(verb)
    assert p.returncode == 1 and "requires" in p.stderr and f"moat {verb} --help" in p.stderr, p.stderr


@pytest.mark.parametrize("args", ON_A_CONTAINER, ids=lambda a: a[0])
def test_bad_flag_is_125(moat, args):
    p = moat(args[0], "--no-such-flag", *args[1:])
    assert p.returncode == 125 and f"moat {args[0]} --help" in p.stderr, p.stderr


def test_top_level(moat):
    assert moat("no-such-verb").returncode == 1
    assert moat("--no-such-flag", "ps").returncode == 125
    p = moat("--help")
    assert p.returncode == 0 and "Commands:" in p.stdout
    assert moat("image", "nope").returncode == 1 and moat("volume", "nope").returncode == 1
    assert moat("system", "nope").returncode == 1 and moat("container", "nope").returncode == 1


def test_exec_in_a_stopped_container_is_1(moat):
    cid = moat("create", "busybox", "true", check=True).stdout.strip()
    moat.ids.add(cid)
    p = moat("exec", cid, "true")
    assert p.returncode == 1 and "is not running" in p.stderr
    # and --help of a group verb runs nothing: container prune --help prunes no container
    assert moat("container", "prune", "--help").returncode == 0
    assert moat.inspect(cid)["Id"] == cid


def test_bad_flag_values(moat):
    cid = moat("create", "busybox", "true", check=True).stdout.strip()
    moat.ids.add(cid)
    for args in (["stop", "-t", "x", cid], ["logs", "--tail", "x", cid], ["logs", "--since", "yesterday", cid],
                 ["ps", "-f", "nokey"], ["exec", "--privileged", cid, "true"]):
        assert moat(*args).returncode == 125, args
