"""google-api-core 2.44.0's ``Operation.result()`` on a fake clock, answered from a Script.

The future is the one a GAPIC REST client hands out (``operation.from_gapic`` over the
REST ``AbstractOperationsClient``, pollsim's google-lro dialect being HTTP/JSON), with
google's defaults throughout: ``polling.DEFAULT_POLLING`` (jittered waits from 1 s,
x1.5, at most 20 s, a 900 s deadline checked before each sleep) and GetOperation's
default retry (503 only, jittered from 0.5 s, x2, within 10 s). Nothing of it is
changed: its requests go out on its own requests session (to a loopback server, or
answered by a transport adapter mounted on that session); the ``time`` its retry
loops read and sleep on and the ``random`` its ``exponential_sleep_generator`` draws
from are replaced by a fake clock and a seeded generator.

``run_http_json`` is the same polling loop (``PollingFuture._blocking_poll`` over
``retry_target``) fed through ``operation.from_http_json``'s ``api_request`` hook,
with no request-level retry: the cheap way to draw thousands of schedules where no
error is answered.
"""

from __future__ import annotations

import concurrent.futures
import json
import math
import random

from google.api_core import client_options, exceptions, operation, operations_v1
from google.api_core.future import polling
from google.auth.credentials import AnonymousCredentials
from google.longrunning import operations_pb2
from google.protobuf import struct_pb2

from tests.conformance.harness import Script
from tests.conformance.library_run import (
    ENDED,
    ERRORED,
    GAVE_UP,
    POLLING,
    BoundedTime,
    Horizon,
    LibraryRun,
    replaced,
)
from tests.conformance.requests_script import Answering, Respond, loopback, scripted_session

VERSION = "google-api-core 2.44.0"
#: every module of the poll loop that reads or sleeps on ``time`` (the polling and the
#: request retries are both ``retry_unary.retry_target``; the deadline check is in
#: ``retry_base._retry_error_helper``)
TIME_MODULES = ("google.api_core.retry.retry_base", "google.api_core.retry.retry_unary")
#: where ``exponential_sleep_generator`` draws its jitter (``random.uniform``)
RANDOM_MODULES = ("google.api_core.retry.retry_base",)
NAME = "projects/p/operations/op-1"
_STATUS = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE"}


def document(script: Script, t: float) -> tuple[int, dict[str, str], dict]:
    """Google's answer to GetOperation at ``t``, per the script: the Operation, done once
    the script says succeeded, or google's JSON error body; Retry-After as given."""
    a = script.answer(t)
    headers = {"Content-Type": "application/json"}
    if a.retry_after is not None:
        headers["Retry-After"] = f"{a.retry_after:g}"
    if a.http == 200:
        doc: dict = {"name": NAME, "done": a.status == "succeeded"}
        if doc["done"]:
            struct = "type.googleapis.com/google.protobuf.Struct"
            doc["response"] = {"@type": struct, "value": {"jobId": "op-1"}}
    else:
        status = _STATUS.get(a.http, "UNKNOWN")
        doc = {"error": {"code": a.http, "message": f"scripted {a.http}", "status": status}}
    return a.http, headers, doc


def respond(script: Script) -> Respond:
    """``document`` as HTTP, for any GET (the operations client sends no other)."""

    def answer(method: str, path: str, t: float) -> tuple[int, dict[str, str], bytes]:
        status, headers, doc = document(script, t)
        return status, headers, json.dumps(doc).encode()

    return answer


def _outcome(exc: BaseException | None) -> str:
    """ended, gave up or errored, from what ``result()`` raised. Its TimeoutError covers
    two things: the polling deadline (the last error: the operation not done) and a
    request retry that ran out of its own deadline (the last error: an HTTP error
    answer), which ends the watch on an error after only ~10 s."""
    if exc is None:
        return ENDED
    if isinstance(exc, Horizon):
        return POLLING
    if isinstance(exc, concurrent.futures.TimeoutError):
        retry_error = exc.__context__
        assert isinstance(retry_error, exceptions.RetryError), repr(retry_error)
        last = retry_error.cause
        return GAVE_UP if isinstance(last, polling._OperationNotComplete) else ERRORED
    if isinstance(exc, exceptions.GoogleAPICallError):
        return ERRORED
    raise AssertionError(f"unexpected {exc!r}")


def _result(future: operation.Operation, clock: BoundedTime, answering: Answering) -> LibraryRun:
    raised: BaseException | None = None
    try:
        future.result()
    except (concurrent.futures.TimeoutError, exceptions.GoogleAPICallError, Horizon) as exc:
        raised = exc
    gets = [s for s in answering.log if s.method == "GET"]
    return LibraryRun(
        tuple(s.t for s in gets),
        tuple(s.http for s in gets),
        _outcome(raised),
        clock.elapsed,
        type(raised).__name__ if raised is not None else None,
    )


def run(script: Script, seed: int, horizon: float = math.inf) -> LibraryRun:
    """One ``Operation.result()`` of a GAPIC REST operations client, its requests
    answered by a transport adapter mounted on the transport's own session."""
    clock = BoundedTime(horizon)
    answering = Answering(clock, respond(script))
    return _run_gapic(seed, None, clock, answering)


def run_loopback(script: Script, seed: int, horizon: float = math.inf) -> LibraryRun:
    """``run`` through real HTTP: a server on 127.0.0.1 answering from the script."""
    clock = BoundedTime(horizon)
    answering = Answering(clock, respond(script))
    with loopback(answering) as url:
        return _run_gapic(seed, url, clock, answering)


def _run_gapic(seed: int, url: str | None, clock: BoundedTime, answering: Answering) -> LibraryRun:
    with (
        replaced("time", clock, TIME_MODULES),
        replaced("random", random.Random(seed), RANDOM_MODULES),
    ):
        options = client_options.ClientOptions(api_endpoint=url or "http://127.0.0.1")
        ops = operations_v1.AbstractOperationsClient(
            credentials=AnonymousCredentials(), client_options=options
        )
        if url is None:  # the transport's own AuthorizedSession (its one private name)
            scripted_session(answering, ops.transport._session)
        first = operations_pb2.Operation(name=NAME, done=False)
        future = operation.from_gapic(first, ops, struct_pb2.Struct)
        return _result(future, clock, answering)


def run_http_json(script: Script, seed: int, horizon: float = math.inf) -> LibraryRun:
    """The same polling through ``operation.from_http_json``'s ``api_request`` hook,
    which google-cloud-core's ``Connection.api_request`` fills: it is handed the decoded
    JSON document (no HTTP in between), and has no request-level retry here (an error
    answer raises at once)."""
    clock = BoundedTime(horizon)
    answering = Answering(clock, lambda method, path, t: document(script, t))

    def api_request(method: str, path: str) -> dict:
        status, _, doc = answering(method, "/" + path)
        if status >= 400:
            raise exceptions.from_http_status(status, doc["error"]["message"])
        return doc

    with (
        replaced("time", clock, TIME_MODULES),
        replaced("random", random.Random(seed), RANDOM_MODULES),
    ):
        future = operation.from_http_json(
            {"name": NAME, "done": False}, api_request, struct_pb2.Struct
        )
        return _result(future, clock, answering)
