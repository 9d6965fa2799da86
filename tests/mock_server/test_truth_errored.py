"""A client that stopped right after an error answer for a job (a 4xx but 304, a 5xx, no
answer, an injected fault or an outage's 503) *errored*, counted apart from the clients
that gave up on their own and from those the run's end cut off: in each row, per client
and in all. Each row is exactly one of seen, gave up, errored, unfinished."""

from __future__ import annotations

import numpy as np
import pytest

from mock_server.admin import report
from mock_server.truth import Truth
from tests.mock_server.helpers import ADMIN, Harness

CLIENT = {"X-Client-Id": "sdk"}
OTHER = {"X-Client-Id": "other"}


def row_of(out: dict, client: str) -> dict:
    (row,) = [r for r in out["jobs"] if r["client"] == client]
    return row


def outage_at_start(seconds: float) -> Harness:
    """A server whose status API answers 503 (with Retry-After) for its first
    ``seconds``, with a job that runs an hour."""
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"duration": "1h"})
    down = {"outages": [{"start": 0, "duration": f"{seconds}s", "mode": "503"}]}
    assert h.doc("PUT", "/_admin/faults", down, token=ADMIN)[0] == 200
    return h


def test_a_client_that_stops_at_the_first_503_of_an_outage_errored():
    h = outage_at_start(60)
    assert h.call("GET", "/ordo/jobs/1", headers=CLIENT).status == 503  # and it stops
    h.sleep(90)
    for _ in range(3):  # another client asks on, past the outage
        assert h.call("GET", "/ordo/jobs/1", headers=OTHER).status == 200
        h.sleep(5)
    out = report(h.core, until=100)
    row = row_of(out, "sdk")
    assert row["errored"] and not row["gave_up"] and not row["unfinished"]
    assert row["injected_errors"] == 1 and row["t_seen"] is None
    other = row_of(out, "other")
    assert not other["errored"] and other["unfinished"]  # still on it at the end
    assert (out["totals"]["errored"], out["totals"]["gave_up"]) == (1, 0)
    (mine,) = [c for c in out["clients"] if c["client"] == "sdk"]
    assert (mine["errored"], mine["gave_up"], mine["unfinished"]) == (1, 0, 0)


def test_a_client_that_rode_out_the_outage_and_then_stopped_gave_up():
    """The last answer decides: errors before a 200 that the client then stopped after
    are a give-up, not an error."""
    h = outage_at_start(10)
    for _ in range(4):  # 503, 503, then 200s
        h.call("GET", "/ordo/jobs/1", headers=CLIENT)
        h.sleep(5)
    h.sleep(60)
    h.call("GET", "/ordo/jobs/1", headers=OTHER)
    row = row_of(report(h.core, until=h.core.model.advance()), "sdk")
    assert row["injected_errors"] == 2 and row["gave_up"] and not row["errored"]


def test_a_client_still_within_its_pace_after_an_error_is_unfinished_not_errored():
    h = outage_at_start(60)
    for _ in range(3):  # every 5 s, all 503s, to the end of the run
        h.call("GET", "/ordo/jobs/1", headers=CLIENT)
        h.sleep(5)
    out = report(h.core, until=h.core.model.advance())
    row = row_of(out, "sdk")
    assert row["unfinished"] and not row["errored"] and not row["gave_up"]
    without_until = row_of(report(h.core), "sdk")  # it may still come back
    assert without_until["unfinished"] and not without_until["errored"]


def test_a_client_that_moved_on_after_a_404_or_a_429_errored_on_that_job():
    """A 4xx the server itself answered (the rate limit's 429) counts as an error answer,
    and so does moving on to another job right after it."""
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"duration": "1h"})
    h.doc("POST", "/ordo/jobs", {"duration": "1h"})
    limit = {"rate_limit": {"rate": "1/s", "burst": 1}}
    assert h.doc("PUT", "/_admin/faults", limit, token=ADMIN)[0] == 200
    assert h.call("GET", "/ordo/jobs/1", headers=CLIENT).status == 200
    assert h.call("GET", "/ordo/jobs/1", headers=CLIENT).status == 429  # and it stops
    for _ in range(4):
        h.sleep(3)
        assert h.call("GET", "/ordo/jobs/2", headers=CLIENT).status == 200
    first = next(r for r in report(h.core)["jobs"] if r["job_id"] == "1")
    assert first["errored"] and not first["gave_up"]


@pytest.mark.parametrize(
    ("status", "shown", "injected", "errored"),
    [
        (500, None, None, True),  # the server's own failure: still an error answer
        (503, None, "outage_503", True),
        (0, None, "outage_no_answer", True),
        (0, None, "reset", True),
        (200, None, "malformed", True),  # a body cut short shows nothing
        (429, None, "rate_limit", True),
        (404, None, None, True),
        (304, "running", None, False),  # not modified: the state it had, not an error
        (304, None, None, False),  # If-None-Match: *, a wasted poll, not an error
        (200, "running", "latency", False),  # slow, but it showed the state
    ],
)
def test_which_last_answers_make_a_stopped_client_errored(status, shown, injected, errored):
    truth = Truth()
    truth.status_request(0.0, "c", 1, "queued", 200)
    truth.status_request(10.0, "c", 1, shown, status, None, injected)
    truth.status_request(60.0, "c", 2, "running", 200)  # moved on to another job
    job = {"template": "t", "tenant": "alpha", "state": "running", "submit": 0.0}
    job |= {"t_end": None, "t_visible": None, "shown": []}
    out = truth.report(lambda _: job, now=60.0)
    (row,) = [r for r in out["jobs"] if r["job_id"] == "1"]
    assert (row["errored"], row["gave_up"]) == (errored, not errored)


def test_each_row_is_exactly_one_outcome_and_the_counts_add_up():
    rng = np.random.default_rng(5)
    truth = Truth()
    codes = [200, 200, 200, 503, 500, 429, 0]
    for t in np.sort(rng.uniform(0, 100, 3000)):
        job_id, client = int(rng.integers(1, 30)), f"c{int(rng.integers(60))}"
        code = int(rng.choice(codes))
        shown = ("succeeded" if t > 80 and job_id % 3 == 0 else "running") if code == 200 else None
        truth.status_request(float(t), client, job_id, shown, code)
    job = {"template": "t", "tenant": "alpha", "state": "running", "submit": 0.0}
    job |= {"t_end": 80.0, "t_visible": 80.0, "shown": []}
    out = truth.report(lambda _: job, now=100.0, until=100.0)
    outcomes = [
        (r["t_seen"] is not None, r["gave_up"], r["errored"], r["unfinished"]) for r in out["jobs"]
    ]
    assert all(sum(o) == 1 for o in outcomes)
    totals = out["totals"]
    assert totals["errored"] == sum(r["errored"] for r in out["jobs"]) > 10
    assert totals["gave_up"] == sum(r["gave_up"] for r in out["jobs"]) > 10
    assert sum(c["errored"] for c in out["clients"]) == totals["errored"]
