"""aiohttp's connection protocol, with what the mock server needs of it on top:

- a deadline on each request's head: aiohttp has none, so a client that trickles its
  request line a byte a second would hold a connection forever. The clock starts when
  the connection is accepted (a client that connects and sends nothing is dropped too),
  then at each later request's first byte, and stops when the handler starts (the head
  is in); past the deadline (checked once a second) the connection is dropped. The
  handler reads the body within what is left of the deadline. Idle connections between
  requests are aiohttp's keep-alive timeout's to close.
- requests aiohttp cannot even parse (a NUL in a header, a bad request line, a header
  too long) answered in JSON like every other refusal, without a traceback in the log:
  the fault is the client's. aiohttp gives the error no path, so the connection keeps
  the first bytes of each request it receives: where they begin with a request line,
  the answer is in the shape of the dialect of its path, as the core's errors there are.
"""

from __future__ import annotations

import asyncio
import gc
import time

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from mock_server.core import error, in_dialect_at


class Connection(RequestHandler):
    """One client connection. Its head clock is a timestamp, not a timer: one sweep a
    second (``Watch``) drops the connections whose head has taken longer than the
    deadline, so a request costs one clock read rather than a timer set and cancelled."""

    __slots__ = ("_between", "_head", "_lost", "_since")
    watch: Watch | None = None  #: set per server by ``factory``

    def connection_made(self, transport) -> None:
        # the clock runs from accept: a connection that never sends a byte is dropped too
        self._between = False
        self._head: bytes | None = None  #: the first bytes of the request being read
        self._lost: asyncio.Future | None = None
        self._since = self.watch.clock() if self.watch is not None else None
        if self.watch is not None:
            self.watch.open.add(self)
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._between:
            self._between = False
            self._since = self.watch.clock() if self.watch is not None else None
        if self._head is None:
            self._head = bytes(data[:HEAD_KEPT])
        super().data_received(data)

    def connection_lost(self, exc) -> None:
        if self.watch is not None:
            self.watch.open.discard(self)
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)
        super().connection_lost(exc)

    def lost(self) -> asyncio.Future:
        """Done when the client hangs up (at once if it has): a request that waits (a
        long-poll, injected latency) stops waiting, and gives its slot back."""
        if self._lost is None:
            self._lost = self._loop.create_future()
            if self.transport is None:
                self._lost.set_result(None)
        return self._lost

    def request_started(self) -> float | None:
        """The head is in: stop the clock, and say when the request began (None: unknown,
        as for a request that came in the same read as the one before it)."""
        began, self._since = self._since, None
        return began

    def request_finished(self) -> None:
        self._between = True
        self._head = None  # the next request's bytes begin with the next read

    def handle_error(self, request, status=500, exc=None, message=None):
        answer = super().handle_error(request, status, exc, message)
        said = " ".join(str(getattr(exc, "message", None) or exc).split())[:200]
        resp = error(answer.status, "bad_request", f"cannot parse the request: {said}")
        path = target(self._head)
        if path is not None:
            resp = in_dialect_at(path, resp)
        return web.Response(status=answer.status, body=resp.body, headers=resp.headers)


HEAD_KEPT = 512  #: bytes of a request kept for its path, should it not parse


def target(head: bytes | None) -> str | None:
    """The path of the request line ``head`` begins with (``METHOD /path HTTP/1.x``, the
    path perhaps cut short), or None where it begins with no such line.

    >>> target(b"GET /v3/jobs/1?x=1 HTTP/1.1\\r\\nX-Big: ..."), target(b"\\x00 junk")
    ('/v3/jobs/1', None)
    """
    if not head:
        return None
    line = head.split(b"\r\n", 1)[0]
    method, _, rest = line.partition(b" ")
    if not method.isalpha() or not method.isupper() or not rest.startswith(b"/"):
        return None
    path = rest.split(b" ", 1)[0].split(b"?", 1)[0]
    return path.decode("latin-1")


class Watch:
    """The open connections of one server, swept for heads past the deadline."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.open: set[Connection] = set()
        self.cut = 0  #: connections dropped at the deadline
        self.clock = time.monotonic
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._sweep())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _sweep(self) -> None:
        step = min(1.0, self.deadline / 4)
        sweeps = 0
        while True:
            await asyncio.sleep(step)
            sweeps += 1
            if sweeps % 30 == 0:  # long-lived records out of the cyclic collector's sight
                gc.freeze()
            late = self.clock() - self.deadline
            for conn in [c for c in self.open if c._since is not None and c._since <= late]:
                self.cut += 1
                self.open.discard(conn)
                if conn.transport is not None:
                    conn.transport.abort()


def factory(server: web.Server, watch: Watch):
    """Connections of ``server`` watched by ``watch``, made as aiohttp makes its own."""
    cls = type("Connection", (Connection,), {"__slots__": (), "watch": watch})
    kwargs = getattr(server, "_kwargs", {})
    loop = getattr(server, "_loop", None) or asyncio.get_running_loop()

    def make() -> Connection:
        return cls(server, loop=loop, **kwargs)

    return make
