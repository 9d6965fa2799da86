"""The ``pollsim_server`` fixtures as a user meets them: a test file of theirs, run by
pytest in its own process with the plugin loaded from its entry point, passes against a
real ``pollsim serve``; every server it started is gone when the run ends; a server that
cannot start is one clear error with what it said, not a hang."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from pollsim.admin_client import submit_path
from pollsim.live_server import ServerStartError, _await_banner
from tests.plugin.helpers import alive

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.live

USES_THE_SERVER = '''
import pathlib

import pytest

SCENARIO = """
name = "tiny"

[[templates]]
name = "one"

[[templates.steps]]
id = "only"
duration = "2s"
"""


def record(server):
    with pathlib.Path("pids.txt").open("a") as f:
        f.write(f"{server.pid}\\n")


@pytest.mark.pollsim(speed=20, tokens={"alpha": "tok-a", "beta": "tok-b"}, admin_token="adm-1")
def test_a_server_of_its_own(pollsim_server):
    record(pollsim_server)
    assert pollsim_server.tokens == {"alpha": "tok-a", "beta": "tok-b"}
    assert pollsim_server.token == "tok-a" and pollsim_server.admin_token == "adm-1"
    assert pollsim_server.client.health()["speed"] == 20
    job = pollsim_server.client.submit(outcome="succeed", duration="1s")["job"]["id"]
    seen = pollsim_server.client.call("GET", f"/ordo/jobs/{job}", token="tok-a")
    assert seen.status == 200
    other = pollsim_server.client.call("GET", f"/ordo/jobs/{job}", token="tok-b")
    assert other.status == 404  # beta's token does not see alpha's job
    rows = pollsim_server.client.report()["jobs"]
    assert [(r["client"], r["job_id"], r["polls"]) for r in rows] == [("alpha:token#1", job, 1)]


@pytest.mark.pollsim(faults={"rate_limit": {"rate": 1, "burst": 2}})
def test_the_markers_faults_are_in_force(pollsim_server):
    record(pollsim_server)
    assert pollsim_server.client.faults()["rate_limit"] == {"rate": 1.0, "burst": 2}
    job = pollsim_server.client.submit()["job"]["id"]
    token = pollsim_server.token
    answers = [pollsim_server.client.call("GET", f"/ordo/jobs/{job}", token=token)
               for _ in range(2)]
    assert [a.status for a in answers] == [200, 429]
    assert answers[1].headers["Retry-After"] == "1"


def test_a_factory_starts_several(pollsim_server_factory):
    first = pollsim_server_factory(speed=5)
    second = pollsim_server_factory(scenario=SCENARIO, speed=7)
    record(first)
    record(second)
    assert first.url != second.url and first.token != second.token
    assert first.client.health()["speed"] == 5 and second.client.health()["speed"] == 7
    job = second.client.submit(template="one")["job"]["id"]
    assert second.client.call("GET", f"/ordo/jobs/{job}", token=second.token).status == 200
    with pytest.raises(ValueError, match=r"pollsim report exited 2: pollsim: --assert"):
        second.check("polls <")  # an assertion pollsim report cannot read
    assert "polls" in second.check("polls >= 1")  # its PASS line
'''


def test_a_users_tests_pass_and_leave_no_server(run_user_suite, pytester):
    result = run_user_suite(USES_THE_SERVER)
    result.assert_outcomes(passed=3)
    pids = [int(p) for p in (pytester.path / "pids.txt").read_text().split()]
    assert len(set(pids)) == 4
    assert not [p for p in pids if alive(p)], "a server outlived the run"


def test_the_speed_comes_from_the_command_line_unless_the_marker_says(run_user_suite):
    source = """
import pytest

def test_default(pollsim_server):
    assert pollsim_server.client.health()["speed"] == 12.5

@pytest.mark.pollsim(speed=3)
def test_marked(pollsim_server):
    assert pollsim_server.client.health()["speed"] == 3
"""
    run_user_suite(source, "--pollsim-speed", "12.5").assert_outcomes(passed=2)


FAILS_TO_START = """
import pytest

