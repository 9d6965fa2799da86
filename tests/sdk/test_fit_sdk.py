"""``pollsim fit`` recovers real SDK clients from their own traffic: fiddler-client's
``Job.wait``, azure-core's ``LROPoller`` and google-api-core's ``Operation.result``,
unchanged, each polling jobs on a real ``pollsim serve`` that logs every status request
(``--request-log``), read back as ``pollsim fit --request-log`` reads it.

The server's log is in simulated seconds: a client that sleeps ``s`` wall seconds shows
waits of ``s * SPEED``, plus its request's round trip and its own time, scaled as well
(a few ms, some 0.1 simulated s; more on a loaded machine): the fit's tolerance and the
parameters' allowance are derived from what the run measured of the client's own
requests (its round trips, and for a fixed wait the spread of its own waits), never a
fixed bound that a slow machine breaks. The
watch start is not in the log: the fit takes each job's first request as it (first=0),
which is what fiddler-client and google-api-core do; for azure-core the test reads it
from the server's report (each job's submission, as ``pollsim fit --jobs`` does).
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from pollsim.fitting import read_request_log
from sim.fit import Fit, fit
from tests.mock_server.server import ADMIN, Server, call, start

pytestmark = pytest.mark.live

SPEED = 20.0  #: simulated seconds per wall second
REL = 0.05  #: the least allowance: parameters within 5%, the fit's tolerance at least it
MOST = 0.3  #: a run noisier than this says nothing of the client's schedule


def allowance(noise: float) -> float:
    """A tolerance from the noise measured (relative): REL at least, and above it the
    noise with room; a run noisier than MOST fails as such, not as a wrong fit."""
    assert noise < MOST, f"the run's own timing noise ({noise:.1%}) hides the schedule"
    return max(REL, 1.5 * noise + 0.01)


def own_noise(gaps: list[float], trips: list[float]) -> tuple[float, float]:
    """The client's own waits (wall, between requests it sent after a 2xx) as it saw
    them: their median, and how far they stray from it (99th percentile) plus the
    round trips on either side (what the server's view adds), relative to it."""
    med = float(np.median(gaps))
    stray = float(np.quantile(np.abs(np.asarray(gaps) - med), 0.99))
    return med, (stray + 2 * float(np.quantile(trips, 0.99))) / med


@pytest.fixture
def logged(tmp_path):
    log = tmp_path / "requests.jsonl"
    s = start(SPEED, "--request-log", str(log))
    yield s, log
    s.stop()


def fitted(server: Server, log: Path, client: str, truth: bool = False, tol: float = REL) -> Fit:
    """The fit of one client's requests in the server's log (a report flushes it); with
    ``truth``, the server's report gives each watch's start (the job's submission)."""
    report = call(server, "GET", "/_admin/report", token=ADMIN)
    assert report.status == 200
    jobs = None
    if truth:
        jobs = log.with_name("truth.json")
        jobs.write_bytes(report.body)
    df, _ = read_request_log(log, client, jobs)
    return fit(df, tol=tol)


def test_fiddler_client_job_wait(logged, monkeypatch):
    """Job.watch: at once, then its interval after every 2xx, at once after an error."""
    fiddler = pytest.importorskip("fiddler")
    from fiddler.entities.job import Job

    from tests.sdk.test_fiddler_client import connect, put_faults, submit

    server, log = logged
    connect(server, monkeypatch)
    fiddler.conn.client.session.headers["X-Client-Id"] = "fiddler-fit"
    interval = 0.5  # wall seconds: 10 simulated (timing noise a small share of it)
    put_faults(server, {"errors": {"500": 0.2}})
    shown = [submit(server, "succeed", duration="30s") for _ in range(8)]

    def watch(one: str) -> None:
        job = Job()  # no Job.get: the watch's own requests only
        job.id = uuid.UUID(one)
        job.wait(interval=interval, timeout=60)

    seen: list[tuple[str, float, float, int]] = []  # the client's own view: url, sent, back

    def note(response, *args, **kwargs):
        back = time.monotonic()
        seen.append(
            (response.url, back - response.elapsed.total_seconds(), back, response.status_code)
        )

    fiddler.conn.client.session.hooks["response"].append(note)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(watch, shown))
    fiddler.conn.client.session.hooks["response"].remove(note)
    gaps, trips = [], [b - a for _, a, b, _ in seen]
    for url in {u for u, *_ in seen}:
        mine = sorted((x for x in seen if x[0] == url), key=lambda x: x[1])
        gaps += [b[1] - a[1] for a, b in pairwise(mine) if a[3] == 200]
    med, noise = own_noise(gaps, trips)
    tol = allowance(noise)
    result = fitted(server, log, "fiddler-fit", tol=tol)
    assert result.family == "fixed", (result.notes, result.waits, tol)
    late = max(med - interval, 0.0) / interval  # the client's own time beyond its interval
    wait = result.parameters["wait_after_first_poll"]
    assert wait == pytest.approx(interval * SPEED, rel=tol + late), (med, noise)
    assert result.first == 0 and result.on_error == "polls at once", result.text
    assert result.text.startswith("poll(at_once_on_error(fixed(")


