"""google-api-core's operations REST client (``AbstractOperationsClient``) and its
Operation future (``operation.from_gapic``), unchanged, against a real ``pollsim serve``
in the google-lro dialect: jobs with forced outcomes, and injected faults.

The client is set up as a user of a local emulator sets it up: the endpoint with its
``http://`` scheme in ``ClientOptions.api_endpoint`` (the REST transport keeps a scheme
given in the host; its own ``url_scheme`` argument is not passed on to the base that
builds the URL) and the bearer token as a static access token
(``google.oauth2.credentials.Credentials(token=...)``: no refresh, no lookups). The job
is submitted with google-auth's ``AuthorizedSession`` and its answer parsed as a GAPIC
client parses a method's Operation. Only the polling is sped up, through the future's
own ``polling`` argument.

Each test counts the client's requests on its own side (a response hook on the requests
session its transport sends them on) and checks that the server's ground truth
(``GET /_admin/report``) counted exactly those status requests for the job, and that
the detection latency it reports is what the client saw.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import google.api_core.retry as retries
import google.auth.transport.requests as auth_requests
import google.oauth2.credentials as oauth2
import grpc  # noqa: F401 -- the operations client imports it even for REST
import pytest
from google.api_core import client_options, exceptions, operation, operations_v1
from google.api_core.future import polling
from google.auth.credentials import AnonymousCredentials
from google.longrunning import operations_pb2
from google.protobuf import json_format, struct_pb2

from tests.mock_server.server import ADMIN, Server, call, start
from tests.sdk.timing import time_sends

pytestmark = pytest.mark.live

SPEED = 20.0  #: simulated seconds per wall second: a 20 s job ends in a wall second
PROJECT, TOKEN = "alpha", "tok-a"  #: the tenant alpha's token (tests.mock_server.server)
#: how often the future polls: its own Retry, as google's DEFAULT_POLLING but quicker
POLLING = retries.Retry(
    predicate=polling.POLLING_PREDICATE, initial=0.1, maximum=0.3, multiplier=1.5, timeout=60
)


@pytest.fixture(scope="module")
def server():
    s = start(SPEED)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def faults(server):
    """Set the server's faults for one test (``PUT /_admin/faults``), cleared after it."""

    def put(body: dict) -> None:
        answer = call(server, "PUT", "/_admin/faults", body, token=ADMIN)
        assert answer.status == 200, answer.body

    yield put
    put({"outages": []})


@dataclass(frozen=True)
class Sent:
    """One request the client made, as its session saw it: sent after ``t0`` and
    answered by ``t1`` (monotonic wall seconds), so the server handled it in between."""

    method: str
    path: str
    status: int
    t0: float
    t1: float
    retry_after: str | None

    @property
    def mid(self) -> float:
        return (self.t0 + self.t1) / 2


class Client:
    """The operations client as a user makes it, and the requests it sends, counted and
    timed around the ``send`` of the session its REST transport sends them on
    (``time_sends``). The transport makes that ``AuthorizedSession`` itself and names it
    ``_session``: the one private name used, read once to wrap its send; the client's
    logic is not touched."""

    def __init__(self, server: Server) -> None:
        self.credentials = oauth2.Credentials(token=TOKEN)
        options = client_options.ClientOptions(api_endpoint=server.url)
        self.ops = operations_v1.AbstractOperationsClient(
            credentials=self.credentials, client_options=options
        )
        self.sent: list[Sent] = []
        time_sends(self.ops.transport._session, self._count)
        self.url = server.url

    def _count(self, response, t0: float, t1: float) -> None:
        req = response.request
        self.sent.append(
            Sent(
                req.method,
                urlsplit(req.url).path,
                response.status_code,
                t0,
                t1,
                response.headers.get("Retry-After"),
            )
        )

    def submit(self, **body) -> operations_pb2.Operation:
        """``POST /v1/projects/alpha/jobs`` with google-auth's session; the answer as an
        Operation (what a GAPIC REST client does with a method that starts one)."""
        session = auth_requests.AuthorizedSession(self.credentials)
        answer = session.post(f"{self.url}/v1/projects/{PROJECT}/jobs", json=body, timeout=10)
        if answer.status_code >= 400:
            raise exceptions.from_http_response(answer)
        return json_format.Parse(answer.content, operations_pb2.Operation())

    def future(self, op: operations_pb2.Operation) -> operation.Operation:
        return operation.from_gapic(
            op, self.ops, struct_pb2.Struct, metadata_type=struct_pb2.Struct, polling=POLLING
        )

    def polls(self, op: operations_pb2.Operation) -> list[Sent]:
        """The status requests (GetOperation) the client made for the operation."""
        return [s for s in self.sent if s.method == "GET" and s.path == f"/v1/{op.name}"]


