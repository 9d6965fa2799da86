"""Injected faults: over real HTTP where the connection itself misbehaves, tagged in the
ground truth, deterministic for a seed, changeable while the server runs."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from tests.mock_server.helpers import ADMIN as CORE_ADMIN
from tests.mock_server.helpers import Harness
from tests.mock_server.server import ADMIN, call, start, with_tables

MIXED = """
[faults]
errors = { 500 = 0.2, 503 = 0.1 }
reset = 0.05
empty = 0.05
malformed = 0.05
dribble = { probability = 0.05, rate = 5000 }
"""


def outcome(server, path: str, client: str) -> str:
    """What one status request came to, as the client sees it."""
    host, port = urlsplit(server.url).hostname, urlsplit(server.url).port
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": "Bearer tok-a", "X-Client-Id": client})
        resp = conn.getresponse()
        body = resp.read()
    except http.client.RemoteDisconnected:
        return "dropped"
    except ConnectionResetError:
        return "dropped"
    finally:
        conn.close()
    if resp.status != 200:
        return str(resp.status)
    try:
        json.loads(body)
    except ValueError:
        return "malformed"
    return "ok"


@pytest.fixture
def mixed(tmp_path):
    server = start(20, scenario=with_tables(tmp_path, MIXED))
    yield server
    server.stop()


@pytest.mark.live
def test_every_injected_fault_is_tagged_in_the_ground_truth(mixed):
    where = call(mixed, "POST", "/ordo/jobs", {"duration": "1h"}).headers["Location"]
    seen = [outcome(mixed, where, "victim") for _ in range(300)]
    report = call(mixed, "GET", "/_admin/report", token=ADMIN).json
    injected = report["totals"]["injected_faults"]
    assert injected.get("500", 0) == seen.count("500") > 0
    assert injected.get("503", 0) == seen.count("503") > 0
    assert injected.get("malformed", 0) == seen.count("malformed") > 0
    assert injected.get("reset", 0) + injected.get("empty", 0) == seen.count("dropped") > 0
    assert injected.get("dribble", 0) > 0  # dribbled answers still arrive whole
    (row,) = [r for r in report["jobs"] if r["client"] == "victim"]
    assert row["polls"] == 300 and row["errors"] == 0  # none blamed on the server
    assert row["injected_errors"] == 300 - seen.count("ok")


@pytest.mark.live
def test_the_same_seed_and_requests_give_the_same_faults(tmp_path):
    runs = []
    for _ in range(2):
        server = start(20, scenario=with_tables(tmp_path, MIXED))
        try:
            where = call(server, "POST", "/ordo/jobs", {"duration": "1h"}).headers["Location"]
            runs.append([outcome(server, where, "c") for _ in range(60)])
        finally:
            server.stop()
    assert runs[0] == runs[1] and len(set(runs[0])) > 2


@pytest.mark.live
def test_injected_latency_holds_no_other_request(tmp_path):
    server = start(20, scenario=with_tables(tmp_path, '[faults]\nlatency = "2s"\n'))
    try:
        where = call(server, "POST", "/ordo/jobs", {"duration": "1h"}).headers["Location"]
        go = threading.Barrier(100)

        def one(_):
            go.wait()
            # served one after another, the last would wait 200 s: far past this timeout
            return call(server, "GET", where, timeout=10).status

        with ThreadPoolExecutor(100) as pool:
            statuses = list(pool.map(one, range(100)))
        assert statuses == [200] * 100
    finally:
        server.stop()


@pytest.mark.live
def test_a_client_trickling_its_request_is_cut_off_while_others_are_served(tmp_path):
    server = start(20, scenario=with_tables(tmp_path, '[serve]\nrequest_deadline = "2s"\n'))
    try:
        url = urlsplit(server.url)
        slow = socket.create_connection((url.hostname, url.port), timeout=30)
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"y" * 40 + b"\r\n\r\n"
        cut = threading.Event()

        def trickle():
            for byte in request:
                try:
                    slow.sendall(bytes([byte]))
                except OSError:
                    cut.set()
                    return
                time.sleep(0.25)  # the whole request would take 18 s

        t = threading.Thread(target=trickle)
        t.start()
        served = [call(server, "GET", "/healthz").status for _ in range(5)]
        try:
            answer = slow.recv(1024)  # the server closes the connection: b"" or a reset
        except ConnectionResetError:
            answer = b""
        cut.set()
        t.join()
        slow.close()
        assert served == [200] * 5
        assert answer == b""
    finally:
        server.stop()


@pytest.mark.live
def test_beyond_the_concurrency_cap_the_server_answers_503_with_retry_after(tmp_path):
    text = '[serve]\nmax_concurrency = 5\n[faults]\nlatency = "1s"\n'
    server = start(20, scenario=with_tables(tmp_path, text))
    try:
        where = call(server, "POST", "/ordo/jobs", {"duration": "1h"}).headers["Location"]
        go = threading.Barrier(20)

        def one(_):
            go.wait()
            return call(server, "GET", where, timeout=10)

        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(one, range(20)))
        codes = sorted(a.status for a in answers)
        assert codes.count(200) >= 5 and 503 in codes
        busy = next(a for a in answers if a.status == 503)
        assert busy.headers["Retry-After"] == "1" and busy.json["error"] == "overloaded"
    finally:
        server.stop()


@pytest.mark.live
def test_an_outage_without_answers_drops_the_connection_at_the_deadline(tmp_path):
    text = """
