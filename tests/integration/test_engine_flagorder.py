"""Where flags may stand on the moat command line (docs/ENGINE.md "Verbs"): as in docker (pflag),
anywhere among a verb's arguments, "--" ending them; except for run, create and exec, whose
flags end at IMAGE / CONTAINER because what follows is the command's."""
import pytest

from engine_helpers import moat  # noqa: F401


def running(moat):
    # SIGTERM ends it with 3 (SIGKILL, kill's default, with 137)
    cid = moat.run_d("busybox", "sh", "-c", "trap 'exit 3' TERM; echo first; echo last; sleep 1000 & wait")
    moat.wait_for(lambda: moat("logs", cid).stdout == "first\nlast\n", what="the container's output")
    return cid


# the arguments ({c}: the container) with a flag after the container, and what shows it was taken
AFTER = {
    "stop": (["stop", "{c}", "-t", "0"], lambda m, c, p: p.stdout == f"{c}\n" and not m.state(c)["Running"]),
    "stop --": (["stop", "-t", "0", "--", "{c}"], lambda m, c, p: not m.state(c)["Running"]),
    "kill": (["kill", "{c}", "-s", "TERM"], lambda m, c, p: m.wait_for(lambda: m.state(c)["ExitCode"] == 3) is None),
    "restart": (["restart", "{c}", "--time", "0"], lambda m, c, p: m.state(c)["Running"]),
    "rm": (["rm", "{c}", "-f"], lambda m, c, p: c not in m.all_ids()),
    "logs": (["logs", "{c}", "--tail", "1"], lambda m, c, p: p.stdout == "last\n"),
    "logs -t": (["logs", "{c}", "-n", "1", "-t"], lambda m, c, p: p.stdout.endswith("Z last\n")),
    "inspect": (["inspect", "{c}", "-f", "{{.Id}}"], lambda m, c, p: p.stdout == f"{c}\n"),
    "stats": (["stats", "{c}", "--no-stream"], lambda m, c, p: c[:12] in p.stdout),
}


@pytest.mark.parametrize("case", AFTER, ids=str)
def test_flags_after_the_arguments(moat, case):
    args, taken = AFTER[case]
    cid = running(moat)
    p = moat(*[a.replace("{c}", cid) for a in args], timeout=30)
    assert p.returncode == 0, (args, p.stdout, p.stderr)
    assert taken(moat, cid, p), (args, p.stdout, p.stderr)


@pytest.mark.parametrize("args", [["ps", "-a", "x"], ["ps", "x", "-a"]], ids=str)
def test_an_argument_anywhere_is_still_an_argument(moat, args):
    p = moat(*args)
    assert p.returncode == 1 and "accepts no arguments" in p.stderr, p.stderr


@pytest.mark.parametrize("verb", ["rm", "wait", "stop"])
def test_double_dash_ends_the_flags(moat, verb):
    # after "--" a dash-led word is a container name, not a flag (125 would be a bad flag)
    p = moat(verb, "--", "-f")
    assert p.returncode == 1 and "No such container: -f" in p.stderr, p.stderr
    assert "No such container: --" not in p.stderr, p.stderr


def test_a_bad_flag_after_the_arguments_is_125(moat):
    p = moat("stop", "nosuch", "--no-such-flag")
    assert p.returncode == 125 and "moat stop --help" in p.stderr, p.stderr


def test_run_gives_what_follows_the_image_to_the_command(moat):
    p = moat("run", "--rm", "busybox", "ls", "-l", "/bin/busybox")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("-rwx") and p.stdout.rstrip().endswith("/bin/busybox"), p.stdout
    # run's own flags after IMAGE are the command's words too
    p = moat("run", "--rm", "busybox", "echo", "--rm", "-d", "--", "-t")
    assert p.returncode == 0 and p.stdout == "--rm -d -- -t\n", (p.stdout, p.stderr)


def test_create_and_exec_give_what_follows_to_the_command(moat):
    # create refuses -d as its flag; after IMAGE it is the command's
    cid = moat("create", "busybox", "echo", "-d", check=True).stdout.strip()
    moat.ids.add(cid)
    assert moat.inspect(cid)["Config"]["Cmd"] == ["echo", "-d"]
    cid = running(moat)
    p = moat("exec", cid, "ls", "-l", "-d", "/")
    assert p.returncode == 0 and p.stdout.startswith("drwx") and p.stdout.rstrip().endswith(" /"), (p.stdout,
                                                                                                 p.stderr)
