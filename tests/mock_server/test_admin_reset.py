"""POST /_admin/reset: a second test case sees no trace of the first (jobs, ground truth,
journal, faults, clock), on an in-process core and on a real server with a long-poll in
progress."""

from __future__ import annotations

import json
import threading

import pytest

from mock_server.admin import report
from mock_server.faults import Faults
from mock_server.journal import Ring
from sim.mock_spec import FaultSpec
from tests.mock_server.helpers import ADMIN, Harness


def _first_case(h: Harness) -> str:
    """A test case's traces: a job polled by a client, faults changed, a journal record."""
    status, doc = h.doc("POST", "/ordo/jobs", {"template": "chain", "outcome": "succeed"})
    assert status == 201
    job = doc["job"]["id"]
    h.sleep(5)
    assert h.doc("GET", f"/ordo/jobs/{job}", headers={"X-Client-Id": "case-1"})[0] == 200
    status, _ = h.doc("PUT", "/_admin/faults", {"errors": {"503": 1.0}}, token=ADMIN)
    assert status == 200
    h.core.truth.ring.add((1.0,) * 12)  # the front's record (the front is not here)
    return job


def test_reset_leaves_no_trace_of_the_first_case():
    h = Harness(speed=10)
    scenario_faults = h.doc("GET", "/_admin/faults", token=ADMIN)[1]
    job = _first_case(h)
    assert report(h.core)["jobs"] and len(h.core.truth.ring) == 1
    status, doc = h.doc("POST", "/_admin/reset", token=ADMIN)
    assert (status, doc) == (200, {"reset": True, "now": 0.0})
    rep = report(h.core)
    assert rep["jobs"] == [] and rep["clients"] == [] and rep["totals"]["requests"] == []
    # the old job: 404 to its owner and to the admin, absent from lists and /_admin/jobs
    assert h.doc("GET", f"/ordo/jobs/{job}")[0] == 404
    assert h.doc("GET", f"/ordo/jobs/{job}", token=ADMIN)[0] == 404
    assert h.doc("GET", "/ordo/jobs")[1]["jobs"] == []
    assert h.doc("GET", "/_admin/jobs", token=ADMIN)[1] == {"jobs": [], "count": 0, "total": 0}
    assert h.doc("GET", "/_admin/requests", token=ADMIN)[1]["total"] == 0
    assert h.doc("GET", "/_admin/faults", token=ADMIN)[1] == scenario_faults
    # tokens stay; the next job is a new id (the old id names nothing), shown at time 0
    status, doc = h.doc("POST", "/ordo/jobs", {"template": "chain"})
    assert status == 201 and doc["job"]["id"] != job
    assert h.core.model.advance() == 0.0


def test_the_clock_restarts_but_timestamps_go_on():
    h = Harness(speed=10)
    h.sleep(30)  # 300 simulated seconds
    before = h.core.model.clock.iso(h.core.model.advance())
    h.doc("POST", "/_admin/reset", token=ADMIN)
    assert h.core.model.advance() == 0.0
    assert h.core.model.clock.iso(0.0) == before  # dates never go back
    h.sleep(1)
    assert h.core.model.advance() == 10.0


def test_background_arrivals_play_again_from_the_seed():
    h = Harness(speed=60, background=True)
    h.sleep(600)
    h.core.model.advance()
    first = [(r.template.name, r.created) for r in h.core.model.records.values()]
    assert len(first) > 3
    h.doc("POST", "/_admin/reset", token=ADMIN)
    h.sleep(600)
    h.core.model.advance()
    again = [(r.template.name, r.created) for r in h.core.model.records.values()]
    assert again == first  # the same arrivals, as if the server had just started
    assert min(h.core.model.records) > len(first)  # under new ids


def test_faults_draw_the_same_again_after_a_reset():
    f = Faults(FaultSpec(errors={503: 0.5}, reset=0.2), __import__("numpy").random.default_rng(9))
    first = [f.draw() for _ in range(50)]
    f.spec = FaultSpec()  # PUT /_admin/faults meanwhile
    g = f.restarted()
    assert [g.draw() for _ in range(50)] == first
    assert g.spec == FaultSpec(errors={503: 0.5}, reset=0.2)


