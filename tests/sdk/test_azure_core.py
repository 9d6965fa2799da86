"""azure-core's own ``LROPoller`` and ``LROBasePolling``, unchanged, against a real
``pollsim serve`` in the azure-lro dialect.

The client is built as a generated Azure SDK client builds its pipeline (a
``Configuration`` with azure-core's retry, redirect, headers and bearer-token policies),
over plain http to loopback: azure's ``BearerTokenCredentialPolicy`` refuses http unless
a request says ``enforce_https=False``, which is how azure-core's own tests and a user of
a local emulator send a token to one; the poller passes its keyword arguments on to
every request it makes. A counting policy after the retry policy sees every attempt
the client makes, retries included; the server's ground truth must count exactly
those status requests (the GETs of the operation; the final GET of the resource is
not one), and its detection latency must be what the client saw.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from urllib.parse import urlparse

import pytest
from azure.core import PipelineClient
from azure.core.configuration import Configuration
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies import (
    BearerTokenCredentialPolicy,
    HeadersPolicy,
    RedirectPolicy,
    RetryPolicy,
    SansIOHTTPPolicy,
)
from azure.core.polling import LROPoller
from azure.core.polling.base_polling import LROBasePolling
from azure.core.rest import HttpRequest

from tests.mock_server.server import ADMIN, Server, call, start, with_tables

pytestmark = pytest.mark.live

SPEED = 40.0  #: simulated seconds per wall second: a 10 s step takes a quarter second
POLL = 0.1  #: LROBasePolling's interval (wall seconds) where no Retry-After asks more
STEP = "10s"  #: every step's scripted duration
LONG_STEP = "30s"  #: under drawn faults: some fifteen polls, past the first faults drawn
TERMINAL = {"Succeeded", "Failed", "Canceled"}


class StaticToken:
    """A credential that hands out a fixed bearer token (pollsim's tokens never expire)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


@dataclass
class Attempt:
    """One HTTP request the client made, as its own pipeline saw it."""

    method: str
    path: str
    sent: float  #: time.monotonic() as it left the pipeline's retry loop
    received: float
    status: int
    doc: dict | None  #: the JSON object answered, if one was
    retry_after: str | None  #: the answer's Retry-After

    @property
    def word(self) -> str | None:
        return self.doc.get("status") if self.doc else None


@dataclass
class Counter(SansIOHTTPPolicy):
    """Every attempt, retries included: it sits after azure-core's RetryPolicy."""

    attempts: list[Attempt] = field(default_factory=list)

    def on_request(self, request) -> None:
        request.context["sent"] = time.monotonic()

    def on_response(self, request, response) -> None:
        http = response.http_response
        try:
            doc = json.loads(http.text())
        except ValueError:
            doc = None
        self.attempts.append(
            Attempt(
                request.http_request.method,
                urlparse(request.http_request.url).path,
                request.context["sent"],
                time.monotonic(),
                http.status_code,
                doc if isinstance(doc, dict) else None,
                http.headers.get("Retry-After"),
            )
        )


def azure_client(
    server: Server, name: str, counter: Counter, token: str = "tok-a"
) -> PipelineClient:
    """A pipeline as a generated client's: headers (pollsim's X-Client-Id names the
    client in the ground truth), redirects, retries, then the bearer token."""
    config = Configuration()
    config.headers_policy = HeadersPolicy({"X-Client-Id": name})
    config.redirect_policy = RedirectPolicy()
    config.retry_policy = RetryPolicy()
    config.authentication_policy = BearerTokenCredentialPolicy(StaticToken(token), "pollsim")
    return PipelineClient(server.url, config=config, per_retry_policies=[counter])


@dataclass(frozen=True)
class Clock:
    """The server's simulated now, asked between two of the client's monotonic times."""

    now: float
    before: float
    after: float
    speed: float
    epoch: datetime  #: simulated 0 as the documents' timestamps write it

    def window(self, a: Attempt) -> tuple[float, float]:
        """When, on the server's clock, a request can have arrived: after it was sent,
        before its answer was back (widened by the time asking the clock took)."""
        return (
            self.now + (a.sent - self.after) * self.speed,
            self.now + (a.received - self.before) * self.speed,
        )

    def sim(self, stamp: str) -> float:
        """A document's timestamp as simulated seconds."""
        return (iso(stamp) - self.epoch).total_seconds()


def server_clock(server: Server) -> Clock:
    before = time.monotonic()
    health = call(server, "GET", "/healthz").json
    after = time.monotonic()
    return Clock(health["now"], before, after, health["speed"], iso(health["epoch"]))


def iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Run:
    """One job submitted and polled to its end by azure-core."""

    name: str
    counter: Counter
    job_id: str
    poller: LROPoller
    clock: Clock
    result: dict | None = None
    error: HttpResponseError | None = None


def run(server: Server, name: str, **body) -> Run:
    """Submit ``body`` as client ``name`` and poll it to its end with LROPoller."""
    counter = Counter()
    client = azure_client(server, name, counter)
    clock = server_clock(server)
    request = HttpRequest("POST", client.format_url("/azure/jobs"), json=body)
    initial = client.send_request(request, _return_pipeline_response=True, enforce_https=False)
    assert initial.http_response.status_code == 202, initial.http_response.text()
    where = initial.http_response.headers["Operation-Location"]
    assert where.startswith(server.url + "/azure/operations/")  # absolute: no Location polling
    poller = LROPoller(
        client,
        initial,
        lambda response: response.http_response.json(),
        LROBasePolling(timeout=POLL, enforce_https=False),
    )
    out = Run(name, counter, where.rsplit("/", 1)[1], poller, clock)
    try:
        out.result = poller.result()
    except HttpResponseError as exc:
        out.error = exc
    assert poller.done()
    return out


def check_truth(server: Server, r: Run, state: str) -> dict:
    """The ground truth agrees with what the client did and what it saw; its row."""
    report = call(server, "GET", "/_admin/report", token=ADMIN).json
    rows = [x for x in report["jobs"] if x["client"] == r.name and x["job_id"] == r.job_id]
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["state"] == state
    attempts = r.counter.attempts
    polls = [a for a in attempts if a.method == "GET" and a.path == f"/azure/operations/{r.job_id}"]
    finals = [a for a in attempts if a.method == "GET" and a.path == f"/azure/jobs/{r.job_id}"]
    submits = [a for a in attempts if a.method == "POST"]
    assert len(attempts) == len(polls) + len(finals) + len(submits)
    # every status request the client made, retried ones included, and no other
    assert row["polls"] == len(polls)
    # the final GET, once on success (retried too, where refused: not a status request)
    assert len([a for a in finals if a.status == 200]) == (1 if state == "succeeded" else 0)
    refused = [a for a in polls if a.status != 200]
    assert row["injected_errors"] == len(refused) and row["errors"] == 0
    # no early end: the client saw the end first in an answer given after the job ended
    first = next(i for i, a in enumerate(polls) if a.status == 200 and a.word in TERMINAL)
    assert all(a.word not in TERMINAL for a in polls[:first])
    assert row["t_end"] is not None and row["t_seen"] >= row["t_end"]
    # that answer's request is the one the truth saw the end with ...
    low, high = r.clock.window(polls[first])
    assert low <= row["t_seen"] <= high
    # ... and the end time it read is the true end (to the document's millisecond), so
    # the report's detection latency is the client's own: its request's time less that
    shown_end = r.clock.sim(polls[first].doc["lastUpdatedDateTime"])
    assert shown_end == pytest.approx(row["t_end"], abs=0.001 + 1e-6)
    assert low - shown_end - 0.001 <= row["detection_latency_s"] <= high - shown_end + 0.001
    return row


@pytest.fixture(scope="module")
def server():
    s = start(SPEED)
    yield s
    s.stop()


@pytest.fixture
def fresh():
    """A server of its own, for faults: they are drawn from the scenario's seed in
    request order, so a test alone on a server gets the same ones every run."""
    s = start(SPEED)
    yield s
    s.stop()


def put_faults(server: Server, **faults) -> None:
    answer = call(server, "PUT", "/_admin/faults", faults, token=ADMIN)
    assert answer.status == 200, answer.body


def status_requests(r: Run) -> list[Attempt]:
    path = f"/azure/operations/{r.job_id}"
    return [a for a in r.counter.attempts if a.method == "GET" and a.path == path]


def test_a_job_that_succeeds_returns_its_resource_only_once_it_has_ended(server):
    r = run(server, "azure-succeed", template="chain", outcome="succeed", duration=STEP)
    assert r.error is None and r.poller.status() == "Succeeded"
    assert r.result["id"] == r.job_id and r.result["status"] == "Succeeded"
    assert [o["artifact_name"] for o in r.result["outputs"]] == ["prepare.out", "build.out"]
    row = check_truth(server, r, "succeeded")
    # it polled while the job ran (the old bug: Succeeded at once, the job still running)
    words = [a.word for a in status_requests(r)]
    assert "Running" in words and words[-1] == "Succeeded"
    assert row["polls"] == len(words) >= 2


def test_a_job_that_fails_raises_the_operations_error(server):
    r = run(server, "azure-fail", template="chain", outcome="fail_step:build", duration=STEP)
    assert r.result is None and r.poller.status() == "Failed"
    assert r.error.status_code == 200  # the status request worked: the job failed
    assert (r.error.error.code, r.error.error.message) == ("JobFailed", "step build failed")
    check_truth(server, r, "failed")
    assert status_requests(r)[-1].word == "Failed"


def test_two_transient_failures_and_the_job_still_succeeds(server):
    outcome = "transient_failures:2"
    r = run(server, "azure-transient", template="chain", outcome=outcome, duration=STEP)
    assert r.error is None and r.result["status"] == "Succeeded"
    row = check_truth(server, r, "succeeded")
    assert [s for _, s in row["shown"]].count("retry_wait") == 2  # the job's own retries
    # which the operation shows as Running throughout
    words = {a.word for a in status_requests(r)}
    assert "Running" in words and words <= {"NotStarted", "Running", "Succeeded"}


def test_injected_500s_and_503s_are_retried_by_azures_retry_policy(fresh):
    """Faults drawn from the scenario's seed: at most three in a row in the first 120
    status requests, within RetryPolicy's three status retries of each request."""
    put_faults(fresh, errors={"500": 0.15, "503": 0.15})  # the 6th and 10th are faults
    r = run(fresh, "azure-5xx", template="chain", outcome="succeed", duration=LONG_STEP)
    assert r.error is None and r.result["status"] == "Succeeded"
    row = check_truth(fresh, r, "succeeded")
    refused = [a for a in status_requests(r) if a.status != 200]
    assert row["injected_errors"] == len(refused) >= 1
    assert {a.status for a in refused} <= {500, 503}
    codes = {a.doc["error"]["code"] for a in refused}  # in Azure's shape
    assert codes <= {"InternalServerError", "ServiceUnavailable"}


def test_a_status_api_that_keeps_failing_ends_the_poller_after_three_retries(fresh):
    """RetryPolicy's default: three status retries of a request, then the answer goes to
    the poller, which raises on a status it does not take (500): it gives up on a job
    that is still running, after four requests."""
    put_faults(fresh, errors={"500": 1.0})
    r = run(fresh, "azure-down", template="chain", outcome="succeed", duration=STEP)
    assert r.result is None and r.error.status_code == 500
    assert r.error.error.code == "InternalServerError"
    polls = status_requests(r)
    assert [a.status for a in polls] == [500] * 4
    report = call(fresh, "GET", "/_admin/report", token=ADMIN).json
    (row,) = [x for x in report["jobs"] if x["client"] == r.name]
    assert row["polls"] == 4 and row["injected_errors"] == 4 and row["errors"] == 0
    assert row["t_seen"] is None  # it never saw the end


def test_an_outage_answered_503_with_retry_after(fresh):
    """The status API is down for a wall second and a half: RetryPolicy waits each
    Retry-After, then the poller goes on where it was."""
    now = call(fresh, "GET", "/healthz").json["now"]
    put_faults(fresh, outages=[{"start": now, "duration": 1.5 * SPEED, "mode": "503"}])
    r = run(fresh, "azure-outage", template="chain", outcome="succeed", duration=STEP)
    assert r.error is None and r.result["status"] == "Succeeded"
    row = check_truth(fresh, r, "succeeded")
    refused = [a for a in status_requests(r) if a.status != 200]
    assert refused and {a.status for a in refused} == {503}
    assert row["retry_after_violations"] == 0


def test_a_rate_limit_answered_429_with_retry_after(fresh):
    put_faults(fresh, rate_limit={"rate": 2, "burst": 2})
    r = run(fresh, "azure-429", template="chain", outcome="succeed", duration=STEP)
    assert r.error is None and r.result["status"] == "Succeeded"
    row = check_truth(fresh, r, "succeeded")
    refused = [a for a in status_requests(r) if a.status != 200]
    assert refused and {a.status for a in refused} == {429}
    assert {a.doc["error"]["code"] for a in refused} == {"TooManyRequests"}
    assert row["retry_after_violations"] == 0


def test_errors_reach_the_client_in_azures_shape(server):
    """A refused submission and a poller resumed under another tenant's token: azure-core
    reads the code and message of each (RetryPolicy retries neither)."""
    counter = Counter()
    alpha = azure_client(server, "azure-errors", counter)
    url = alpha.format_url("/azure/jobs")
    refused = alpha.send_request(
        HttpRequest("POST", url, json={"outcome": "explode"}), enforce_https=False
    )
    error = HttpResponseError(response=refused)
    assert (refused.status_code, error.error.code) == (422, "InvalidRequest")
    assert "explode" in error.error.message
    body = {"template": "chain", "outcome": "succeed", "duration": STEP}
    initial = alpha.send_request(
        HttpRequest("POST", url, json=body), _return_pipeline_response=True, enforce_https=False
    )
    job_id = initial.http_response.headers["Operation-Location"].rsplit("/", 1)[1]
    elsewhere = Counter()
    beta = azure_client(server, "azure-errors-beta", elsewhere, token="tok-b")
    poller = LROPoller(
        beta, initial, lambda r: r.http_response.json(), LROBasePolling(POLL, enforce_https=False)
    )
    with pytest.raises(HttpResponseError) as caught:
        poller.result()
    assert (caught.value.status_code, caught.value.error.code) == (404, "NotFound")
    assert [(a.method, a.path, a.status) for a in elsewhere.attempts] == [
        ("GET", f"/azure/operations/{job_id}", 404)
    ]
    # no job of beta's was asked about: the ground truth has no status request of it
    report = call(server, "GET", "/_admin/report", token=ADMIN).json
    assert not [x for x in report["jobs"] if x["client"] == "azure-errors-beta"]


def test_the_poller_waits_the_retry_after_of_each_status_answer(tmp_path):
    """With a Retry-After on every answer (``[serve] retry_after_hint``), LROBasePolling
    waits it instead of its own interval: the ground truth finds no request too early."""
    scenario = with_tables(tmp_path, "[serve]\nretry_after_hint = 1\n")
    server = start(SPEED, scenario=scenario)
    try:
        r = run(server, "azure-hinted", template="chain", outcome="succeed", duration=STEP)
        assert r.error is None and r.result["status"] == "Succeeded"
        row = check_truth(server, r, "succeeded")
        polls = status_requests(r)
        assert len(polls) >= 2 and row["retry_after_violations"] == 0
        for asked, then in pairwise(polls):  # each waited at least what it was asked
            assert asked.retry_after == "1"
            assert then.sent - asked.received >= float(asked.retry_after)
    finally:
        server.stop()
