"""``final=true`` on the report: the clients have stopped of their own accord (a test's
client returned), so a job a client did not see end was given up (or errored on), never
unfinished, however recently the client asked. Without it, a client that asked about its
only job a moment ago may still come back, and is unfinished."""

from __future__ import annotations

import threading

import pytest

from mock_server.admin import report
from tests.mock_server.helpers import ADMIN, Harness
from tests.mock_server.server import ADMIN as LIVE_ADMIN
from tests.mock_server.server import call, start

SDK = {"X-Client-Id": "sdk"}


def rows(out: dict) -> dict[str, dict]:
    return {r["client"]: r for r in out["jobs"]}


def _get(h: Harness, **query) -> tuple[int, dict]:
    import json

    r = h.call("GET", "/_admin/report", token=ADMIN, query=query)
    if hasattr(r, "build"):  # the report: built off the loop in the server
        r = r.build(threading.Event())
    return r.status, json.loads(r.body)


def test_a_client_that_gave_up_on_its_only_job_and_returned_gave_up_in_a_final_report():
    """The case that passed ``gave_up == 0`` wrongly: the client polls its only job a
    few times, gives up at its deadline and exits; the report is taken right away."""
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"duration": "1h"})
    for _ in range(3):
        assert h.call("GET", "/ordo/jobs/1", headers=SDK).status == 200
        h.sleep(2)
    open_ = report(h.core)
    assert rows(open_)["sdk"]["unfinished"] and not rows(open_)["sdk"]["gave_up"]
    assert open_["totals"]["final"] is False
    final = report(h.core, final=True)
    row = rows(final)["sdk"]
    assert row["gave_up"] and not row["unfinished"] and not row["errored"]
    assert (final["totals"]["gave_up"], final["totals"]["unfinished"]) == (1, 0)
    assert final["totals"]["final"] is True


def test_a_final_report_counts_a_client_that_stopped_on_an_error_as_errored():
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"duration": "1h"})
    down = {"outages": [{"start": 0, "duration": "60s", "mode": "503"}]}
    assert h.doc("PUT", "/_admin/faults", down, token=ADMIN)[0] == 200
    assert h.call("GET", "/ordo/jobs/1", headers=SDK).status == 503  # and it stops
    row = rows(report(h.core, final=True))["sdk"]
    assert row["errored"] and not row["gave_up"] and not row["unfinished"]


def test_a_final_report_leaves_a_client_that_saw_the_end_as_seen():
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"template": "chain"})  # visible as ended at 30 s
    h.call("GET", "/ordo/jobs/1", headers=SDK)
    h.sleep(40)
    h.call("GET", "/ordo/jobs/1", headers=SDK)
    row = rows(report(h.core, final=True))["sdk"]
    assert row["t_seen"] is not None
    assert not (row["gave_up"] or row["errored"] or row["unfinished"])


@pytest.mark.parametrize("raw", ["true", "1", "TRUE"])
def test_final_is_read_from_the_query(raw):
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"duration": "1h"})
    h.call("GET", "/ordo/jobs/1", headers=SDK)
    status, doc = _get(h, final=raw)
    assert status == 200 and doc["totals"]["final"] is True and doc["totals"]["gave_up"] == 1
    status, doc = _get(h, final="false")
    assert status == 200 and doc["totals"]["final"] is False and doc["totals"]["unfinished"] == 1


@pytest.mark.parametrize("raw", ["yes", "", "2", "tru\u0435"])
def test_a_final_that_is_not_true_or_false_is_a_400_naming_it(raw):
    status, doc = _get(Harness(), final=raw)
    assert status == 400 and "final=" in doc["message"]


@pytest.mark.parametrize("raw", ["\u0665", "5_0", "-1", "nan", "1e999", "x"])
def test_an_until_that_is_not_plain_seconds_is_a_400(raw):
    status, doc = _get(Harness(), until=raw)
    assert status == 400 and "until" in doc["message"]


@pytest.mark.live
def test_a_real_server_counts_a_client_that_gave_up_and_exited_when_asked_final():
    server = start(60)
    try:
        job = call(server, "POST", "/ordo/jobs", {"duration": "1h"}).json
        path = f"/ordo/jobs/{job['job']['id']}"
        for _ in range(3):
            assert call(server, "GET", path, headers=SDK).status == 200
        peek = call(server, "GET", "/_admin/report", token=LIVE_ADMIN).json
        assert rows(peek)["sdk"]["unfinished"]
        done = call(server, "GET", "/_admin/report?final=true", token=LIVE_ADMIN).json
        assert rows(done)["sdk"]["gave_up"] and done["totals"]["unfinished"] == 0
    finally:
        server.stop()
