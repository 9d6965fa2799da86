"""azure-core 1.41.0's ``LROPoller`` with ``LROBasePolling`` on a fake clock, answered
from a Script.

The pipeline is a generated client's (``PipelineClient`` over a ``Configuration`` with
azure-core's ``RetryPolicy`` at its defaults: 3 status retries on 408, 429, 500, 502,
503, 504 (and any status from 506, or any error with a Retry-After), backoff 0, 1.6,
3.2 s, a Retry-After honoured instead) and the poller's defaults (``LROBasePolling()``:
30 s between polls unless the last answer's Retry-After is truthy). The job is started
with a POST answered 202 with an Operation-Location, and polled there: the first poll at
once, in the poller's own thread, as ``LROPoller`` starts it.

Nothing of it is changed: the requests go out through azure-core's ``RequestsTransport``
on a requests session (to a loopback server, or answered by a transport adapter mounted
on that session); the ``time`` the retry policy reads and the transport sleeps on (both
the retry policy's backoff and the poller's delay are ``transport.sleep``) is a fake
clock. ``base_polling`` itself reads no clock.
"""

from __future__ import annotations

import json
import math

from azure.core import PipelineClient
from azure.core.configuration import Configuration
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies import HeadersPolicy, RedirectPolicy, RetryPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.core.polling import LROPoller
from azure.core.polling.base_polling import LROBasePolling
from azure.core.rest import HttpRequest

from tests.conformance.harness import Script
from tests.conformance.library_run import (
    ENDED,
    ERRORED,
    POLLING,
    BoundedTime,
    Horizon,
    LibraryRun,
    replaced,
)
from tests.conformance.requests_script import Answering, Respond, loopback, scripted_session

VERSION = "azure-core 1.41.0"
#: every module that reads or sleeps on ``time`` in a poll: the retry policy (its
#: overall timeout) and the transport base, whose ``sleep`` both the retry policy and
#: ``LROBasePolling._sleep`` call
TIME_MODULES = ("azure.core.pipeline.policies._retry", "azure.core.pipeline.transport._base")
JOBS, OPERATION = "/azure/jobs", "/azure/operations/1"
_WORDS = {"running": "Running", "succeeded": "Succeeded"}
_CODES = {429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable"}


def respond(script: Script, base: str) -> Respond:
    """The POST that starts the job: 202 with an absolute Operation-Location (no
    Location, so no final GET); a GET of the operation: per the script, Azure's
    operation status or error body, with the Retry-After given."""

    def answer(method: str, path: str, t: float) -> tuple[int, dict[str, str], bytes]:
        headers = {"Content-Type": "application/json"}
        if method == "POST":
            headers["Operation-Location"] = base + OPERATION
            return 202, headers, json.dumps({"id": "1", "status": "NotStarted"}).encode()
        a = script.answer(t)
        if a.retry_after is not None:
            headers["Retry-After"] = f"{a.retry_after:g}"
        if a.http == 200:
            doc: dict = {"id": "1", "status": _WORDS[a.status]}
        else:
            code = _CODES.get(a.http, "Error")
            doc = {"error": {"code": code, "message": f"scripted {a.http}"}}
        return a.http, headers, json.dumps(doc).encode()

    return answer


def _client(base: str, session) -> PipelineClient:
    config = Configuration()
    config.headers_policy = HeadersPolicy()
    config.redirect_policy = RedirectPolicy()
    config.retry_policy = RetryPolicy()
    return PipelineClient(base, config=config, transport=RequestsTransport(session=session))


def _run(script: Script, url: str | None, clock: BoundedTime, answering: Answering) -> LibraryRun:
    base = url or "http://127.0.0.1"
    session = scripted_session(answering) if url is None else None
    with replaced("time", clock, TIME_MODULES):
        client = _client(base, session)
        start = HttpRequest("POST", base + JOBS, json={})
        initial = client.send_request(start, _return_pipeline_response=True)
        poller = LROPoller(client, initial, lambda r: r.http_response.json(), LROBasePolling())
        raised: BaseException | None = None
        try:
            poller.result()
        except (HttpResponseError, Horizon) as exc:
            raised = exc
        stop = clock.elapsed
    polls = [s for s in answering.log if s.method == "GET"]
    if raised is None:
        outcome = ENDED
    elif isinstance(raised, Horizon):
        outcome = POLLING
    else:
        outcome = ERRORED
    return LibraryRun(
        tuple(s.t for s in polls),
        tuple(s.http for s in polls),
        outcome,
        stop,
        type(raised).__name__ if raised is not None else None,
    )


def run(script: Script, horizon: float = math.inf) -> LibraryRun:
    """One ``LROPoller.result()``, its requests answered by a transport adapter mounted
    on the session its ``RequestsTransport`` sends them on; cut off at ``horizon``."""
    clock = BoundedTime(horizon)
    answering = Answering(clock, respond(script, "http://127.0.0.1"))
    return _run(script, None, clock, answering)


def run_loopback(script: Script, horizon: float = math.inf) -> LibraryRun:
    """``run`` through real HTTP: a server on 127.0.0.1 answering from the script."""
    clock = BoundedTime(horizon)
    box: dict[str, str] = {}
    answering = Answering(clock, lambda m, p, t: respond(script, box["url"])(m, p, t))
    with loopback(answering) as url:
        box["url"] = url
        return _run(script, url, clock, answering)