def job_id(op: operations_pb2.Operation) -> str:
    return op.name.rsplit("/", 1)[1]


def truth(server: Server, op: operations_pb2.Operation) -> dict:
    """The ground truth's row for the operation's job (one client polled it)."""
    rows = call(server, "GET", "/_admin/report", token=ADMIN).json["jobs"]
    mine = [r for r in rows if r["job_id"] == job_id(op)]
    assert len(mine) == 1, mine
    return mine[0]


@dataclass(frozen=True)
class Clock:
    """The server's simulated clock as the client can read it: ``/healthz``'s ``now``
    was taken between ``t0`` and ``t1`` (wall), ``epoch`` is simulated 0 in ISO 8601."""

    now: float
    t0: float
    t1: float
    epoch: datetime
    speed: float

    def sim(self, wall: float) -> float:
        return self.now + (wall - (self.t0 + self.t1) / 2) * self.speed

    def at(self, iso: str) -> float:
        """An ISO 8601 time the server showed, in simulated seconds."""
        return (_parse_time(iso) - self.epoch).total_seconds()


def clock(server: Server) -> Clock:
    t0 = time.monotonic()
    doc = call(server, "GET", "/healthz", token=None).json
    t1 = time.monotonic()
    return Clock(doc["now"], t0, t1, _parse_time(doc["epoch"]), doc["speed"])