def test_azure_core_lro_poller(logged):
    """LROBasePolling: its interval between polls; on a 503 outage, azure-core's
    RetryPolicy retries three times, keeping to the Retry-After, then the poller raises."""
    pytest.importorskip("azure.core")
    from azure.core.exceptions import HttpResponseError
    from azure.core.polling import LROPoller
    from azure.core.polling.base_polling import LROBasePolling
    from azure.core.rest import HttpRequest

    from tests.sdk.test_azure_core import Counter, azure_client

    server, log = logged
    interval = 0.5  # wall seconds: 10 simulated (timing noise a small share of it)
    counters: list[Counter] = []

    def run(_: int) -> None:
        counters.append(Counter())
        client = azure_client(server, "azure-fit", counters[-1])
        request = HttpRequest(
            "POST", client.format_url("/azure/jobs"), json={"outcome": "succeed", "duration": "40s"}
        )
        initial = client.send_request(request, _return_pipeline_response=True, enforce_https=False)
        assert initial.http_response.status_code == 202
        poller = LROPoller(
            client,
            initial,
            lambda response: response.http_response.json(),
            LROBasePolling(timeout=interval, enforce_https=False),
        )
        poller.result()

    def refused(n: int) -> None:
        with pytest.raises(HttpResponseError):
            run(n)

    # 5 wall seconds of 503s, each with a Retry-After of 1 s (the scenario's 5 simulated
    # seconds, which a header rounds up): 3 retries, some 3.5 s, and the poller raises
    now = call(server, "GET", "/healthz").json["now"]
    outage = {"outages": [{"start": now, "duration": 5 * SPEED, "mode": "503"}]}
    began = time.monotonic()
    assert call(server, "PUT", "/_admin/faults", outage, token=ADMIN).status == 200
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(refused, range(4)))
    time.sleep(max(0.0, began + 5.2 - time.monotonic()))  # the outage over
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(run, range(8)))
    gaps, trips = [], []
    for counter in counters:
        polls = [a for a in counter.attempts if a.method == "GET"]
        trips += [a.received - a.sent for a in counter.attempts]
        gaps += [
            b.sent - a.sent for a, b in pairwise(polls) if a.path == b.path and a.status == 200
        ]
    med, noise = own_noise(gaps, trips)
    tol = allowance(noise)
    result = fitted(server, log, "azure-fit", truth=True, tol=tol)
    assert result.family == "fixed", (result.notes, result.waits, tol)
    # the SDK's interval, and the client's own time beyond it as the run measured it
    late = max(med - interval, 0.0) / interval
    wait = result.parameters["wait_after_first_poll"]
    assert wait == pytest.approx(interval * SPEED, rel=tol + late), (med, noise)
    # and it polls at once after the submission (LROBasePolling._poll updates first),
    # seen from the submissions in the server's report
    assert result.first_known and result.first == 0, result.text
    assert result.outcomes["errored"] == 4 and result.on_error == "stops", result.text
    tries = result.strategy.retries
    assert (tries.n, tries.on, tries.retry_after) == (3, (503,), True)


def test_google_api_core_operation_result(logged):
    """Operation.result: full jitter up to an exponential backoff with a cap (its own
    polling Retry, given as google's DEFAULT_POLLING but quicker: 0.5 s, x1.5, at most
    1.5 s wall; 10, x1.5, at most 30 simulated)."""
    pytest.importorskip("google.api_core")
    import google.api_core.retry as retries
    from google.api_core import operation
    from google.api_core.future import polling
    from google.protobuf import struct_pb2

    from tests.sdk.test_google_api_core import Client

    server, log = logged
    wall = retries.Retry(
        predicate=polling.POLLING_PREDICATE, initial=0.5, maximum=1.5, multiplier=1.5
    )

    clients: list[Client] = []

    def run(_: int) -> None:
        client = Client(server)
        clients.append(client)
        op = client.submit(outcome="succeed", duration="30s")
        future = operation.from_gapic(
            op,
            client.ops,
            struct_pb2.Struct,
            metadata_type=struct_pb2.Struct,
            polling=wall.with_timeout(60),
        )
        future.result(timeout=60)

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(run, range(60)))
    # jittered waits say nothing of the client's own time; its round trips do: the
    # tops of the draws (the initial wait, the cap) come late by about them
    trips = [r.t1 - r.t0 for c in clients for r in c.sent]
    rel = allowance(2 * float(np.quantile(trips, 0.99)) / wall._initial)
    # the fit's own tolerance stays REL: a looser one lets a linear bound through the
    # tops of a few draws; the parameters are asked within the allowance measured
    result = fitted(server, log, "alpha:token#1")
    assert result.family == "full_jitter", (result.notes, result.waits, result.ks, rel)
    p = result.parameters
    # full jitter draws down to 0; the shortest wait the server saw came late by a round
    # trip or two, which on a loaded machine can pass the fit's own slack for "0": the
    # floor it names is asked within the allowance measured, of the first wait
    assert p["family"] == "exponential"
    assert p["min"] <= rel * wall._initial * SPEED, (p, rel)
    assert p["wait_after_first_poll"] == pytest.approx(wall._initial * SPEED, rel=rel)
    assert p["multiplier"] == pytest.approx(wall._multiplier, rel=rel)
    assert p["max"] == pytest.approx(wall._maximum * SPEED, rel=rel)
