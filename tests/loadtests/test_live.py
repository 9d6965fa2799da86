"""The live client (the simulated pollers' own logic, driven by real HTTP) against a real
``pollsim serve``: what it counts must be what the server's ground truth counts."""

from __future__ import annotations

import math
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from loadtests.live import ScaledNow, needs_project, poll_one
from sim.dialects import DIALECTS, GENERIC, JobState
from sim.scenario import load_scenario
from sim.strategies import parse_strategy
from tests.mock_server.server import ADMIN, QA, TOKENS, call, start

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def server():
    s = start(10)
    yield s
    s.stop()


def http_for(server, token="tok-a", trips: list | None = None):
    """An ``Http`` over urllib; the wall seconds of each round trip go to ``trips``."""

    def http(method, path, body, headers):
        h = {"Authorization": f"Bearer {token}", **headers}
        req = urllib.request.Request(server.url + path, data=body, method=method, headers=h)
        began = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()
        finally:
            if trips is not None:
                trips.append(time.monotonic() - began)

    return http


def clock_of(server) -> ScaledNow:
    health = call(server, "GET", "/healthz", token=None).json
    return ScaledNow(health["speed"], health["epoch"])


#: the tenant of the token the tests' client sends ("alpha=tok-a"): its project
TENANT = TOKENS[0].split("=")[0]


@pytest.mark.parametrize("name", list(DIALECTS))
def test_a_live_client_counts_what_the_server_counts(server, name):
    """Each dialect as its object says: submitted where it says, the new job found where
    its answer names it (a body, a header), polled at its status path (under the
    tenant's project where the path names one), its answers read back."""
    dialect = DIALECTS[name]
    clock = clock_of(server)
    trips: list[float] = []
    outcome = poll_one(
        http_for(server, trips=trips),
        time.sleep,
        clock,
        parse_strategy("fixed(3)"),
        np.random.default_rng(1),
        dialect=dialect,
        client=f"live-{name}",
        submit={"template": "chain", "outcome": "transient_failures:1"},
        project=TENANT if needs_project(dialect) else "",
        seed=load_scenario(QA).seed,
    )
    record = outcome.record
    assert record.seen_state == "succeeded" and not record.gave_up
    report = call(server, "GET", "/_admin/report", token=ADMIN).json
    (row,) = [r for r in report["jobs"] if r["client"] == f"live-{name}"]
    # the job the client names is the server's: its shown id read back to the server's
    assert row["job_id"] == outcome.job_id and outcome.job_id.isdigit()
    assert dialect.show_id(int(outcome.job_id), load_scenario(QA).seed) == outcome.shown_id
    assert row["polls"] == record.polls
    if dialect is GENERIC:  # its words alone: no end time shown, no latency measured
        assert outcome.finished_at is None and outcome.latency is None
        return
    # the server takes its time as it answers, the client as the answer arrives: they
    # differ by at most the longest round trip measured (simulated seconds, speed 10)
    slowest = max(trips) * 10 + 0.01
    assert -0.01 <= outcome.latency - row["detection_latency_s"] <= slowest
    # seen within one interval (3 s, from the previous answer) and a round trip of the end
    assert 0 <= outcome.latency < 3 + 2 * slowest
    if dialect.jobs[JobState.RETRY_WAIT] != dialect.jobs[JobState.RUNNING]:  # shows the retry
        assert row["wasted_polls"] == record.wasted_polls


def test_a_strategy_that_gives_up_stops_asking(server):
    trips: list[float] = []
    outcome = poll_one(
        http_for(server, trips=trips),
        time.sleep,
        clock_of(server),
        parse_strategy("fixed(2) | after_delay(10)"),
        np.random.default_rng(1),
        client="impatient",
        submit={"template": "chain", "duration": "5m"},
    )
    assert outcome.record.gave_up and outcome.latency is None
    # every 2 s from the last answer until 10 s are watched: at 0, 2, 4, 6 and 8 s, each
    # later by the round trips before it (simulated seconds, speed 10)
    slowest = max(trips) * 10
    assert math.ceil(10 / (2 + slowest)) <= outcome.record.polls <= 5
