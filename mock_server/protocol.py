"""aiohttp's connection protocol, with what the mock server needs of it on top:

- a deadline on each request's head: aiohttp has none, so a client that trickles its
  request line a byte a second would hold a connection forever. The clock starts at a
  request's first byte and stops when the handler starts (the head is in); past the
  deadline the connection is dropped. The handler bounds the body itself.
- requests aiohttp cannot even parse (a NUL in a header, a bad request line) answered in
  JSON like every other refusal, without a traceback in the log: the fault is the
  client's.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from mock_server.core import error


class Connection(RequestHandler):
    """One client connection; ``deadline`` (seconds) is set per server by ``factory``."""

    __slots__ = ("_between", "_timer")
    deadline = 10.0
    cut = 0  #: connections dropped at the deadline, all servers of this class

    def connection_made(self, transport) -> None:
        self._between = True  # between requests: the next byte starts the clock
        self._timer = None
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._between:
            self._between = False
            self._timer = asyncio.get_running_loop().call_later(self.deadline, self._expire)
        super().data_received(data)

    def connection_lost(self, exc) -> None:
        self.request_started()
        super().connection_lost(exc)

    def request_started(self) -> None:
        """The head is in: stop the clock."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def request_finished(self) -> None:
        self._between = True

    def _expire(self) -> None:
        self._timer = None
        type(self).cut += 1
        if self.transport is not None:
            self.transport.abort()

    def handle_error(self, request, status=500, exc=None, message=None):
        answer = super().handle_error(request, status, exc, message)
        resp = error(answer.status, "bad_request", f"cannot parse the request: {exc}")
        return web.Response(status=answer.status, body=resp.body, headers=resp.headers)


def factory(server: web.Server, deadline: float):
    """Connections of ``server`` with a head deadline, made as aiohttp makes its own."""
    cls = type("Connection", (Connection,), {"__slots__": (), "deadline": deadline, "cut": 0})
    kwargs = getattr(server, "_kwargs", {})
    loop = getattr(server, "_loop", None) or asyncio.get_running_loop()

    def make() -> Connection:
        return cls(server, loop=loop, **kwargs)

    return make
