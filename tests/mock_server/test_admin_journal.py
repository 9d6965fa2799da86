"""The request journal over HTTP (GET/DELETE /_admin/requests) on a real server: every
request to a dialect's paths as it arrived and was answered, filters that return only
what was asked, bad queries refused in one line, a bounded ring that says what it
dropped; and what a record costs in memory."""

from __future__ import annotations

import time
import tracemalloc
import urllib.parse

import pytest

from mock_server.journal import RECORD_BYTES, Ring
from mock_server.truth_rows import Abandoned
from tests.mock_server.server import ADMIN, call, start, with_tables

pytestmark = pytest.mark.live

UNICODE = "client-é-漢字-🙂"  #: sent as the UTF-8 bytes of X-Client-Id


def _as_header(text: str) -> str:
    """``text``'s UTF-8 bytes as http.client sends a header (latin-1, a byte a char)."""
    return text.encode().decode("latin-1")


def _journal(server, **query) -> tuple[int, dict]:
    qs = urllib.parse.urlencode(query, doseq=True)
    a = call(server, "GET", f"/_admin/requests?{qs}", token=ADMIN)
    return a.status, a.json


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    scenario = with_tables(
        tmp_path_factory.mktemp("journal"), "[serve]\nrequest_journal_max = 50\n"
    )
    s = start(10.0, scenario=scenario)
    yield s
    s.stop()


def test_the_journal_records_each_request_and_its_filters_keep_only_what_was_asked(server):
    assert call(server, "DELETE", "/_admin/requests", token=ADMIN).status == 200
    first = call(server, "POST", "/ordo/jobs", {"template": "chain"}).json["job"]["id"]
    uuid = call(server, "POST", "/v3/jobs", {"template": "chain"}).json["data"]["id"]
    for _ in range(3):
        call(server, "GET", f"/ordo/jobs/{first}", headers={"X-Client-Id": "plain"})
    for _ in range(2):
        call(server, "GET", f"/v3/jobs/{uuid}", headers={"X-Client-Id": _as_header(UNICODE)})
    call(server, "GET", "/ordo/jobs/999999", headers={"X-Client-Id": "plain"})  # a 404
    call(server, "GET", "/healthz", token=None)  # the server's own: not journaled
    status, doc = _journal(server)
    assert status == 200 and doc["count"] == doc["total"] == 8 and doc["dropped"] == 0
    recs = doc["requests"]
    assert [r["t"] for r in recs] == sorted(r["t"] for r in recs)
    assert recs[0]["method"] == "POST" and recs[0]["status"] == 201
    assert recs[0]["job"] == first  # a submission names the job it made
    assert {r["path"] for r in recs} >= {f"/ordo/jobs/{first}", f"/v3/jobs/{uuid}"}
    assert recs[-1]["status"] == 404 and recs[-1]["job"] is None
    # status: what WireMock calls unmatched is ?status=404
    assert [r["path"] for r in _journal(server, status=404)[1]["requests"]] == ["/ordo/jobs/999999"]
    assert _journal(server, status=["201", "404"])[1]["total"] == 3
    # client: only that client's, in the id as it was sent (UTF-8 read back)
    status, doc = _journal(server, client=UNICODE)
    assert doc["total"] == 2 and {r["client"] for r in doc["requests"]} == {UNICODE}
    assert all(
        (r["job"], r["dialect"], r["status"]) == (uuid, "fiddler-v3", 200) and r["shown"]
        for r in doc["requests"]
    )
    assert _journal(server, client="nobody")[1]["total"] == 0  # unknown: none, not an error
    # job: as any dialect shows it (the UUID, or the number)
    by_uuid = _journal(server, job=uuid)[1]
    assert by_uuid["total"] == 3 and {r["job"] for r in by_uuid["requests"]} == {uuid}
    assert _journal(server, job=by_uuid["requests"][0]["job_id"])[1]["total"] == 3
    assert _journal(server, job=first, client="plain")[1]["total"] == 3
    assert _journal(server, client=["plain", UNICODE])[1]["total"] == 6
    # since: simulated seconds; limit: the most recent N
    t3 = recs[3]["t"]
    assert _journal(server, since=repr(t3))[1]["total"] == sum(r["t"] >= t3 for r in recs)
    last2 = _journal(server, limit=2)[1]
    assert last2["count"] == 2 and last2["total"] == 8 and last2["requests"] == recs[-2:]
    assert _journal(server, limit=0)[1] == {"requests": [], "count": 0, "total": 8, "dropped": 0}
    deleted = call(server, "DELETE", "/_admin/requests", token=ADMIN).json
    assert deleted == {"deleted": 8} and _journal(server)[1]["total"] == 0


