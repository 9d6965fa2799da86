"""Resets while a real server is busy: submissions, polls, long-polls, injected delays
and reports in flight from several threads while the admin resets again and again. No
answer is a 5xx, no traceback is printed, and after the last reset nothing of before
remains."""

from __future__ import annotations

import threading

import pytest

from tests.mock_server.server import ADMIN, call, start, with_tables

pytestmark = pytest.mark.live

#: half the status requests wait 0.2 s (injected latency): a reset falls in the waits
LATENCY = """
[faults]
latency = "200ms"
latency_probability = 0.5
"""


def test_resets_amid_traffic_never_fail_a_request_and_leave_nothing(tmp_path):
    server = start(20.0, scenario=with_tables(tmp_path, LATENCY))
    stop = threading.Event()
    statuses: list[int] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        headers = {"X-Client-Id": f"c{i}"}
        while not stop.is_set():
            made = call(server, "POST", "/ordo/jobs", {"template": "chain"}, headers=headers)
            got = [made.status]
            if made.status == 201:
                job = made.json["job"]["id"]
                wait = "?wait=1" if i % 2 else ""
                for _ in range(3):
                    got.append(
                        call(server, "GET", f"/ordo/jobs/{job}{wait}", headers=headers).status
                    )
            got.append(call(server, "GET", "/_admin/report", token=ADMIN).status)
            with lock:
                statuses.extend(got)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    try:
        for t in threads:
            t.start()
        resets = 0
        while resets < 15:
            threading.Event().wait(0.1)
            answer = call(server, "POST", "/_admin/reset", token=ADMIN)
            assert answer.status == 200, answer.body
            resets += 1
        stop.set()
        for t in threads:
            t.join(60)
        last = call(server, "POST", "/_admin/reset", token=ADMIN)
        assert last.status == 200
        jobs = call(server, "GET", "/_admin/jobs", token=ADMIN).json
        journal = call(server, "GET", "/_admin/requests", token=ADMIN).json
        report = call(server, "GET", "/_admin/report", token=ADMIN).json
    finally:
        stop.set()
        server.stop()
    _, err = server.process.communicate(timeout=30)
    assert len(statuses) > 50  # traffic went on throughout
    assert not [s for s in statuses if s >= 500 and s != 503], sorted(set(statuses))
    # a report asked while another is built is a 503 busy: the only 5xx allowed
    assert set(statuses) <= {200, 201, 304, 404, 503}
    assert 404 in statuses  # some requests were about a job a reset took away
    assert jobs["total"] == 0 and journal["total"] == 0
    assert report["jobs"] == [] and report["totals"]["server_errors"] == 0
    assert "Traceback" not in err
