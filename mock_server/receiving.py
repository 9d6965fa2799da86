"""A request's body, received whole: to the end of its Content-Length or its last chunk,
decoded (``Content-Encoding``), within the request's deadline and at most ``limit`` bytes
after decoding. One ``read(n)`` returns what has arrived so far: a body sent in two writes
was read in part, and a part can be valid JSON that means something else.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from mock_server.core import Response, error


async def read_body(request: web.BaseRequest, limit: int, seconds: float) -> bytes | Response:
    """The whole body, or the refusal to send: 413 over ``limit``, 408 when it has not
    arrived within ``seconds``, 400 when it cannot be decoded."""
    length = request.content_length
    if length is not None and length > limit:
        return too_large(limit)
    if not request.can_read_body:
        return b""
    try:
        async with asyncio.timeout(max(seconds, 0.0)):
            await _continue(request)
            return await _read(request, limit)
    except TimeoutError:
        resp = error(408, "timeout", f"the request's body did not arrive within {seconds:g} s")
        resp.headers["Connection"] = "close"
        return resp
    except (RequestPayloadError, HttpProcessingError) as exc:
        return _undecodable(request, exc)
    except ConnectionError:  # the client hung up: nobody to answer
        raise asyncio.CancelledError from None


async def _read(request: web.BaseRequest, limit: int) -> bytes | Response:
    """Chunks as they arrive, decoded, until the end; past ``limit`` no more is read (nor
    decoded: a decompression bomb stops there)."""
    parts: list[bytes] = []
    size = 0
    content = request.content
    while chunk := await content.readany():
        size += len(chunk)
        if size > limit:
            return too_large(limit)
        parts.append(chunk)
    return b"".join(parts)


async def _continue(request: web.BaseRequest) -> None:
    """``Expect: 100-continue`` is answered, as aiohttp's router would: curl asks it of
    bodies over a kilobyte, and waits a second for it otherwise."""
    expect = request.headers.get("Expect")
    if expect and expect.lower() == "100-continue" and request.version >= (1, 1):
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")


def too_large(limit: int) -> Response:
    resp = error(413, "too_large", f"request body over {limit} bytes (after decoding)")
    resp.headers["Connection"] = "close"
    return resp


def _undecodable(request: web.BaseRequest, exc: Exception) -> Response:
    encoding = request.headers.get("Content-Encoding")
    if encoding:
        what = f"the body does not decode as Content-Encoding: {encoding[:40]}"
    else:
        what = "the body is not valid HTTP framing (Content-Length or chunked)"
    resp = error(400, "bad_body", f"{what} ({_reason(exc)})")
    resp.headers["Connection"] = "close"
    return resp


def _reason(exc: Exception) -> str:
    """aiohttp's message without its status prefix and line breaks."""
    cause = exc.__cause__ if isinstance(exc.__cause__, HttpProcessingError) else exc
    text = getattr(cause, "message", None) or str(cause)
    return " ".join(str(text).split())[:200]
