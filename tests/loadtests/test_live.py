"""The live client (the simulated pollers' own logic, driven by real HTTP) against a real
``pollsim serve``: what it counts must be what the server's ground truth counts."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from loadtests.live import ScaledNow, canonical_words, poll_one
from sim.strategies import parse_strategy
from tests.mock_server.server import ADMIN, call, start


@pytest.fixture(scope="module")
def server():
    s = start(10)
    yield s
    s.stop()


def http_for(server, token="tok-a"):
    def http(method, path, body, headers):
        h = {"Authorization": f"Bearer {token}", **headers}
        req = urllib.request.Request(server.url + path, data=body, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()

    return http


def clock_of(server) -> ScaledNow:
    health = call(server, "GET", "/healthz", token=None).json
    return ScaledNow(health["speed"], health["epoch"])


def test_words_map_back_to_the_first_canonical_state():
    assert canonical_words("fiddler")["RETRY"] == "retry_wait"
    assert canonical_words("ordo")["running"] == "running"
    assert canonical_words("generic")["pending"] == "queued"


@pytest.mark.parametrize("dialect", ["ordo", "fiddler", "workflow"])
def test_a_live_client_counts_what_the_server_counts(server, dialect):
    clock = clock_of(server)
    outcome = poll_one(
        http_for(server),
        time.sleep,
        clock,
        parse_strategy("fixed(3)"),
        np.random.default_rng(1),
        dialect=dialect,
        client=f"live-{dialect}",
        submit={"template": "chain", "outcome": "transient_failures:1"},
    )
    record = outcome.record
    assert record.seen_state == "succeeded" and not record.gave_up
    report = call(server, "GET", "/_admin/report", token=ADMIN).json
    (row,) = [r for r in report["jobs"] if r["client"] == f"live-{dialect}"]
    assert row["polls"] == record.polls
    # both in simulated seconds; 50 ms of wall time is half a simulated second here
    assert outcome.latency == pytest.approx(row["detection_latency_s"], abs=0.5)
    assert 0 <= outcome.latency < 3 + 0.5  # seen within one interval of the end
    if dialect == "fiddler":  # the one dialect that shows the retry
        assert row["wasted_polls"] == record.wasted_polls


def test_a_strategy_that_gives_up_stops_asking(server):
    outcome = poll_one(
        http_for(server),
        time.sleep,
        clock_of(server),
        parse_strategy("fixed(2) | after_delay(10)"),
        np.random.default_rng(1),
        client="impatient",
        submit={"template": "chain", "duration": "5m"},
    )
    assert outcome.record.gave_up and outcome.latency is None
    assert outcome.record.polls == 5
