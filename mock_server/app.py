"""The HTTP front: aiohttp moves bytes between sockets and ``mock_server.core`` and holds
long-polls on a timer set for the job's next possible change. It binds 127.0.0.1 unless
told otherwise (aiohttp itself would bind every interface when given no host).
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
import traceback
from functools import partial

import numpy as np
from aiohttp import web

from mock_server.admission import Admission, operator
from mock_server.clock import ScaledClock
from mock_server.core import Config, Core, Delay, Request, Response, error
from mock_server.faults import Faults
from mock_server.holding import call_core as _core
from mock_server.holding import hold as _hold
from mock_server.holding import pause as _pause
from mock_server.injected import abandoned
from mock_server.journal import Journal
from mock_server.journaling import Entry, journaled, record
from mock_server.model import LiveModel
from mock_server.offload import Offload
from mock_server.protocol import Connection
from mock_server.receiving import read_body
from mock_server.truth import Truth
from mock_server.wire import cut, dribble
from sim.dialects import DIALECTS, Dialect, Kind
from sim.mock_spec import MockSpec
from sim.scenario import Scenario

EMPTY: dict = {}
SHUTDOWN = 0.2  #: seconds given to requests in progress when the server stops
FAULT_STREAM = 7  #: the faults' generator: the scenario's seed and this


def make_server(core: Core, spec: MockSpec, admission: Admission | None = None) -> web.Server:
    """aiohttp's low-level server (no application, router or middleware: ``core`` routes)
    answering every request, as many at once as ``admission`` lets in; idle connections
    closed after ``spec.keepalive_timeout``."""
    admission = admission or admission_for(spec)
    clock = time.perf_counter
    observe = core.metrics.observe

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        conn = request.protocol
        timed = isinstance(conn, Connection)
        began = conn.request_started() if timed else None
        path = request.path
        entry = Entry(core) if journaled(path) else None
        started = clock()
        status, retry_after = 0, None  # 0: no answer (cut, or the client hung up)
        refused = admission.enter(path)
        if refused is not None:
            try:
                out = _web(core.in_dialect_of(path, refused))
                status, retry_after = out.status, out.headers.get("Retry-After")
                return out
            finally:
                if timed:
                    conn.request_finished()
                if entry is not None:
                    record(core, entry, request, core.dialect_of(path), status, retry_after, 0.0)
        try:
            out = await _answer(core, request, spec, admission, began, entry)
            status, retry_after = out.status, out.headers.get("Retry-After")
            return out
        except ConnectionError:  # the client hung up mid-answer: nobody to tell
            raise asyncio.CancelledError from None
        except Exception:  # a bug of ours: say so, in JSON, count it, and keep serving
            traceback.print_exc(file=sys.stderr)
            core.truth.internal_error(core.dialect_of(path))
            resp = error(500, "internal", "the mock server failed on this request (a bug)")
            status = 500
            return _web(core.in_dialect_of(path, resp))
        finally:
            admission.leave()
            took = clock() - started
            dialect = core.dialect_of(path)
            observe(dialect, took)
            if timed:
                conn.request_finished()
            if entry is not None:
                record(core, entry, request, dialect, status, retry_after, took)

    # bodies are decoded by mock_server.decoding, which refuses a stream cut short
    return web.Server(
        handle, access_log=None, keepalive_timeout=spec.keepalive_timeout, auto_decompress=False
    )


def admission_for(spec: MockSpec) -> Admission:
    """The caps of ``spec``; long-polls in all default to half the concurrency."""
    long_polls = spec.long_polls_max or max(1, spec.max_concurrency // 2)
    return Admission(spec.max_concurrency, long_polls, spec.long_polls_per_client)


async def _answer(
    core: Core,
    request: web.BaseRequest,
    spec: MockSpec,
    admission: Admission,
    began,
    entry: Entry | None = None,
) -> web.StreamResponse:
    deadline = spec.request_deadline
    left = deadline if began is None else deadline - (time.monotonic() - began)
    body = await _receive(core, request, left, admission)
    if isinstance(body, Response):
        return _web(core.in_dialect_of(request.path, body))
    # aiohttp's headers are case-insensitive already: the core asks in lower case
    query = request.query if request.query_string else EMPTY
    req = Request(request.method, request.path, query, request.headers, body)
    run = core.model  # the run it arrived in: a reset (admin_reset) ends its waits
    woken = core.waker.future()  # done at the next reset
    resp = _core(core, entry, req)
    held = False
    # a client that hangs up ends the waits (its slot is free at once), not the request:
    # it is still answered, to nobody, and recorded in the ground truth as it arrived;
    # but a stall would go on until it ends: its request is recorded as unanswered
    gone = request.protocol.lost() if isinstance(request.protocol, Connection) else None
    if isinstance(resp, Offload):  # the ground truth's report: built in a worker thread
        resp = await resp.run(gone)
    while not isinstance(resp, Response):
        if isinstance(resp, Delay):
            hung_up = await _pause(resp.seconds, gone, woken)
            if hung_up and resp.abandoned is not None:
                if core.model is run:  # else the run it stalled in is no more
                    _core(core, entry, None, partial(abandoned, core, resp))
                return cut(request, reset=True)
        else:  # a long-poll: until the job's document changes or the wait ends
            refused = await _hold(core, req, resp, admission, gone, entry)
            if refused is not None:
                return _web(refused)
            held = True
        if core.model is not run:  # reset meanwhile: what it asked about is no more
            return _web(core.in_dialect_of(req.path, _reset_meanwhile(req)))
        resp = _core(core, entry, req, held=held, decision=resp.decision)
    if resp.transport is None:
        return _web(resp)
    if resp.transport == "dribble":
        return await dribble(request, resp)
    if resp.transport == "hang":  # an outage that answers nothing: until the deadline
        await _pause(spec.request_deadline, gone, woken)
    return cut(request, reset=resp.transport != "empty")


def _reset_meanwhile(req: Request) -> Response:
    """The answer to a request that waited (a long-poll, an injected delay) while the
    server was reset: its job is no more (``mock_server.admin_reset``)."""
    return error(
        404,
        "not_found",
        f"no job at {req.path[:200]}: it was made before the server's last reset "
        "(POST /_admin/reset, which woke this request while it waited)",
    )


async def _receive(
    core: Core, request: web.BaseRequest, seconds: float, admission: Admission
) -> bytes | Response:
    """The body, read in one of the places kept for bodies (see ``mock_server.admission``).
    In the operator's reserved slots only the admin's body is read: /healthz and /metrics
    take none, and a request without the admin token is refused whatever its body, so a
    body trickled to them cannot hold a reserved slot."""
    if not request.can_read_body:
        return b""
    if operator(request.path):
        header = request.headers.get("Authorization")
        who = core.access.identity(header) if header else None
        if who is None or not who.admin:
            return b""
    refused = admission.receive(request.path)
    if refused is not None:
        return refused
    try:
        return await read_body(request, core.config.max_body, seconds)
    finally:
        admission.received()


def _web(resp: Response) -> web.Response:
    """The core's answer as aiohttp's; ``Connection: close`` closes the connection after
    it (a body left unread is not waited for)."""
    out = web.Response(status=resp.status, body=resp.body or None, headers=resp.headers)
    if resp.headers.get("Connection") == "close":
        out.force_close()
    return out


def build_core(scenario: Scenario, spec: MockSpec) -> Core:
    """The server's core for a scenario: tokens made where none are given, faults drawn
    from a generator seeded from the scenario."""
    tokens = spec.tokens or {secrets.token_urlsafe(12): "default"}
    config = Config(
        tokens=tokens,
        admin_token=spec.admin_token or secrets.token_urlsafe(12),
        anonymous_generic=spec.anonymous_generic,
        etag=spec.etag,
        retry_after_hint=spec.retry_after_hint,
        max_wait=spec.long_poll_max,
        max_jobs=spec.max_jobs,
        max_jobs_per_tenant=spec.max_jobs_per_tenant,
        max_scripted_retries=spec.max_scripted_retries,
        max_scripted_retries_total=spec.max_scripted_retries_total,
    )
    model = LiveModel(
        scenario, ScaledClock(spec.speed, start_in=spec.start_in), background=spec.background
    )
    rng = np.random.default_rng(np.random.SeedSequence([scenario.seed, FAULT_STREAM]))
    faults = Faults(spec.faults, rng, scenario.server.outages, spec.max_clients)
    journal = Journal(spec.request_log, spec.request_log_max) if spec.request_log else None
    return Core(model, config, faults, Truth(journal, spec.max_clients, spec.request_journal_max))


def banner(core: Core, url: str, spec: MockSpec) -> str:
    speed = spec.speed
    lines = [
        f"pollsim serve: listening on {url}",
        f"  scenario {core.model.scenario.name}, speed {speed:g} (a wall second is "
        f"{speed:g} simulated seconds); templates: {', '.join(core.model.templates)}",
    ]
    width = max(map(len, DIALECTS))
    for dialect in DIALECTS.values():
        anonymous = dialect.anonymous and spec.anonymous_generic
        start = entry(dialect)
        note = " ({project}: the tenant's name)" if "{project}" in start else ""
        note += " (no token needed)" if anonymous else ""
        lines.append(f"  {dialect.name:<{width}} {url}{start}{note}")
    for token, tenant in core.config.tokens.items():  # a token given is not written out
        shown = "as given" if spec.tokens else f"Authorization: Bearer {token}"
        lines.append(f"  token for tenant {tenant}: {shown}")
    lines.append(f"  admin token: {'as given' if spec.admin_token else core.config.admin_token}")
    faults = spec.faults
    if faults.total or faults.latency or faults.rate_limit or core.faults.outages:
        lines.append("  faults: on (GET /_admin/faults shows them; PUT changes them)")
    lines.append(
        f"  ground truth: GET {url}/_admin/report, or pollsim report --server {url} "
        "--admin-token ..."
        + (f"; written to {spec.truth_out} when the server stops" if spec.truth_out else "")
    )
    lines.append(f"  admin API: POST {url}/_admin/reset, GET {url}/_admin/requests, /_admin/jobs")
    lines.append("  Ctrl-C stops.")
    return "\n".join(lines)


def entry(dialect: Dialect) -> str:
    """The path a client of ``dialect`` starts from: where it submits, else where it
    reads a status (placeholders as the route writes them)."""
    for kind in (Kind.SUBMIT, Kind.STATUS):
        route = next((r for r in dialect.routes if r.kind is kind), None)
        if route is not None:
            return route.path
    return dialect.routes[0].path if dialect.routes else "/"
