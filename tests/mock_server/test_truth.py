"""The ground truth itself: its report is right for many clients (against a naive
computation), the client ids tracked are capped, the report read from a snapshot stays
the snapshot's and is compact JSON, a build no longer wanted stops, and names and the
request log hold up. Give-ups and unfinished jobs: test_unfinished.py."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from mock_server.admin import job_truth
from mock_server.truth import OVERFLOW, Truth
from mock_server.truth_report import _PIECE, build, build_json
from mock_server.truth_rows import _CHUNK, Abandoned
from tests.mock_server.helpers import Harness

TERMINAL = "succeeded"
STATES = ["queued", "running", "retry_wait", TERMINAL]


def fake_jobs(n: int, rng) -> dict[int, dict]:
    """Jobs' truths: some running still (no end), some ended."""
    out = {}
    for job_id in range(1, n + 1):
        t_end = float(rng.uniform(10, 90)) if rng.random() < 0.7 else None
        out[job_id] = {
            "template": "chain",
            "tenant": "alpha",
            "state": TERMINAL if t_end is not None else "running",
            "submit": 0.0,
            "t_end": t_end,
            "t_visible": t_end + 1.0 if t_end is not None else None,
            "shown": [],
        }
    return out


def random_requests(rng, clients: int, jobs: dict, n: int) -> list[tuple]:
    """(t, client, job, state shown, HTTP status), in time order; a job shows its end
    once visible."""
    out = []
    for t in np.sort(rng.uniform(0, 100, n)):
        job_id = int(rng.integers(1, len(jobs) + 1))
        vis = jobs[job_id]["t_visible"]
        state = TERMINAL if vis is not None and t >= vis else str(rng.choice(STATES[:3]))
        status = 200 if rng.random() < 0.95 else 500
        out.append((float(t), f"c{int(rng.integers(clients)):04d}", job_id, state, status))
    return out


def naive_pairs(requests: list[tuple]) -> dict[tuple[str, int], dict]:
    """Each pair's counts, replayed from its own requests alone."""
    out: dict[tuple[str, int], dict] = {}
    for t, client, job_id, state, status in requests:
        p = out.setdefault(
            (client, job_id), {"polls": 0, "seen": set(), "t_seen": None, "wasted": 0, "after": 0}
        )
        p["polls"] += 1
        p.setdefault("first", t)
        p["last"] = t
        p["last_status"] = status
        if status != 200:
            continue
        p["after"] += p["t_seen"] is not None
        p["wasted"] += state in p["seen"]
        p["seen"].add(state)
        if state == TERMINAL and p["t_seen"] is None:
            p["t_seen"] = t
    return out


def naive_per_client(rows: list[dict]) -> list[dict]:
    """The report's per-client summaries as they were first written: every row filtered
    for every client (quadratic, plainly right)."""
    out = []
    for client in sorted({r["client"] for r in rows}):
        mine = [r for r in rows if r["client"] == client]
        lat = sorted(r["detection_latency_s"] for r in mine if r["detection_latency_s"] is not None)
        stats = None
        if lat:
            p50, p95, p99 = np.percentile(lat, [50, 95, 99])
            stats = {"mean": sum(lat) / len(lat), "p50": p50, "p95": p95, "p99": p99}
            stats["max"] = max(lat)
        out.append(
            {
                "client": client,
                "jobs": len(mine),
                "polls": sum(r["polls"] for r in mine),
                "polls_per_job": sum(r["polls"] for r in mine) / len(mine),
                "wasted_polls": sum(r["wasted_polls"] for r in mine),
                "requests_after_seen": sum(r["requests_after_seen"] for r in mine),
                "retry_after_violations": sum(r["retry_after_violations"] for r in mine),
                "gave_up": sum(r["gave_up"] for r in mine),
                "errored": sum(r["errored"] for r in mine),
                "unfinished": sum(r["unfinished"] for r in mine),
                "detection_latency_s": stats,
            }
        )
    return out