@pytest.mark.parametrize(
    "query, says",
    [
        ({"limit": "-1"}, "limit="),
        ({"limit": "nan"}, "limit="),
        ({"limit": "100001"}, "<= 100000"),
        ({"limit": "1e3"}, "whole number"),
        ({"limit": "9" * 400}, "limit="),
        ({"since": "-5"}, "since="),
        ({"since": "NaN"}, "since="),
        ({"since": "inf"}, "since="),
        ({"since": "1e999"}, "since="),
        ({"since": "٣"}, "since="),  # another script's digit
        ({"job": "not-an-id"}, "job="),
        ({"status": "2xx"}, "status="),
        ({"status": "600"}, "status="),
        ({"client": ""}, "client="),
        ({"client": "x" * 201}, "client="),
        ({"clients": "a"}, "'clients'"),
        ({"limit": ["1", "2"]}, "more than once"),
    ],
)
def test_a_bad_query_is_a_400_saying_what_was_expected(server, query, says):
    status, doc = _journal(server, **query)
    assert status == 400 and doc["error"] == "bad_query" and says in doc["message"]
    assert len(doc["message"]) < 300


def test_the_ring_keeps_the_latest_and_counts_what_it_dropped(server):
    call(server, "DELETE", "/_admin/requests", token=ADMIN)
    for i in range(60):  # the scenario's request_journal_max is 50
        call(server, "GET", f"/ordo/jobs/{100000 + i}")
    doc = _journal(server, limit=100000)[1]
    assert doc["total"] == 50 and doc["dropped"] == 10
    assert doc["requests"][0]["path"] == "/ordo/jobs/100010"


def test_injected_faults_and_retry_after_are_in_the_records(server):
    job = call(server, "POST", "/ordo/jobs", {"template": "chain"}).json["job"]["id"]
    put = call(server, "PUT", "/_admin/faults", {"errors": {"503": 1.0}}, token=ADMIN)
    assert put.status == 200
    try:
        assert call(server, "GET", f"/ordo/jobs/{job}", headers={"X-Client-Id": "f"}).status == 503
    finally:
        call(server, "PUT", "/_admin/faults", {}, token=ADMIN)
    rec = _journal(server, client="f")[1]["requests"][-1]
    assert (rec["status"], rec["injected"], rec["shown"]) == (503, "503", None)


def test_admin_requests_refuse_other_methods_and_other_tokens(server):
    r = call(server, "POST", "/_admin/requests", token=ADMIN)
    assert r.status == 405 and r.headers["Allow"] == "GET, DELETE"
    assert call(server, "GET", "/_admin/requests").status == 403
    assert call(server, "DELETE", "/_admin/requests?all=1", token=ADMIN).status == 400


def test_a_record_costs_about_record_bytes():
    """A status request of a client polling one of 5,000 jobs, made as the front makes
    it (fresh strings each time, shared by the ring)."""
    n = 20_000
    ring = Ring(n)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(n):
            path = ring.share("/ordo/jobs/" + str(10_000 + i % 5000))
            client = ring.share("client-" + str(i % 300))
            job = 10_000 + i % 5000
            rec = (i * 0.5, time.time(), "GET", path, "ordo", client, job, 200, None, None)
            ring.add((*rec, "running", 0.0003 + i * 1e-9))
        per = (tracemalloc.get_traced_memory()[0] - before) / n
    finally:
        tracemalloc.stop()
    assert per <= RECORD_BYTES * 1.15, per


def test_a_large_answer_is_written_off_the_loop_and_reads_the_same():
    """Past ON_LOOP records the answer is built in a worker thread, a piece at a time:
    the same JSON as on the loop (an in-process core: the records put in by hand)."""
    import json
    import threading

    from mock_server.admin_journal import ON_LOOP
    from mock_server.offload import Offload
    from tests.mock_server.helpers import ADMIN as CORE_ADMIN
    from tests.mock_server.helpers import Harness

    h = Harness()
    ring = h.core.truth.ring
    for i in range(ON_LOOP + 5):
        rec = (i * 0.5, 1.0, "GET", f"/v3/jobs/{i}", "fiddler-v3", "c", i + 1, 200, None)
        ring.add((*rec, None, "running", 0.001))
    small = h.call("GET", "/_admin/requests", token=CORE_ADMIN, query={"limit": str(ON_LOOP)})
    big = h.call("GET", "/_admin/requests", token=CORE_ADMIN, query={"limit": "100000"})
    assert isinstance(big, Offload) and not isinstance(small, Offload)
    doc = json.loads(big.build(threading.Event()).body)
    assert doc["count"] == doc["total"] == ON_LOOP + 5 and doc["dropped"] == 0
    assert doc["requests"][5:] == json.loads(small.body)["requests"]
    assert doc["requests"][0]["job"].count("-") == 4  # fiddler-v3 shows a UUID
    stopped = threading.Event()
    stopped.set()
    with pytest.raises(Abandoned):
        big.build(stopped)
