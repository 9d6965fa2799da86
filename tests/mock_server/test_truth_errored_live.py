"""A real ``pollsim serve`` with a 503 outage, graded against clients over real HTTP: one
that stops at the first 503 errored on its job, in the report's row, its client's
summary and the totals; one that stops at its own count of polls before the outage gave
up. (The simulated pollers' own client with ``on_error='stop'``:
tests/loadtests/test_errored_live.py.)"""

from __future__ import annotations

import time

import pytest

from tests.mock_server.server import ADMIN, call, start, with_tables

pytestmark = pytest.mark.live

SPEED = 20.0  #: simulated seconds per wall second
OUTAGE = """
[server]
outages = [{ start = "10s", duration = "1h", mode = "503" }]
"""


def now(server) -> float:
    return call(server, "GET", "/healthz", token=None).json["now"]


def watch(server, where: str, client: str, every: float, most: int) -> list[int]:
    """Ask every ``every`` simulated seconds until an error answer or ``most`` requests
    (the jobs here run an hour): the statuses answered."""
    statuses = []
    while len(statuses) < most:
        answer = call(server, "GET", where, headers={"X-Client-Id": client})
        statuses.append(answer.status)
        if answer.status != 200:
            break
        time.sleep(every / SPEED)
    return statuses


def test_a_client_that_stops_at_the_first_503_errored_and_one_that_stopped_early_gave_up(
    tmp_path,
):
    server = start(SPEED, scenario=with_tables(tmp_path, OUTAGE))
    try:
        where = [
            call(server, "POST", "/ordo/jobs", {"duration": "1h"}).headers["Location"]
            for _ in range(3)
        ]
        early = watch(server, where[1], "counter", every=2, most=2)  # two polls, then stops
        stopper = watch(server, where[0], "sdk", every=2, most=100)
        assert early == [200, 200] and stopper[-1] == 503 and set(stopper[:-1]) == {200}
        while now(server) < 60:  # another client asks on, well past both
            call(server, "GET", where[2], headers={"X-Client-Id": "other"})
            time.sleep(5 / SPEED)
        until = now(server)
        report = call(server, "GET", f"/_admin/report?until={until}", token=ADMIN).json
    finally:
        server.stop()
    rows = {r["client"]: r for r in report["jobs"]}
    sdk, counter = rows["sdk"], rows["counter"]
    assert sdk["errored"] and not sdk["gave_up"] and not sdk["unfinished"]
    assert sdk["polls"] == len(stopper) and sdk["injected_errors"] == 1
    assert counter["gave_up"] and not counter["errored"]
    assert rows["other"]["unfinished"]  # asking to the end, through the outage
    clients = {c["client"]: c for c in report["clients"]}
    assert (clients["sdk"]["errored"], clients["sdk"]["gave_up"]) == (1, 0)
    assert (report["totals"]["errored"], report["totals"]["gave_up"]) == (1, 1)
