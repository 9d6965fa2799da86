"""Whether a client gave up on a job or was still on it when the run ended (unfinished),
as the ground truth's report says: with and without ``until``, for clients that moved
on, stopped long before the end, were stopped with the swarm, or watch several jobs."""

from __future__ import annotations

import pytest

from mock_server.admin import report
from mock_server.truth import Truth
from mock_server.truth_report import build
from tests.mock_server.helpers import Harness


def test_a_client_that_still_watches_when_the_report_is_taken_is_unfinished():
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"template": "chain"})  # ends at 30 s
    for _ in range(3):  # at 0, 3 and 6 s
        h.doc("GET", "/ordo/jobs/1", headers={"X-Client-Id": "w"})
        h.sleep(3)
    (row,) = report(h.core)["jobs"]
    assert row["unfinished"] and not row["gave_up"]  # the job has not ended
    h.sleep(40)
    out = report(h.core)
    (row,) = out["jobs"]
    assert row["t_visible"] == pytest.approx(30.0)
    # its latest request of all was on this job: it never moved on, so it did not give up
    assert row["unfinished"] and not row["gave_up"]
    assert out["totals"]["unfinished"] == 1 and out["totals"]["gave_up"] == 0
    assert out["clients"][0]["unfinished"] == 1


def test_a_client_stopped_with_the_run_is_unfinished_and_one_stopped_long_before_gave_up():
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"template": "chain"})  # visible as ended at 30 s
    h.doc("POST", "/ordo/jobs", {"duration": "1h"})
    for t in (1, 11, 21):  # every 10 s; it would have asked next at 31
        h.wall = 100.0 + t
        h.doc("GET", "/ordo/jobs/1", headers={"X-Client-Id": "w"})
    h.wall = 100.0 + 79
    h.doc("GET", "/ordo/jobs/2", headers={"X-Client-Id": "other"})  # asked to the end
    h.sleep(10)
    assert row_of(report(h.core, until=25), "w")["unfinished"]  # not yet ended at 25
    cut = row_of(report(h.core, until=35), "w")  # stopped 14 s after its last poll
    assert cut["unfinished"] and not cut["gave_up"]
    late = report(h.core, until=80)  # 59 s of silence while another client asked on
    assert row_of(late, "w")["gave_up"] and not row_of(late, "w")["unfinished"]
    assert late["totals"]["until"] == 80 and late["totals"]["gave_up"] == 1


def test_an_until_read_late_is_taken_back_to_the_last_request_of_any_client():
    """``until`` is read from a clock after the clients have stopped: a wall second
    late is a simulated minute at speed 60, longer than a client's gaps."""
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"template": "chain"})  # visible as ended at 30 s
    for t in (1, 11, 21):
        h.wall = 100.0 + t
        h.doc("GET", "/ordo/jobs/1", headers={"X-Client-Id": "w"})
    h.sleep(70)
    out = report(h.core, until=85)  # every client stopped at 21
    (row,) = out["jobs"]
    assert row["unfinished"] and not row["gave_up"]
    assert out["totals"]["last_request"] == pytest.approx(21.0)


def row_of(out: dict, client: str) -> dict:
    (row,) = [r for r in out["jobs"] if r["client"] == client]
    return row


def test_a_client_that_moved_on_to_another_job_gave_up_on_the_first():
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"template": "chain"})
    h.doc("POST", "/ordo/jobs", {"template": "chain", "duration": "1h"})
    for job in (1, 1, 2, 2, 2, 2):  # every 3 s: job 1 twice, then job 2 for 9 s more
        h.doc("GET", f"/ordo/jobs/{job}", headers={"X-Client-Id": "m"})
        h.sleep(3)
    h.sleep(60)
    h.doc("GET", "/ordo/jobs/2", headers={"X-Client-Id": "z"})  # another, to the end
    first, second = [r for r in report(h.core)["jobs"] if r["client"] == "m"]
    assert first["gave_up"] and not first["unfinished"]
    assert second["unfinished"] and not second["gave_up"]  # it may come back to it
    first, second = [r for r in report(h.core, until=78)["jobs"] if r["client"] == "m"]
    assert first["gave_up"] and second["gave_up"]  # it stopped long before the end


def test_a_client_watching_several_jobs_at_once_gives_up_on_none():
    """Its latest request is for one of them: the others are not abandoned for that."""
    h = Harness()
    for _ in range(3):
        h.doc("POST", "/ordo/jobs", {"duration": "6.25s"})  # two steps: they end at 12.5 s
    for _ in range(4):  # each every 3 s, to 11 s
        for job in (1, 2, 3):
            h.doc("GET", f"/ordo/jobs/{job}", headers={"X-Client-Id": "rr"})
            h.sleep(1)
    h.sleep(1)  # the clients are stopped at 13 s: the ends had shown, unseen
    for until in (None, h.core.model.advance()):
        out = report(h.core, until=until)
        assert out["jobs"][0]["t_visible"] == pytest.approx(12.5)
        assert out["totals"]["unfinished"] == 3 and out["totals"]["gave_up"] == 0


def test_the_until_is_never_past_the_reports_own_time():
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"template": "chain"})
    h.doc("GET", "/ordo/jobs/1")
    out = report(h.core, until=1e9)
    assert out["totals"]["until"] == out["now"]


def test_users_stopped_a_little_apart_are_all_unfinished_within_the_slack():
    """A swarm's users are stopped over a wall second or so: the server allows that
    much (at its speed) before it calls a client's silence a give-up."""
    job = {"template": "chain", "tenant": "alpha", "state": "succeeded", "submit": 0.0}
    job |= {"t_end": 50.0, "t_visible": 50.0, "shown": []}
    truth = Truth()
    for t in range(0, 40, 3):  # every 3 s to 39, then stopped
        truth.status_request(float(t), "early", 1, "running", 200)
    truth.status_request(60.0, "late", 2, "running", 200)  # the last to be stopped
    jobs = {1: job, 2: {**job, "t_end": None, "t_visible": None}}
    for slack, verdict in ((0.0, "gave_up"), (30.0, "unfinished")):
        out = build(truth.snapshot(), jobs.__getitem__, now=70.0, until=65.0, slack=slack)
        early = row_of(out, "early")
        assert early[verdict] and not early["gave_up" if verdict == "unfinished" else "unfinished"]
