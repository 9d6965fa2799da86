"""The simulated pollers' own logic, driven by real HTTP against a real ``pollsim serve``
with a 503 outage: a strategy that stops on an error after its request-level retries
(``on_error='stop'``) ends its watch errored, and the server's ground truth grades it
errored too, on the same requests."""

from __future__ import annotations

import time

import numpy as np
import pytest

from loadtests.live import poll_one
from sim.strategies import parse_strategy
from tests.loadtests.test_live import clock_of, http_for
from tests.mock_server.server import ADMIN, call, start, with_tables

pytestmark = pytest.mark.live

SPEED = 20.0
OUTAGE = """
[server]
outages = [{ start = "10s", duration = "1h", mode = "503" }]
"""
SDK = "poll(fixed(2), first=0, retries=retries(2, on=[503], wait=fixed(1)), on_error='stop')"


def test_a_live_client_that_stops_on_errors_is_errored_by_its_own_count_and_the_servers(
    tmp_path,
):
    server = start(SPEED, scenario=with_tables(tmp_path, OUTAGE))
    try:
        clock = clock_of(server)
        outcome = poll_one(
            http_for(server),
            time.sleep,
            clock,
            parse_strategy(SDK),
            np.random.default_rng(1),
            client="sdk",
            submit={"template": "chain", "duration": "1h"},
        )
        other = call(server, "POST", "/ordo/jobs", {"duration": "1h"}).headers["Location"]
        while clock.now() < 60:  # another client asks on, well past the stop
            call(server, "GET", other, headers={"X-Client-Id": "other"})
            time.sleep(5 / SPEED)
        until = call(server, "GET", "/healthz", token=None).json["now"]
        report = call(server, "GET", f"/_admin/report?until={until}", token=ADMIN).json
    finally:
        server.stop()
    record = outcome.record
    assert record.errored and not record.gave_up and record.seen_state is None
    (row,) = [r for r in report["jobs"] if r["client"] == "sdk"]
    assert row["errored"] and not row["gave_up"] and not row["unfinished"]
    # its last poll met the outage: the request and its two retries, each a 503
    assert row["polls"] == record.polls and row["injected_errors"] == 3 == record.errors
    assert report["totals"]["errored"] == 1
