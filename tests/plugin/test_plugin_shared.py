"""``pollsim_shared_server``: one server for a session's tests that share a scenario,
reset before each (``POST /_admin/reset``), so that the second test sees no trace of the
first (jobs, ground truth, request journal, faults); another scenario or speed gets a
server of its own; none outlives the session."""

from __future__ import annotations

import pytest

from tests.plugin.helpers import alive

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.live

TWO_TESTS = """
import pathlib

import pytest

pytestmark = pytest.mark.pollsim(speed=20, tokens={"alpha": "tok-a"})


def record(name, server):
    with pathlib.Path("pids.txt").open("a") as f:
        f.write(f"{name} {server.pid}\\n")


@pytest.mark.pollsim(faults={"rate_limit": {"rate": 5, "burst": 5}})
def test_1_leaves_traces(pollsim_shared_server):
    s = pollsim_shared_server
    record("first", s)
    assert s.client.faults()["rate_limit"] == {"rate": 5.0, "burst": 5}
    job = s.client.submit(outcome="succeed", duration="1s")["job"]["id"]
    assert s.client.call("GET", f"/ordo/jobs/{job}", token="tok-a").status == 200
    assert [r["job_id"] for r in s.client.report()["jobs"]] == [job]
    assert s.client.requests()["count"] >= 1
    other = {"X-Client-Id": "other"}
    assert s.client.call("GET", f"/ordo/jobs/{job}", token="tok-a", headers=other).status == 200
    assert {r["client"] for r in s.client.report(client="other")["jobs"]} == {"other"}
    both = s.client.report(client=["other", "alpha:token#1"])["jobs"]
    assert {r["client"] for r in both} == {"other", "alpha:token#1"}
    assert {r["client"] for r in s.client.requests(client="other")["requests"]} == {"other"}
    assert s.client.jobs()["count"] == 1
    pathlib.Path("job.txt").write_text(job)


def test_2_sees_none_of_them(pollsim_shared_server):
    s = pollsim_shared_server
    record("second", s)
    assert s.client.faults()["rate_limit"] is None  # the scenario's faults again
    assert s.client.report()["jobs"] == []
    assert s.client.requests()["count"] == 0
    assert s.client.jobs()["count"] == 0
    old = pathlib.Path("job.txt").read_text()
    assert s.client.call("GET", f"/ordo/jobs/{old}", token="tok-a").status == 404


@pytest.mark.pollsim(speed=10)
def test_3_another_speed_another_server(pollsim_shared_server):
    record("third", pollsim_shared_server)
    assert pollsim_shared_server.client.health()["speed"] == 10
"""


def test_a_reset_between_two_tests_leaves_no_trace(run_user_suite, pytester):
    result = run_user_suite(TWO_TESTS)
    result.assert_outcomes(passed=3)
    pids = dict(line.split() for line in (pytester.path / "pids.txt").read_text().splitlines())
    assert pids["first"] == pids["second"], "the first two tests share one server"
    assert pids["third"] != pids["first"], "another speed is another server"
    assert not [p for p in pids.values() if alive(int(p))], "a server outlived the session"
