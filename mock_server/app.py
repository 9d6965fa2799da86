"""The HTTP front: aiohttp moves bytes between sockets and ``mock_server.core`` and holds
long-polls on a timer set for the job's next possible change. It binds 127.0.0.1 unless
told otherwise (aiohttp itself would bind every interface when given no host).
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from mock_server.clock import ScaledClock
from mock_server.core import BASES, Config, Core, Hold, Request, error
from mock_server.model import LiveModel
from sim.scenario import Scenario


def make_app(core: Core) -> web.Application:
    """An aiohttp application serving ``core`` on every path."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            return await _answer(core, request)
        except Exception:  # a bug of ours: say so, in JSON, and keep serving
            traceback.print_exc(file=sys.stderr)
            resp = error(500, "internal", "the mock server failed on this request (a bug)")
            return web.Response(status=500, body=resp.body, headers=resp.headers)

    app = web.Application(client_max_size=core.config.max_body + 1)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def _answer(core: Core, request: web.Request) -> web.StreamResponse:
    limit = core.config.max_body
    if request.content_length is not None and request.content_length > limit:
        resp = error(413, "too_large", f"request body over {limit} bytes")
        return web.Response(status=413, body=resp.body, headers=resp.headers)
    body = await request.content.read(limit + 1) if request.can_read_body else b""
    req = Request(
        request.method,
        request.path,
        dict(request.query),
        {k.lower(): v for k, v in request.headers.items()},
        body,
    )
    resp = core.handle(req)
    if isinstance(resp, Hold):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + resp.wait
        while (delay := core.changed(resp)) > 0 and (left := deadline - loop.time()) > 0:
            await asyncio.sleep(min(delay, left))
        resp = core.handle(req, held=True)
    assert not isinstance(resp, Hold)
    return web.Response(status=resp.status, body=resp.body or None, headers=resp.headers)


@dataclass
class Settings:
    """How ``pollsim serve`` runs: where, how fast, with which credentials."""

    host: str = "127.0.0.1"
    port: int = 8080
    speed: float = 60.0
    tokens: dict[str, str] | None = None  #: token -> tenant; None: make one
    admin_token: str | None = None  #: None: make one
    background: bool = False
    anonymous_generic: bool = True


def build_core(scenario: Scenario, settings: Settings) -> Core:
    tokens = settings.tokens or {secrets.token_urlsafe(12): "default"}
    config = Config(
        tokens=tokens,
        admin_token=settings.admin_token or secrets.token_urlsafe(12),
        anonymous_generic=settings.anonymous_generic,
    )
    model = LiveModel(scenario, ScaledClock(settings.speed), background=settings.background)
    return Core(model, config)


def banner(core: Core, url: str, settings: Settings) -> str:
    speed = settings.speed
    lines = [
        f"pollsim serve: listening on {url}",
        f"  scenario {core.model.scenario.name}, speed {speed:g} (a wall second is "
        f"{speed:g} simulated seconds); templates: {', '.join(core.model.templates)}",
    ]
    for dialect, base in BASES.items():
        note = " (no token needed)" if dialect == "generic" and settings.anonymous_generic else ""
        lines.append(f"  {dialect:<9} {url}/{base}{note}")
    for token, tenant in core.config.tokens.items():
        lines.append(f"  token for tenant {tenant}: Authorization: Bearer {token}")
    lines.append(f"  admin token: {core.config.admin_token}")
    lines.append(
        f"  ground truth: GET {url}/_admin/report, or pollsim report --server {url} "
        "--admin-token ..."
    )
    lines.append("  Ctrl-C stops.")
    return "\n".join(lines)


async def serve(
    scenario: Scenario, settings: Settings, ready: Callable[[str], None] | None = None
) -> None:
    """Serve until SIGINT or SIGTERM."""
    core = build_core(scenario, settings)
    runner = web.AppRunner(make_app(core), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host=settings.host, port=settings.port)
    await site.start()
    host, port = runner.addresses[0][:2]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    print(banner(core, url, settings), flush=True)
    if ready:
        ready(url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def run(scenario: Scenario, settings: Settings) -> None:
    """Run the server in this process, on uvloop where it is installed."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(scenario, settings))
    else:
        uvloop.run(serve(scenario, settings))