def test_reset_refuses_other_methods_and_queries():
    h = Harness()
    r = h.call("GET", "/_admin/reset", token=ADMIN)
    assert (r.status, r.headers["Allow"]) == (405, "POST")
    status, doc = h.doc("POST", "/_admin/reset", token=ADMIN, query={"hard": "1"})
    assert status == 400 and "'hard'" in doc["message"]
    assert h.doc("POST", "/_admin/reset")[0] == 403  # a tenant's token
    assert h.doc("POST", "/_admin/reset", token=None)[0] == 401


def test_a_report_asked_before_a_reset_is_built_from_the_run_it_was_asked_in():
    h = Harness(speed=10)
    _first_case(h)
    offload = h.call("GET", "/_admin/report", token=ADMIN)
    h.doc("POST", "/_admin/reset", token=ADMIN)
    old = json.loads(offload.build(threading.Event()).body)
    assert [r["client"] for r in old["jobs"]] == ["case-1"]
    assert report(h.core)["jobs"] == []


def test_ring_counts_what_it_drops_and_a_clear_forgets():
    ring = Ring(3)
    for i in range(5):
        ring.add((i,))
    assert [r[0] for r in ring.records] == [2, 3, 4] and ring.dropped == 2
    assert ring.clear() == 3 and len(ring) == 0 and ring.dropped == 0


# --- a real server -----------------------------------------------------------------------


@pytest.mark.live
def test_reset_during_long_polls_answers_them_404_and_leaves_nothing(tmp_path):
    from tests.mock_server.server import ADMIN as LIVE_ADMIN
    from tests.mock_server.server import call, start

    server = start(1.0)  # a wall second a simulated second: the chain takes 30 s
    try:
        job = call(server, "POST", "/ordo/jobs", {"template": "chain"}).json["job"]["id"]
        answers: list = []

        def poll(i: int) -> None:
            headers = {"X-Client-Id": f"poller-{i}"}
            answers.append(call(server, "GET", f"/ordo/jobs/{job}?wait=30", headers=headers))

        threads = [threading.Thread(target=poll, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        # the polls are held once the server has journaled none of them (held: not
        # answered yet) and the report shows none: wait until the server took them
        for _ in range(200):
            held = call(server, "GET", "/metrics", token=None).body.decode()
            if "pollsim_long_polls_held 8.0" in held:
                break
            threading.Event().wait(0.05)
        else:
            pytest.fail("the long-polls were never held")
        reset = call(server, "POST", "/_admin/reset", token=LIVE_ADMIN)
        assert reset.status == 200 and reset.json["reset"] is True
        for t in threads:
            t.join(60)
        # held on a job that is no more: a 404 each (a hold that ran out would be a 200)
        assert sorted(a.status for a in answers) == [404] * 8
        assert all(json.loads(a.body)["error"] == "not_found" for a in answers)
        journal = call(server, "GET", "/_admin/requests", token=LIVE_ADMIN).json
        assert journal["total"] == 0  # the polls arrived before the reset
        rep = call(server, "GET", "/_admin/report", token=LIVE_ADMIN).json
        assert rep["jobs"] == [] and rep["totals"]["requests"] == []
        assert call(server, "GET", f"/ordo/jobs/{job}").status == 404
        assert call(server, "GET", "/_admin/jobs", token=LIVE_ADMIN).json["total"] == 0
    finally:
        server.stop()


def test_the_old_run_is_freed_at_once_without_the_cyclic_collector():
    """The server keeps what lives long out of the collector's sight (gc.freeze): the
    old model's cycles are broken by the reset, so reference counting frees it."""
    import gc
    import weakref

    h = Harness(speed=60, background=True)
    for _ in range(50):
        h.call("POST", "/ordo/jobs", {"template": "chain", "outcome": "transient_failures:1"})
    h.sleep(3)
    h.core.model.advance()
    gone = [weakref.ref(h.core.model), weakref.ref(h.core.model.env)]
    gone.append(weakref.ref(h.core.model.lifecycle))
    gc.disable()
    try:
        assert h.doc("POST", "/_admin/reset", token=ADMIN)[0] == 200
        assert [ref() for ref in gone] == [None, None, None]
    finally:
        gc.enable()
