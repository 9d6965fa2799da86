"""The HTTP front: aiohttp moves bytes between sockets and ``mock_server.core`` and holds
long-polls on a timer set for the job's next possible change. It binds 127.0.0.1 unless
told otherwise (aiohttp itself would bind every interface when given no host).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import signal
import socket
import struct
import sys
import time
import traceback

import numpy as np
from aiohttp import web

from mock_server.clock import ScaledClock
from mock_server.core import BASES, Config, Core, Delay, Request, Response, error
from mock_server.faults import Faults
from mock_server.journal import Journal
from mock_server.model import LiveModel
from mock_server.offload import Offload
from mock_server.protocol import Connection, Watch, factory
from mock_server.truth import Truth
from sim.mock_spec import MockSpec
from sim.scenario import Scenario

EMPTY: dict = {}
FAULT_STREAM = 7  #: the faults' generator: the scenario's seed and this


def make_server(core: Core, spec: MockSpec) -> web.Server:
    """aiohttp's low-level server (no application, router or middleware: ``core`` routes)
    answering every request, at most ``spec.max_concurrency`` at once (beyond: 503 with
    Retry-After)."""
    in_flight = 0
    clock = time.perf_counter
    observe = core.metrics.observe

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        nonlocal in_flight
        if in_flight >= spec.max_concurrency:
            resp = error(503, "overloaded", "too many requests in progress", **{"Retry-After": "1"})
            return web.Response(status=503, body=resp.body, headers=resp.headers)
        in_flight += 1
        conn = request.protocol
        timed = isinstance(conn, Connection)
        if timed:
            conn.request_started()
        started = clock()
        try:
            return await _answer(core, request, spec)
        except Exception:  # a bug of ours: say so, in JSON, and keep serving
            traceback.print_exc(file=sys.stderr)
            resp = error(500, "internal", "the mock server failed on this request (a bug)")
            return web.Response(status=500, body=resp.body, headers=resp.headers)
        finally:
            in_flight -= 1
            observe(core.dialect_of(request.path), clock() - started)
            if timed:
                conn.request_finished()

    return web.Server(handle, access_log=None)


async def _answer(core: Core, request: web.Request, spec: MockSpec) -> web.StreamResponse:
    limit = core.config.max_body
    length = request.content_length
    if length is not None and length > limit:
        resp = error(413, "too_large", f"request body over {limit} bytes")
        return web.Response(status=413, body=resp.body, headers=resp.headers)
    body = b""
    if request.can_read_body:
        try:
            body = await asyncio.wait_for(request.content.read(limit + 1), spec.request_deadline)
        except TimeoutError:
            return _cut(request)
    # aiohttp's headers are case-insensitive already: the core asks in lower case
    query = request.query if request.query_string else EMPTY
    req = Request(request.method, request.path, query, request.headers, body)
    resp = core.handle(req)
    if isinstance(resp, Offload):  # the ground truth's report: built in a worker thread
        resp = await resp.run()
    held = False
    while not isinstance(resp, Response):
        if isinstance(resp, Delay):
            await asyncio.sleep(resp.seconds)
        else:  # a long-poll: until the job's document changes or the wait ends
            loop = asyncio.get_running_loop()
            deadline = loop.time() + resp.wait
            while (delay := core.changed(resp)) > 0 and (left := deadline - loop.time()) > 0:
                await asyncio.sleep(min(delay, left))
            held = True
        resp = core.handle(req, held=held, decision=resp.decision)
    if resp.transport is None:
        return web.Response(status=resp.status, body=resp.body or None, headers=resp.headers)
    if resp.transport == "dribble":
        return await _dribble(request, resp)
    if resp.transport == "hang":  # an outage that answers nothing: until the deadline
        await asyncio.sleep(spec.request_deadline)
    return _cut(request, reset=resp.transport != "empty")


def _cut(request: web.Request, reset: bool = True) -> web.StreamResponse:
    """Drop the connection without an answer: reset (RST) or closed (FIN)."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if reset and sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort() if reset else transport.close()
    raise asyncio.CancelledError  # nothing more to send on this request


async def _dribble(request: web.Request, resp: Response) -> web.StreamResponse:
    """The answer's body a few bytes at a time, at ``resp.rate`` bytes per second."""
    out = web.StreamResponse(status=resp.status, headers=resp.headers)
    out.content_length = len(resp.body)
    await out.prepare(request)
    chunk = max(1, int(resp.rate / 10))
    for i in range(0, len(resp.body), chunk):
        await out.write(resp.body[i : i + chunk])
        await asyncio.sleep(chunk / resp.rate)
    await out.write_eof()
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
    )
    model = LiveModel(
        scenario, ScaledClock(spec.speed, start_in=spec.start_in), background=spec.background
    )
    rng = np.random.default_rng(np.random.SeedSequence([scenario.seed, FAULT_STREAM]))
    faults = Faults(spec.faults, rng, scenario.server.outages, spec.max_clients)
    journal = Journal(spec.request_log, spec.request_log_max) if spec.request_log else None
    return Core(model, config, faults, Truth(journal, spec.max_clients))


def banner(core: Core, url: str, spec: MockSpec) -> str:
    speed = spec.speed
    lines = [
        f"pollsim serve: listening on {url}",
        f"  scenario {core.model.scenario.name}, speed {speed:g} (a wall second is "
        f"{speed:g} simulated seconds); templates: {', '.join(core.model.templates)}",
    ]
    for dialect, base in BASES.items():
        note = " (no token needed)" if dialect == "generic" and spec.anonymous_generic else ""
        lines.append(f"  {dialect:<9} {url}/{base}{note}")
    for token, tenant in core.config.tokens.items():
        lines.append(f"  token for tenant {tenant}: Authorization: Bearer {token}")
    lines.append(f"  admin token: {core.config.admin_token}")
    faults = spec.faults
    if faults.total or faults.latency or faults.rate_limit or core.faults.outages:
        lines.append("  faults: on (GET /_admin/faults shows them; PUT changes them)")
    lines.append(
        f"  ground truth: GET {url}/_admin/report, or pollsim report --server {url} "
        "--admin-token ..."
    )
    lines.append("  Ctrl-C stops.")
    return "\n".join(lines)


async def serve(scenario: Scenario, host: str, port: int) -> None:
    """Serve the scenario (its ``[serve]`` and ``[faults]`` as given) until SIGINT or
    SIGTERM."""
    spec = scenario.mock
    core = build_core(scenario, spec)
    # requests it cannot parse are the client's fault, answered 400: no traceback
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    web_server = make_server(core, spec)
    loop = asyncio.get_running_loop()
    watch = Watch(spec.request_deadline)
    watch.start()
    server = await loop.create_server(
        factory(web_server, watch),
        host=host,
        port=port,
        backlog=1024,
    )
    bound = server.sockets[0].getsockname()
    shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    url = f"http://{shown}:{bound[1]}"
    print(banner(core, url, spec), flush=True)
    # What exists now (the model, the imported libraries: millions of objects) lives as
    # long as the server: out of the cyclic collector's sight, so that a full collection
    # does not stall requests for a fraction of a second. The sweep freezes again as
    # jobs accumulate.
    gc.freeze()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        watch.stop()
        server.close()
        await web_server.shutdown(2)


def run(scenario: Scenario, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Run the server in this process, on uvloop where it is installed."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(scenario, host, port))
    else:
        uvloop.run(serve(scenario, host, port))