def test_the_report_of_many_clients_matches_a_naive_computation():
    rng = np.random.default_rng(11)
    jobs = fake_jobs(40, rng)
    requests = random_requests(rng, clients=300, jobs=jobs, n=6000)
    truth = Truth()
    for t, client, job_id, state, status in requests:
        truth.status_request(t, client, job_id, state, status)
    out = truth.report(jobs.__getitem__, now=100.0)
    expected = naive_pairs(requests)
    assert len(out["jobs"]) == len(expected) > 1000
    stops = {False: 0, True: 0}  #: gave up, errored
    for row in out["jobs"]:
        p = expected[row["client"], int(row["job_id"])]
        assert (row["polls"], row["wasted_polls"], row["requests_after_seen"]) == (
            p["polls"],
            p["wasted"],
            p["after"],
        )
        assert row["t_seen"] == p["t_seen"] and row["watched_s"] == p["last"] - p["first"]
        # stopped without seeing the end: errored after an error answer, else gave up
        if row["errored"] or row["gave_up"]:
            stops[row["errored"]] += 1
            assert row["errored"] == (p["last_status"] != 200) != row["gave_up"]
    assert stops[False] > 100 and stops[True] > 10
    assert out["clients"] == naive_per_client(out["jobs"])
    assert len(out["clients"]) == 300
    (everyone,) = naive_per_client([{**r, "client": "all"} for r in out["jobs"]])
    assert {"client": "all", **out["totals"]}.items() >= everyone.items()
    assert out["totals"]["polls"] == len(requests)


def test_client_ids_past_the_cap_are_counted_under_one_overflow_entry():
    truth = Truth(max_clients=50)
    jobs = {1: {**fake_jobs(1, np.random.default_rng(0))[1], "t_end": None, "t_visible": None}}
    for i in range(20_000):
        truth.status_request(float(i), f"client-{i}", 1, "running", 200)
        truth.status_request(float(i), "client-3", 1, "running", 200)  # tracked: kept
    assert len(truth.clients) <= 51 and len(truth.pairs) <= 51
    out = truth.report(jobs.__getitem__, now=20_000.0)
    overflow = next(c for c in out["clients"] if c["client"] == OVERFLOW)
    assert overflow["ids"] == pytest.approx(20_000 - 50, rel=0.03)
    assert overflow["polls"] == 20_000 - 50
    assert next(c for c in out["clients"] if c["client"] == "client-3")["polls"] == 20_001
    assert out["totals"]["polls"] == 40_000
    assert out["totals"]["overflow"]["max_clients"] == 50


def test_a_client_may_not_name_itself_the_overflow_entry():
    truth = Truth(max_clients=5)
    truth.status_request(0.0, OVERFLOW, 1, "running", 200)
    assert truth.overflow.estimate() == 1  # folded in, and counted as one id of it


def test_a_snapshots_report_ignores_what_came_after_it():
    rng = np.random.default_rng(5)
    jobs = fake_jobs(10, rng)
    requests = random_requests(rng, clients=30, jobs=jobs, n=2000)
    truth = Truth()
    for r in requests[:1000]:
        truth.status_request(*r)
    snap = truth.snapshot()
    before = build(snap, jobs.__getitem__, now=100.0)
    for r in requests[1000:]:
        truth.status_request(*r)
    assert build(snap, jobs.__getitem__, now=100.0) == before
    assert truth.report(jobs.__getitem__, now=100.0)["totals"]["polls"] == 2000


def test_a_report_no_longer_wanted_stops_being_built():
    truth = Truth()
    for i in range(3 * _CHUNK):
        truth.status_request(1.0, f"c{i}", 1, "running", 200)
    stop = threading.Event()
    stop.set()
    job = {"t_end": None, "t_visible": None, "template": "x", "tenant": "x", "state": "x"}
    job |= {"submit": 0.0, "shown": []}
    with pytest.raises(Abandoned):
        build(truth.snapshot(), lambda _: job, now=2.0, stop=stop)