@pytest.mark.pollsim(scenario="no_such_scenario.toml")
def test_a_missing_scenario(pollsim_server):
    pass

@pytest.mark.pollsim(faults={"errors": {"418": 0.5}})
def test_a_fault_the_server_cannot_inject(pollsim_server):
    pass

@pytest.mark.pollsim(sped=10)
def test_a_misspelt_option(pollsim_server):
    pass

@pytest.mark.pollsim(tokens={"alpha": "a token with spaces"})
def test_a_bad_token(pollsim_server):
    pass
"""


def test_a_server_that_cannot_start_is_one_clear_error(run_user_suite):
    result = run_user_suite(FAILS_TO_START, "-rE")
    result.assert_outcomes(errors=4)
    out = result.stdout.str()
    # each with what the server (or the plugin) said, and no traceback of the plugin's
    result.stdout.fnmatch_lines(
        [
            "*pollsim_server: pollsim serve exited with status 2 before listening: "
            "pollsim: *no_such_scenario.toml*",
        ]
    )
    assert "refused the faults" in out and "418" in out and "not a status" in out
    assert "@pytest.mark.pollsim: unknown option sped; expected scenario, faults" in out
    assert "token 'a token with spaces': expected text without spaces" in out
    assert "pytest_plugin.py" not in out and "live_server.py" not in out


def test_a_server_gone_before_the_tests_end_is_a_warning_with_what_it_wrote(run_user_suite):
    source = """
import os
import signal

def test_kills_its_server(pollsim_server):
    os.kill(pollsim_server.pid, signal.SIGKILL)
    pollsim_server.process.wait(10)

def test_stops_its_server(pollsim_server):
    assert pollsim_server.stop() == 0  # stopped on purpose: no warning
"""
    result = run_user_suite(source)
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*pollsim serve (pid *, http://127.0.0.1:*) had exited before its test's end, "
            "with status -9; it wrote: pollsim serve: listening on*",
        ]
    )


def test_a_server_that_never_listens_is_stopped_within_the_bound(tmp_path):
    """Bounded wait: a child that prints no banner is ended once the time is up, and the
    error says how long was waited."""
    (tmp_path / "stdout.txt").write_text("")
    with (tmp_path / "stdout.txt").open("wb") as out:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], stdout=out)
    with pytest.raises(ServerStartError, match=r"did not listen within 0\.5 s \(stopped it\)"):
        _await_banner(child, tmp_path, 0.5)
    assert child.poll() is not None, "the child was not stopped"
    assert child.returncode < 0  # ended by our signal, not by its own sleep running out


def test_submit_knows_each_dialects_route():
    from mock_server.app import entry
    from sim.dialects import DIALECTS

    assert {n: entry(d) for n, d in DIALECTS.items()} == {
        n: submit_path(n, "{project}").replace("%7Bproject%7D", "{project}") for n in DIALECTS
    }
    assert submit_path(None, "qa") == entry(DIALECTS["ordo"])
    assert submit_path("google-lro", "a/b") == "/v1/projects/a%2Fb/jobs"
    with pytest.raises(ValueError, match="dialect 'soap': expected one of ordo"):
        submit_path("soap", "qa")


def test_loading_the_plugin_imports_nothing_else():
    """The entry point loads in every pytest run: past pytest itself, it must cost
    nothing until a test asks for a fixture (the server and client modules, urllib,
    subprocess are imported then)."""
    probe = (
        "import sys, pytest; before = set(sys.modules); import pollsim.pytest_plugin; "
        "print(sorted(set(sys.modules) - before))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = set(ast.literal_eval(done.stdout))
    assert "pollsim.pytest_plugin" in loaded
    heavy = ("sim", "mock_server", "loadtests", "numpy", "pandas", "urllib", "http", "ssl")
    assert not {m for m in loaded if m.split(".")[0] in heavy}
    assert {m for m in loaded if m.startswith("pollsim.")} == {"pollsim.pytest_plugin"}