[serve]
request_deadline = "1s"
[server]
outages = [{ start = 0, duration = "1h", mode = "no_answer" }]
"""
    server = start(20, scenario=with_tables(tmp_path, text))
    try:
        where = call(server, "POST", "/ordo/jobs", {"duration": "1h"}).headers["Location"]
        assert outcome(server, where, "c") == "dropped"
        report = call(server, "GET", "/_admin/report", token=ADMIN).json
        assert report["totals"]["injected_faults"] == {"outage_no_answer": 1}
    finally:
        server.stop()


# --- in process: the decisions themselves ------------------------------------------------


def faulty(**faults) -> Harness:
    h = Harness()
    h.doc("POST", "/ordo/jobs", {"duration": "1h"})
    status, _ = h.doc("PUT", "/_admin/faults", faults, token=CORE_ADMIN)
    assert status == 200
    return h


def test_a_rate_limit_answers_429_with_retry_after_and_counts_violations():
    h = faulty(rate_limit={"rate": "1/s", "burst": 3})
    answers = [h.call("GET", "/ordo/jobs/1") for _ in range(5)]
    assert [a.status for a in answers] == [200, 200, 200, 429, 429]
    assert answers[3].headers["Retry-After"] == "1"
    h.sleep(1.0)
    assert h.call("GET", "/ordo/jobs/1").status == 200  # a token again
    (row,) = h.core.report()["jobs"]
    assert row["retry_after_violations"] == 1  # the second 429 came too soon
    assert h.core.report()["totals"]["injected_faults"] == {"rate_limit": 2}


def test_outages_answer_503_with_retry_after_or_stall_until_they_end():
    h = faulty(outages=[{"start": 0, "duration": "10s", "mode": "503"}])
    answer = h.call("GET", "/ordo/jobs/1")
    assert answer.status == 503 and answer.headers["Retry-After"] == "5"  # [server] default
    h.sleep(10)
    assert h.call("GET", "/ordo/jobs/1").status == 200
    h = faulty(outages=[{"start": 0, "duration": "10s", "mode": "stall"}])
    stalled = h.call("GET", "/ordo/jobs/1")
    assert stalled.seconds == pytest.approx(10, abs=0.01)
    h.sleep(stalled.seconds)
    assert h.call("GET", "/ordo/jobs/1", decision=stalled.decision).status == 200


def test_injected_errors_are_answered_in_json_and_malformed_bodies_do_not_parse():
    h = faulty(errors={"502": 1.0})
    status, body = h.doc("GET", "/ordo/jobs/1")
    assert status == 502 and body["error"] == "injected"
    h = faulty(malformed=1.0)
    answer = h.call("GET", "/ordo/jobs/1")
    assert answer.status == 200
    with pytest.raises(ValueError):
        json.loads(answer.body)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"errors": {"404": 0.5}}, "errors.404: is not a status"),
        ({"reset": 2}, "reset"),
        ({"reset": 0.6, "empty": 0.6}, "add up to 1.2"),
        ({"outages": [{"start": 0}]}, "outages[0].duration"),
        ({"outages": "soon"}, "outages"),
        ({"colour": 1}, "colour"),
    ],
)
def test_bad_faults_are_refused_with_422_and_change_nothing(body, words):
    h = Harness()
    before = h.doc("GET", "/_admin/faults", token=CORE_ADMIN)[1]
    status, answer = h.doc("PUT", "/_admin/faults", body, token=CORE_ADMIN)
    assert status == 422 and words in answer["message"], answer
    assert h.doc("GET", "/_admin/faults", token=CORE_ADMIN)[1] == before
