"""Faults carried out on the connection itself: an answer never sent (the connection
reset or closed), or sent a few bytes at a time."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

from aiohttp import web

from mock_server.core import Response


def cut(request: web.Request, reset: bool = True) -> web.StreamResponse:
    """Drop the connection without an answer: reset (RST) or closed (FIN)."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if reset and sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort() if reset else transport.close()
    raise asyncio.CancelledError  # nothing more to send on this request


async def dribble(request: web.Request, resp: Response) -> web.StreamResponse:
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