def test_the_report_written_a_piece_at_a_time_is_compact_json():
    """Many clients of one row, and one client of many rows (more than a piece)."""
    rng = np.random.default_rng(2)
    jobs = fake_jobs(3 * _PIECE, rng)
    truth = Truth()
    for r in random_requests(rng, clients=3 * _PIECE, jobs=jobs, n=4 * _PIECE):
        truth.status_request(*r)
    for job_id in jobs:
        truth.status_request(50.0, "busy", job_id, "running", 200)
    extra = {"speed": 60.0, "now": 100.0}
    for t, j in ((truth, jobs.__getitem__), (Truth(), dict)):
        raw = bytes(build_json(t.snapshot(), j, 100.0, extra=extra))
        doc = json.loads(raw)
        assert raw == json.dumps(doc, separators=(",", ":")).encode()
        assert list(doc) == ["jobs", "clients", "totals", "speed", "now"]
    busy = next(c for c in doc_of(truth, jobs)["clients"] if c["client"] == "busy")
    assert busy["jobs"] == 3 * _PIECE


def doc_of(truth: Truth, jobs: dict) -> dict:
    return truth.report(jobs.__getitem__, now=100.0)


def test_a_jobs_truth_from_its_change_log_is_the_models():
    """The report reads each job from its change log (safe in another thread): it must
    say what the model says, at every moment."""
    h = Harness(speed=1, background=True)
    h.doc("POST", "/ordo/jobs", {"template": "chain", "outcome": "transient_failures:2"})
    model = h.core.model
    for _ in range(40):
        h.sleep(7)
        now = model.advance()
        for job_id, rec in model.records.items():
            job = job_truth(rec, now)
            assert (job["t_end"], job["t_visible"]) == model.truth(job_id)
            assert job["state"] == model.lifecycle.jobs[job_id].state.value
    assert any(model.truth(j)[0] is not None for j in model.records) and len(model.records) > 3


def test_a_client_id_that_was_not_utf8_is_reported_as_valid_unicode():
    truth = Truth()
    raw = b"\xff\xfe-bad".decode("utf-8", "surrogateescape")  # as the front hands it over
    for name in (raw, "\ud800alone", "café"):
        truth.status_request(1.0, name, 1, "running", 200)
    names = list(truth.clients)
    assert names == ["\ufffd\ufffd-bad", "?alone", "café"]
    for name in names:
        name.encode("utf-8")  # no surrogate left


def test_a_request_log_that_cannot_be_written_drops_entries_and_says_why():
    from mock_server.journal import Journal

    truth = Truth(Journal("/dev/full", cap=10**7))  # every write: no space left
    for i in range(2000):  # past the file's buffer, and the summary flushes it
        truth.status_request(float(i), "c", 1, "running", 200)
    journal = truth.snapshot().journal
    assert "No space left" in journal["failed"] and journal["dropped"] > 0
    assert truth.pairs["c", 1].polls == 2000  # the requests were all counted
    truth.journal.close()


def test_the_request_log_names_clients_as_the_report_does(tmp_path):
    from mock_server.journal import Journal

    truth = Truth(Journal(tmp_path / "log.jsonl", cap=10**6))
    truth.status_request(1.0, b"\xff".decode("utf-8", "surrogateescape"), 1, "running", 200)
    truth.journal.close()
    assert json.loads((tmp_path / "log.jsonl").read_text())["client"] == "\ufffd"


def test_a_report_whose_client_hung_up_stops_being_built():
    """The front hands ``Offload.run`` the connection's end: once it comes, the build is
    asked to stop, and the answer (to nobody) does not wait for it."""
    import asyncio

    from mock_server.offload import Offload
    from mock_server.responses import Response

    seen = threading.Event()

    def build(stop: threading.Event) -> Response:
        stop.wait(60)  # as a build checks between pieces
        seen.set()
        raise Abandoned

    async def hang_up_early() -> Response:
        gone = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(gone.set_result, None)
        return await Offload(build).run(gone)

    answer = asyncio.run(hang_up_early())
    assert answer.status == 503 and json.loads(answer.body)["error"] == "gone"
    assert seen.wait(60)  # the build was told to stop, and did


def test_a_report_built_before_anyone_hangs_up_is_the_answer():
    import asyncio

    from mock_server.offload import Offload
    from mock_server.responses import Response

    async def ask() -> Response:
        gone = asyncio.get_running_loop().create_future()  # never: the client stays
        return await Offload(lambda stop: Response(200, b"{}")).run(gone)

    assert asyncio.run(ask()).status == 200
