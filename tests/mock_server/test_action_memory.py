"""What an action request (cancel, revoke, pause, resume) costs the server to keep: a
refused one nothing, an accepted one no more than the job's own life allows (a job is
cancelled once; pauses are capped a job and over all the jobs held).

An attack found every action request, refused ones included, kept an ``ActionRecord``
(about 280 bytes) for the server's life: a client stuck cancelling a finished job would
have passed the README's memory figure in minutes."""

from __future__ import annotations

import gc
import http.client
import sys
import types

import pytest

from tests.mock_server.helpers import Harness
from tests.mock_server.server import Server, call, start

OLD_COST = 280  #: bytes each action request used to keep, as the attack measured
# Requests made before counting: the counters and caches of each kind are made once, and
# every count is past the integers Python shares (up to 256), so one more makes no object.
WARM = 300
CHAIN = {"template": "chain", "durations": {"*": "1s"}}


def kept(core) -> tuple[int, int]:
    """Objects reachable from the server's core and their ``getsizeof`` bytes: all it
    holds, counted (functions and classes are code, not state, and are not followed)."""
    seen: set[int] = set()
    stack = [core]
    size = 0
    skip = (types.ModuleType, type, types.FunctionType, types.CodeType)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, skip):
            continue
        seen.add(id(obj))
        size += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return len(seen), size


def finished_job(h: Harness) -> str:
    status, doc = h.doc("POST", "/workflow/jobs", CHAIN)
    assert status == 201
    h.sleep(10)
    assert h.doc("GET", f"/workflow/jobs/{doc['id']}")[1]["state"] == "Success"
    return doc["id"]


def refuse_all(h: Harness, job: str, n: int) -> None:
    """``n`` rounds of every action route the QA server has, each refused: the job ended."""
    routes = (
        f"/workflow/jobs/{job}/cancel",
        f"/workflow/jobs/{job}/pause",
        f"/workflow/jobs/{job}/resume",
        f"/ordo/jobs/{job}/cancel",
        f"/fiddler/tasks/{job}/revoke",
        f"/v1/projects/alpha/operations/{job}:cancel",
    )
    for _ in range(n):
        for path in routes:
            status = h.call("POST", path).status
            assert status == 409, (path, status)


def test_refused_actions_on_a_finished_job_keep_nothing_however_many():
    h = Harness()
    job = finished_job(h)
    refuse_all(h, job, WARM)
    before = kept(h.core)
    refuse_all(h, job, 600)
    assert kept(h.core) == before
    assert h.core.model.lifecycle.actions == []


def test_a_job_is_cancelled_once_and_its_later_cancels_keep_nothing():
    h = Harness()
    job = h.doc("POST", "/ordo/jobs", {"template": "chain"})[1]["job"]["id"]
    assert h.call("POST", f"/ordo/jobs/{job}/cancel").status == 200
    refuse_all(h, job, WARM)
    before = kept(h.core)
    refuse_all(h, job, 300)
    assert kept(h.core) == before


def in_retry_wait(h: Harness) -> str:
    """A workflow job waiting for its retry (10 s, the clock stands still): pausing and
    resuming it plays out at once, again and again."""
    body = CHAIN | {"outcome": "transient_failures:1"}
    job = h.doc("POST", "/workflow/jobs", body)[1]["id"]
    h.sleep(2)
    assert h.doc("GET", f"/workflow/jobs/{job}")[1]["tasks"][0]["state"] == "Pending"
    assert h.core.model.lifecycle.jobs[int(job)].state.value == "retry_wait"
    return job


def cycle(h: Harness, job: str) -> tuple[int, dict]:
    paused = h.doc("POST", f"/workflow/jobs/{job}/pause")
    if paused[0] != 200:
        return paused
    assert paused[1]["state"] == "Paused"
    resumed = h.doc("POST", f"/workflow/jobs/{job}/resume")
    assert resumed[0] == 200 and resumed[1]["state"] == "Started"
    return resumed


def test_pauses_of_one_job_are_capped_with_a_409_naming_the_cap_and_then_keep_nothing():
    h = Harness()
    h.core.model.max_pauses = 5
    job = in_retry_wait(h)
    for _ in range(5):
        assert cycle(h, job)[0] == 200
    changes = len(h.core.model.records[int(job)].changes)
    status, doc = cycle(h, job)
    assert status == 409 and "max_pauses = 5" in doc["message"], doc
    for _ in range(WARM):
        assert cycle(h, job)[0] == 409
    before = kept(h.core)
    for _ in range(300):
        assert cycle(h, job)[0] == 409
    assert kept(h.core) == before
    assert len(h.core.model.records[int(job)].changes) == changes
    h.sleep(60)  # the job goes on and ends as it would have
    assert h.doc("GET", f"/workflow/jobs/{job}")[1]["state"] == "Success"


def test_pauses_of_all_the_jobs_held_are_capped_too():
    h = Harness()
    h.core.model.max_pauses_total = 4
    first, second = in_retry_wait(h), in_retry_wait(h)
    for _ in range(3):
        assert cycle(h, first)[0] == 200
    assert cycle(h, second)[0] == 200
    status, doc = cycle(h, second)
    assert status == 409 and "max_pauses_total = 4" in doc["message"], doc
    # a pause the job's state refuses anyway keeps the dialect's reason
    assert h.call("POST", f"/workflow/jobs/{second}/resume").status == 409
    status, doc = h.doc("POST", f"/workflow/jobs/{second}/cancel")
    assert status == 200 and doc["state"] in ("Dequeuing", "Cancelled")
    assert "max_pauses" not in h.doc("POST", f"/workflow/jobs/{second}/pause")[1]["message"]


# --- a real server ------------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def send(server: Server, method: str, path: str, n: int, expect: int) -> None:
    """``n`` requests on one keep-alive connection, each answered ``expect``."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Authorization": "Bearer tok-a", "Content-Length": "0"}
    try:
        for _ in range(n):
            conn.request(method, path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            assert resp.status == expect, (path, resp.status)
    finally:
        conn.close()


@pytest.mark.live
@pytest.mark.slow
def test_twenty_thousand_refused_cancels_grow_a_real_server_no_more_than_status_requests():
    n = 20_000
    server = start(60)
    try:
        doc = call(server, "POST", "/v1/projects/alpha/jobs", {"durations": {"*": "1s"}}).json
        job = doc["name"].rsplit("/", 1)[1]
        status_path = f"/v1/projects/alpha/operations/{job}"
        for _ in range(100):
            if call(server, "GET", status_path).json.get("done"):
                break
            send(server, "GET", status_path, 100, 200)  # waits on the server's own clock
        assert call(server, "GET", status_path).json["done"] is True
        cancel = status_path + ":cancel"
        pid = server.process.pid
        send(server, "GET", status_path, 2_000, 200)  # warm: the first of each kind
        send(server, "POST", cancel, 2_000, 409)
        growth = {}
        for name, method, path, expect in (
            ("status", "GET", status_path, 200),
            ("cancel", "POST", cancel, 409),
            ("status again", "GET", status_path, 200),
        ):
            before = rss_bytes(pid)
            send(server, method, path, n, expect)
            growth[name] = rss_bytes(pid) - before
        print(f"RSS growth per {n:,} requests: {growth}")
        noise = max(abs(growth["status"]), abs(growth["status again"]))
        # The leak kept n * 280 bytes (5.3 MiB); what is left must be the baseline's
        # noise and far less than a quarter of that.
        assert growth["cancel"] <= noise + n * OLD_COST / 4, growth
    finally:
        server.stop()
