"""A deadline for receiving each request's head: aiohttp has none, so a client that
trickles its request line a byte a second would hold a connection forever. This wraps
aiohttp's protocol: the clock starts at a request's first byte and stops when the
handler starts (the head is in); past the deadline the connection is dropped. The
handler bounds the body itself.
"""

from __future__ import annotations

import asyncio


class Deadlines:
    """The connections of one server, by transport, so a handler can tell its own that
    it started and finished."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.open: dict[int, DeadlineProtocol] = {}
        self.cut = 0  #: connections dropped at the deadline

    def wrap(self, inner: asyncio.Protocol) -> DeadlineProtocol:
        return DeadlineProtocol(inner, self)

    def started(self, transport: object) -> None:
        conn = self.open.get(id(transport))
        if conn is not None:
            conn.stop_clock()

    def finished(self, transport: object) -> None:
        conn = self.open.get(id(transport))
        if conn is not None:
            conn.idle = True


class DeadlineProtocol(asyncio.Protocol):
    """aiohttp's protocol for one connection, with a clock on each request's head."""

    def __init__(self, inner: asyncio.Protocol, owner: Deadlines) -> None:
        self.inner = inner
        self.owner = owner
        self.idle = True  # between requests: the next byte starts the clock
        self.timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport
        self.owner.open[id(transport)] = self
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.idle:
            self.idle = False
            loop = asyncio.get_running_loop()
            self.timer = loop.call_later(self.owner.seconds, self._expire)
        self.inner.data_received(data)  # type: ignore[attr-defined]

    def eof_received(self):
        return self.inner.eof_received()  # type: ignore[attr-defined]

    def connection_lost(self, exc) -> None:
        self.stop_clock()
        if self.transport is not None:
            self.owner.open.pop(id(self.transport), None)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def stop_clock(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _expire(self) -> None:
        self.timer = None
        self.owner.cut += 1
        if self.transport is not None:
            self.transport.abort()
