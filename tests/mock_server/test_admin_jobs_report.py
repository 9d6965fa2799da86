"""GET /_admin/jobs (every job and its states over time, filtered) and the report's
?client=&job= filters, on an in-process core: only what was asked, the summaries and
totals over it; a bad value a 400, an unknown client or job an empty answer."""

from __future__ import annotations

import json
import threading

import pytest

from mock_server.admin import report
from mock_server.admin_report import Filter
from tests.mock_server.helpers import ADMIN, Harness


def _get(h: Harness, path: str, **query) -> tuple[int, dict]:
    r = h.call("GET", path, token=ADMIN, query={k: str(v) for k, v in query.items()})
    if hasattr(r, "build"):  # the report: built off the loop in the server
        r = r.build(threading.Event())
    return r.status, json.loads(r.body)


@pytest.fixture
def busy() -> Harness:
    """Two tenants' jobs: alpha's chain polled by a and b, beta's fanout by c."""
    h = Harness(speed=10)
    a = h.doc("POST", "/ordo/jobs", {"template": "chain", "outcome": "succeed"})[1]
    b = h.doc(
        "POST", "/ordo/jobs", {"template": "fanout", "durations": {"*": "1h"}}, token="tok-b"
    )[1]
    ja, jb = a["job"]["id"], b["job"]["id"]
    for _ in range(4):
        h.sleep(3)
        h.call("GET", f"/ordo/jobs/{ja}", headers={"X-Client-Id": "a"})
        h.call("GET", f"/ordo/jobs/{ja}", headers={"X-Client-Id": "b"})
        h.call("GET", f"/ordo/jobs/{jb}", token="tok-b", headers={"X-Client-Id": "c"})
    return h


def test_jobs_lists_every_job_with_its_states_over_time(busy):
    status, doc = _get(busy, "/_admin/jobs")
    assert status == 200 and doc["count"] == doc["total"] == 2
    chain = doc["jobs"][0]
    assert (chain["tenant"], chain["template"], chain["state"]) == ("alpha", "chain", "succeeded")
    assert [s for _, s in chain["shown"]] == ["running", "succeeded"]
    assert chain["t_end"] is not None and chain["ids"]["fiddler-v3"].count("-") == 4


@pytest.mark.parametrize(
    "query, tenants",
    [
        ({"tenant": "beta"}, ["beta"]),
        ({"template": "chain"}, ["alpha"]),
        ({"state": "succeeded"}, ["alpha"]),
        ({"client": "c"}, ["beta"]),
        ({"client": "a", "tenant": "beta"}, []),
        ({"tenant": "nobody"}, []),
        ({"client": "nobody"}, []),
        ({"limit": 1}, ["beta"]),  # the newest
    ],
)
def test_jobs_filters_keep_only_what_was_asked(busy, query, tenants):
    status, doc = _get(busy, "/_admin/jobs", **query)
    assert status == 200 and [j["tenant"] for j in doc["jobs"]] == tenants


@pytest.mark.parametrize(
    "query, says",
    [
        ({"state": "done"}, "state='done': expected one of queued"),
        ({"template": "nope"}, "expected one of chain"),
        ({"limit": "-1"}, "limit="),
        ({"limit": "1.5"}, "limit="),
        ({"tenants": "x"}, "unknown query parameter 'tenants'"),
    ],
)
def test_jobs_refuses_a_bad_query(busy, query, says):
    status, doc = _get(busy, "/_admin/jobs", **query)
    assert status == 400 and says in doc["message"]


def test_report_client_filter_keeps_that_clients_rows_and_totals(busy):
    whole = report(busy.core)
    assert {r["client"] for r in whole["jobs"]} == {"a", "b", "c"}
    status, doc = _get(busy, "/_admin/report", client="b")
    assert status == 200 and {r["client"] for r in doc["jobs"]} == {"b"}
    assert [c["client"] for c in doc["clients"]] == ["b"]
    assert doc["totals"]["polls"] == 4 and doc["totals"]["jobs"] == 1
    assert doc["filter"]["client"] == ["b"] and "requests" in doc["filter"]["server_wide"]


def test_report_job_filter_takes_any_dialects_id(busy):
    jobs = _get(busy, "/_admin/jobs")[1]["jobs"]
    chain = jobs[0]
    by_number = _get(busy, "/_admin/report", job=chain["job"])[1]
    by_uuid = _get(busy, "/_admin/report", job=chain["ids"]["fiddler-v3"])[1]
    assert {r["client"] for r in by_number["jobs"]} == {"a", "b"}
    assert by_uuid["jobs"] == by_number["jobs"]
    both = report(busy.core, which=Filter(frozenset({"a", "c"}), None))
    assert {r["client"] for r in both["jobs"]} == {"a", "c"} and both["totals"]["polls"] == 8


def test_report_unknown_client_is_empty_and_bad_values_are_400(busy):
    status, doc = _get(busy, "/_admin/report", client="nobody")
    assert status == 200 and doc["jobs"] == [] and doc["totals"]["jobs"] == 0
    assert _get(busy, "/_admin/report", job="12345678")[1]["jobs"] == []
    for query, says in (
        ({"job": "x"}, "job="),
        ({"client": ""}, "client="),
        ({"until": "nan"}, "until="),
        ({"cilent": "a"}, "unknown query parameter 'cilent'"),
    ):
        status, doc = _get(busy, "/_admin/report", **query)
        assert status == 400 and says in doc["message"], (query, doc)


def test_unknown_admin_paths_and_params_on_faults(busy):
    status, doc = _get(busy, "/_admin/nothing")
    assert status == 404 and "/_admin/reset" in doc["message"]
    status, doc = _get(busy, "/_admin/faults", x="1")
    assert status == 400 and "'x'" in doc["message"]


def test_many_jobs_are_written_off_the_loop_and_read_the_same():
    from mock_server.admin_jobs import ON_LOOP
    from mock_server.offload import Offload

    h = Harness(speed=10)
    for _ in range(ON_LOOP + 3):
        h.call("POST", "/ordo/jobs", {"template": "chain"})
    h.sleep(5)
    big = h.call("GET", "/_admin/jobs", token=ADMIN, query={"limit": "100000"})
    small = h.call("GET", "/_admin/jobs", token=ADMIN, query={"limit": str(ON_LOOP)})
    assert isinstance(big, Offload) and not isinstance(small, Offload)
    doc = json.loads(big.build(threading.Event()).body)
    assert doc["count"] == doc["total"] == ON_LOOP + 3
    assert doc["jobs"][3:] == json.loads(small.body)["jobs"]
    assert [j["job"] for j in doc["jobs"][:2]] == ["1", "2"]


def test_an_unknown_parameters_message_stays_one_short_readable_line(busy):
    query = {"\x00\n" * 100: "1", **{k: "1" for k in "bcdefg"}}
    status, doc = _get(busy, "/_admin/requests", **query)
    message = doc["message"]
    assert status == 400 and "\n" not in message and len(message) < 300
    assert "'\\x00\\n" in message and "and 2 more" in message
    status, doc = _get(busy, "/_admin/jobs", state="\x1b[31m")
    assert status == 400 and "\x1b" not in doc["message"]