def _parse_time(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def check_latency(server: Server, client: Client, fut: operation.Operation, row: dict) -> None:
    """The report's detection latency is what the client saw: from the end time the
    Operation showed to when the client's request that first saw it done was handled,
    on the server's clock read through /healthz. Tolerance: that request's and /healthz's
    round trips (the server handled each somewhere within them), scaled, and the ISO
    times' milliseconds."""
    c = clock(server)
    seen = client.polls(fut.operation)[-1]  # the future stops at the first done answer
    end = c.at(fut.metadata["endTime"])
    client_latency = c.sim(seen.mid) - end
    tolerance = ((c.t1 - c.t0) + (seen.t1 - seen.t0)) / 2 * c.speed + 0.002
    assert row["detection_latency_s"] == pytest.approx(client_latency, abs=tolerance)
    assert row["t_end"] == pytest.approx(end, abs=0.002)
    assert row["requests_after_seen"] == 0
    answered = [p for p in client.polls(fut.operation)[:-1] if p.status == 200]
    if answered:  # at most the time since its last poll that showed the job not done
        gap = (seen.t1 - answered[-1].t0) * c.speed
        assert row["detection_latency_s"] <= gap + 0.002


def violations(polls: list[Sent]) -> tuple[int, int]:
    """Requests the client sent before the time the latest Retry-After asked it to wait
    for (whatever answers came in between): (certain ones, ones too close to the line to
    tell from the client's side, where the server handled either request anywhere in
    its round trip)."""
    sure = unsure = 0
    asked: tuple[Sent, float] | None = None
    for sent in polls:
        if asked is not None:
            given, wait = asked
            if sent.t1 - given.t0 < wait:
                sure += 1
            elif sent.t0 - given.t1 < wait:
                unsure += 1
        if sent.retry_after is not None:
            asked = (sent, float(sent.retry_after))
    return sure, unsure


def check_counts(server: Server, client: Client, op, row: dict | None = None) -> dict:
    """The server counted exactly the client's status requests for the job, and its
    errors as the client got them."""
    row = row or truth(server, op)
    polls = client.polls(op)
    assert row["polls"] == len(polls)
    faulty = [p for p in polls if p.status >= 400]
    assert row["injected_errors"] + row["errors"] == len(faulty)
    sure, unsure = violations(polls)
    assert sure <= row["retry_after_violations"] <= sure + unsure
    return row


# --- forced outcomes ----------------------------------------------------------------------


def test_success_returns_the_response_struct(server):
    client = Client(server)
    op = client.submit(outcome="succeed", duration="10s")
    assert not op.done
    fut = client.future(op)
    result = fut.result(timeout=60)
    assert result["jobId"] == job_id(op)
    assert fut.metadata["state"] == "JOB_STATE_SUCCEEDED"
    row = check_counts(server, client, op)
    assert row["state"] == "succeeded" and len(client.polls(op)) >= 2
    check_latency(server, client, fut, row)


def test_a_permanent_failure_raises_googles_unknown_with_the_jobs_message(server):
    client = Client(server)
    op = client.submit(template="chain", outcome="fail_step:build", duration="10s")
    fut = client.future(op)
    with pytest.raises(exceptions.GoogleAPICallError) as raised:
        fut.result(timeout=60)
    assert type(raised.value) is exceptions.Unknown  # google.rpc.Code 2
    assert raised.value.grpc_status_code.value[0] == 2
    assert "step build failed" in raised.value.message
    row = check_counts(server, client, op)
    assert row["state"] == "failed"
    check_latency(server, client, fut, row)


def test_two_transient_failures_retry_and_succeed(server):
    """The job retries twice inside the Operation (its metadata shows it running
    throughout); the client sees only the success."""
    client = Client(server)
    op = client.submit(template="chain", outcome="transient_failures:2", duration="5s")
    fut = client.future(op)
    assert fut.result(timeout=60)["jobId"] == job_id(op)
    row = check_counts(server, client, op)
    assert row["state"] == "succeeded"
    assert [s for _, s in row["shown"]].count("retry_wait") == 2
    check_latency(server, client, fut, row)


def test_cancel_ends_the_operation_cancelled(server):
    client = Client(server)
    op = client.submit(outcome="succeed", duration="1h")
    fut = client.future(op)
    assert fut.cancel() is True  # a GetOperation (not done yet), then CancelOperation
    cancels = [s for s in client.sent if s.method == "POST"]
    assert [(s.path, s.status) for s in cancels] == [(f"/v1/{op.name}:cancel", 200)]
    with pytest.raises(exceptions.Cancelled) as raised:
        fut.result(timeout=60)
    assert raised.value.grpc_status_code.value[0] == 1  # google.rpc.Code CANCELLED
    assert fut.cancelled()
    assert fut.cancel() is False  # done: no second CancelOperation
    assert len([s for s in client.sent if s.method == "POST"]) == 1
    row = check_counts(server, client, op)
    assert row["state"] == "cancelled"
    check_latency(server, client, fut, row)


def test_cancelling_a_done_operation_is_refused_as_google_refuses_it(server):
    client = Client(server)
    op = client.submit(outcome="succeed", duration="1s")
    client.future(op).result(timeout=60)
    with pytest.raises(exceptions.Conflict) as raised:  # 409 ABORTED
        client.ops.cancel_operation(op.name)
    assert "not done can be cancelled" in raised.value.message


def test_an_unknown_operation_is_googles_not_found(server):
    """pollsim's old error body crashed the client: ``AttributeError: 'str' object has
    no attribute 'get'``."""
    client = Client(server)
    with pytest.raises(exceptions.NotFound) as raised:
        client.ops.get_operation(f"projects/{PROJECT}/operations/999999")
    assert raised.value.reason == "NOT_FOUND"
    with pytest.raises(exceptions.NotFound):  # another tenant's project names nothing
        client.ops.get_operation("projects/beta/operations/1")


def test_the_client_lists_the_tenants_operations(server):
    client = Client(server)
    op = client.submit(outcome="succeed", duration="1h")
    names = [o.name for o in client.ops.list_operations(f"projects/{PROJECT}", "")]
    assert op.name in names
    assert all(n.startswith(f"projects/{PROJECT}/operations/") for n in names)


# --- injected faults ----------------------------------------------------------------------


def test_an_outage_of_503s_is_retried_by_get_operations_default_retry(server, faults):
    """The operations client's GetOperation retries ServiceUnavailable by default
    (jittered backoff from 0.5 s, deadline 10 s), without reading Retry-After: the job
    still ends in success, and the ground truth counts the early retries."""
    client = Client(server)
    op = client.submit(outcome="succeed", duration="10s")
    now = clock(server).now
    faults({"outages": [{"start": now, "duration": SPEED * 1.0, "mode": "503"}]})
    fut = client.future(op)
    assert fut.result(timeout=60)["jobId"] == job_id(op)
    polls = client.polls(op)
    unavailable = [p for p in polls if p.status == 503]
    assert unavailable and all(p.retry_after for p in unavailable)
    row = check_counts(server, client, op)
    assert row["injected_errors"] == len(unavailable)
    assert row["retry_after_violations"] >= 1  # the first retry waits at most 0.5 s of 1 s
    check_latency(server, client, fut, row)


def test_a_429_ends_result_by_default_and_is_retried_with_googles_retry(server, faults):
    """TooManyRequests is not in GetOperation's default retry, nor in the future's
    polling predicate: ``result()`` raises it at the first 429. With google's own
    ``polling.DEFAULT_RETRY`` predicate (which names TooManyRequests) as ``retry``, the
    client retries, without waiting the Retry-After, and gets the result."""
    client = Client(server)
    op = client.submit(outcome="succeed", duration="20s")
    faults({"rate_limit": {"rate": 2, "burst": 1}})
    fut = client.future(op)
    with pytest.raises(exceptions.TooManyRequests):
        fut.result(timeout=60)
    assert client.polls(op)[-1].status == 429
    limited = [p for p in client.polls(op) if p.status == 429]
    assert len(limited) == 1
    row = check_counts(server, client, op)
    assert row["t_seen"] is None
    retry = polling.DEFAULT_RETRY.with_delay(initial=0.05, maximum=0.2)
    fut = client.future(op)
    assert fut.result(timeout=60, retry=retry)["jobId"] == job_id(op)
    row = check_counts(server, client, op)
    assert row["injected_errors"] == len([p for p in client.polls(op) if p.status == 429])
    check_latency(server, client, fut, row)


def test_a_500_ends_result_by_default_and_is_retried_with_googles_retry(server, faults):
    client = Client(server)
    op = client.submit(outcome="succeed", duration="10s")
    faults({"errors": {"500": 1.0}})
    fut = client.future(op)
    with pytest.raises(exceptions.InternalServerError):
        fut.result(timeout=60)
    assert [p.status for p in client.polls(op)] == [500]
    check_counts(server, client, op)
    faults({"errors": {"500": 0.5}})
    retry = polling.DEFAULT_RETRY.with_delay(initial=0.05, maximum=0.2)
    fut = client.future(op)
    assert fut.result(timeout=60, retry=retry)["jobId"] == job_id(op)
    row = check_counts(server, client, op)
    assert row["injected_errors"] == len([p for p in client.polls(op) if p.status == 500])
    assert row["injected_errors"] >= 1
    check_latency(server, client, fut, row)


def test_anonymous_credentials_with_a_bearer_header_as_an_emulator_user_sends_it(server):
    """The other way local emulators are used: google's AnonymousCredentials (which
    add no header) and the token as request metadata, which the REST transport sends
    as headers."""
    client = Client(server)
    op = client.submit(outcome="succeed", duration="1h")
    anonymous = AnonymousCredentials()
    options = client_options.ClientOptions(api_endpoint=server.url)
    ops = operations_v1.AbstractOperationsClient(credentials=anonymous, client_options=options)
    got = ops.get_operation(op.name, metadata=[("authorization", f"Bearer {TOKEN}")])
    assert got.name == op.name and not got.done


def test_a_401_makes_google_auth_refresh_and_fail_in_its_own_words(server):
    """A 401 makes google-auth's session refresh the credentials and ask again; neither
    a static token nor anonymous credentials can be refreshed, so the client raises
    google-auth's error, not a GoogleAPICallError (pollsim's 401 body is never read)."""
    import google.auth.exceptions as auth_exceptions

    anonymous = AnonymousCredentials()
    options = client_options.ClientOptions(api_endpoint=server.url)
    name = f"projects/{PROJECT}/operations/1"
    for credentials, error in (
        (oauth2.Credentials(token="not-a-token"), auth_exceptions.RefreshError),
        (anonymous, auth_exceptions.InvalidOperation),
    ):
        ops = operations_v1.AbstractOperationsClient(
            credentials=credentials, client_options=options
        )
        with pytest.raises(error):
            ops.get_operation(name)
