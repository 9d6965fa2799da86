"""A request's body, received whole: to the end of its Content-Length or its last chunk,
decoded (``Content-Encoding``, see ``mock_server.decoding``), within the request's
deadline and at most ``limit`` bytes both as sent and decoded. One ``read(n)`` returns
what has arrived so far: a body sent in two writes was read in part, and a part can be
valid JSON that means something else.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from mock_server.core import Response, error
from mock_server.decoding import Decoder, Undecodable, Unsupported, decoder


async def read_body(request: web.BaseRequest, limit: int, seconds: float) -> bytes | Response:
    """The whole body, or the refusal to send: 413 over ``limit``, 408 when it has not
    arrived within ``seconds``, 400 when it does not decode, 415 for a coding the server
    does not know."""
    length = request.content_length
    if length is not None and length > limit:
        return too_large(limit)
    if not request.can_read_body:
        return b""
    try:
        decode = decoder(request.headers.get("Content-Encoding"))
    except Unsupported as exc:
        return _refuse(415, "unsupported_encoding", str(exc))
    try:
        async with asyncio.timeout(max(seconds, 0.0)):
            await _continue(request)
            return await _read(request, decode, limit)
    except TimeoutError:
        return _refuse(408, "timeout", f"the request's body did not arrive within {seconds:g} s")
    except Undecodable as exc:
        return _refuse(400, "bad_body", f"the body does not decode: {exc}")
    except (RequestPayloadError, HttpProcessingError) as exc:
        return _refuse(400, "bad_body", f"the body's framing is not valid HTTP ({_reason(exc)})")
    except ConnectionError:  # the client hung up: nobody to answer
        raise asyncio.CancelledError from None


async def _read(request: web.BaseRequest, decode: Decoder, limit: int) -> bytes | Response:
    """Chunks as they arrive, decoded, until the end; past ``limit`` (as sent or decoded)
    no more is read nor decoded: a decompression bomb stops there."""
    parts: list[bytes] = []
    sent = size = 0
    content = request.content
    while chunk := await content.readany():
        sent += len(chunk)
        part = decode.feed(chunk, limit - size)
        size += len(part)
        if sent > limit or size > limit:
            return too_large(limit)
        parts.append(part)
    parts.append(decode.finish())
    return b"".join(parts)


async def _continue(request: web.BaseRequest) -> None:
    """``Expect: 100-continue`` is answered, as aiohttp's router would: curl asks it of
    bodies over a kilobyte, and waits a second for it otherwise."""
    expect = request.headers.get("Expect")
    if expect and expect.lower() == "100-continue" and request.version >= (1, 1):
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")


def too_large(limit: int) -> Response:
    return _refuse(413, "too_large", f"request body over {limit} bytes (as sent or decoded)")


def _refuse(status: int, kind: str, message: str) -> Response:
    """A refusal that closes the connection after it: what is left of the body is not
    read."""
    resp = error(status, kind, message)
    resp.headers["Connection"] = "close"
    return resp


def _reason(exc: Exception) -> str:
    """aiohttp's message without its status prefix and line breaks."""
    text = getattr(exc, "message", None) or str(exc)
    return " ".join(str(text).split())[:200]
