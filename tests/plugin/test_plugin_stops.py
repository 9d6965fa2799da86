"""How the plugin's servers end, and what a test may not set: a shared server killed
between two tests is restarted for the next (a warning says so), one alive that will not
reset fails the test with one line; a Ctrl-C stops each server once, on its own SIGINT
(its --truth-out written, no warning of a crash); flags the plugin sets itself (--port,
--host...) in the marker's ``args`` are one clear error, not a server elsewhere."""

from __future__ import annotations

import json

import pytest

from pollsim.live_server import _own_flags_refused

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.live

KILLED_IN_THE_RESET = """
import os
import pathlib
import signal
import time


def record(name, server):
    with pathlib.Path("pids.txt").open("a") as f:
        f.write(f"{name} {server.pid}\\n")


def test_1_arms_a_kill_in_the_next_reset(pollsim_shared_server):
    record("first", pollsim_shared_server)
    server = pollsim_shared_server
    reset = server.client.reset

    def killed_then_reset():  # the server dies after the fixture's look, before its reset
        os.kill(server.pid, signal.SIGKILL)
        while pathlib.Path(f"/proc/{server.pid}/stat").read_text().split()[2] != "Z":
            time.sleep(0.01)
        return reset()

    server.client.reset = killed_then_reset


def test_2_gets_a_server_that_answers(pollsim_shared_server):
    record("second", pollsim_shared_server)
    assert pollsim_shared_server.client.health()["speed"] > 0
"""


def test_a_shared_server_killed_before_its_reset_is_restarted_with_a_warning(
    run_user_suite, pytester
):
    result = run_user_suite(KILLED_IN_THE_RESET)
    result.assert_outcomes(passed=2, warnings=1)
    pids = dict(line.split() for line in (pytester.path / "pids.txt").read_text().splitlines())
    assert pids["first"] != pids["second"]
    result.stdout.fnmatch_lines(
        [
            f"*pollsim_shared_server: pollsim serve (pid {pids['first']}, http://127.0.0.1:*) "
            "had exited with status -9 before this test's reset (*); started another.*"
        ]
    )


HUNG_IN_THE_RESET = """
def test_1_breaks_the_next_reset(pollsim_shared_server):
    def refused():
        raise ConnectionRefusedError("no answer")

    pollsim_shared_server.client.reset = refused


def test_2_is_not_handed_a_server_it_cannot_trust(pollsim_shared_server):
    pass
"""


def test_a_live_shared_server_that_will_not_reset_fails_the_test_in_one_line(run_user_suite):
    result = run_user_suite(HUNG_IN_THE_RESET, "-rE")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*pollsim_shared_server: pollsim serve (pid *, http://127.0.0.1:*) is running but "
            "could not be reset for this test: no answer"
        ]
    )
    assert "pytest_plugin.py" not in result.stdout.str()


CTRL_C = """
import os
import signal

import pytest

# as in a terminal's foreground (a shell's background job starts with SIGINT ignored)
signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.mark.pollsim(speed=20, args=["--truth-out", "truth.json"])
def test_interrupted(pollsim_server):
    pollsim_server.client.submit(outcome="succeed", duration="10s")
    # Ctrl-C: the terminal sends SIGINT to its whole process group, the server too
    os.kill(pollsim_server.pid, signal.SIGINT)
    os.kill(os.getpid(), signal.SIGINT)
"""


def test_ctrl_c_stops_the_server_once_and_keeps_its_truth_out(run_user_suite, pytester):
    result = run_user_suite(CTRL_C)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    out = result.stdout.str()
    assert "KeyboardInterrupt" in out
    assert "pollsim serve (pid" not in out, out[-3000:]  # no warning of a crash
    truth = json.loads((pytester.path / "truth.json").read_text())
    submitted = {"dialect": "ordo", "http_status": 201, "count": 1}
    assert submitted in truth["totals"]["requests"], truth["totals"]


ARGS = """
import pytest

@pytest.mark.pollsim(args=["--port", "8080"])
def test_a_port(pollsim_server):
    pass

@pytest.mark.pollsim(args=["--host=0.0.0.0"])
def test_a_host(pollsim_server):
    pass
"""


def test_the_flags_the_plugin_sets_itself_are_refused_in_args(run_user_suite):
    result = run_user_suite(ARGS, "-rE")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*pollsim_server: args: '--port': pollsim serve's --port is set by "
            "start_server itself (it takes a free port; read the server's .url)*",
            "*pollsim_server: args: '--host=0.0.0.0': pollsim serve's --host is set by "
            "start_server itself (it always listens on 127.0.0.1)*",
        ]
    )


@pytest.mark.parametrize(
    ("args", "flag"),
    [(["--po", "1"], "--port"), (["--speed=3"], "--speed"), (["--token", "a=b"], "--token")],
)
def test_an_abbreviated_or_other_own_flag_is_refused(args, flag):
    with pytest.raises(ValueError, match=f"pollsim serve's {flag} is set by start_server"):
        _own_flags_refused(args)


def test_other_flags_pass(tmp_path):
    flags = ["--background", "--truth-out", str(tmp_path / "t.json"), "--start-in=1"]
    assert _own_flags_refused(flags) == flags
