"""Content codings of request bodies (gzip, deflate, br), decoded as the body arrives and
never past a cap: a bomb stops at the cap; a stream cut short, or followed by bytes that
are not another gzip member, does not decode (aiohttp's own decoding let a cut gzip
stream through as an empty body, and a default job was made of it).

>>> import gzip
>>> d = decoder("gzip")
>>> d.feed(gzip.compress(b'{"a": 1}'), room=100) + d.finish()
b'{"a": 1}'
>>> d = decoder("gzip")
>>> d.feed(gzip.compress(b'{"a": 1}')[:-8], room=100)  # without its checksum and size
b'{"a": 1}'
>>> d.finish()
Traceback (most recent call last):
...
mock_server.decoding.Undecodable: the gzip stream ends before its end
"""

from __future__ import annotations

import zlib

MEMBERS = 64  #: the most gzip members one body may hold


class Undecodable(ValueError):
    """The body does not decode; the message says why."""


class Unsupported(ValueError):
    """A coding the server does not decode; the message names it."""


class Decoder:
    """One body's decoding. ``feed`` gives what the data decodes to, at most one byte past
    ``room`` (more than that is over the cap: the rest is never decoded); ``finish`` what
    is left, or ``Undecodable`` when the stream has not ended."""

    name = "identity"

    def feed(self, data: bytes, room: int) -> bytes:
        return data

    def finish(self) -> bytes:
        return b""


def decoder(header: str | None) -> Decoder:
    """The decoder for a ``Content-Encoding`` header (one coding, or none)."""
    codings = [c.strip().lower() for c in (header or "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return Decoder()
    if len(codings) > 1:
        raise Unsupported(f"one content coding at most, found {', '.join(codings)[:80]}")
    coding = codings[0]
    if coding in ("gzip", "x-gzip"):
        return _Zlib("gzip", 16 + zlib.MAX_WBITS)
    if coding == "deflate":
        return _Zlib("deflate", None)
    if coding == "br":
        return _brotli()
    raise Unsupported(f"Content-Encoding {coding[:40]!r}; expected gzip, deflate or br")


class _Zlib(Decoder):
    """gzip (members one after another, as RFC 1952 allows) and deflate (zlib's wrapper,
    as RFC 9110 says, or raw deflate, as many clients send it)."""

    def __init__(self, name: str, wbits: int | None) -> None:
        self.name = name
        self._wbits = wbits  # None: deflate, told from its first byte
        self._d = zlib.decompressobj(wbits) if wbits is not None else None
        self._members = 1

    def feed(self, data: bytes, room: int) -> bytes:
        if self._d is None:
            if not data:
                return b""
            self._wbits = zlib.MAX_WBITS if data[0] & 0x0F == 8 else -zlib.MAX_WBITS
            self._d = zlib.decompressobj(self._wbits)
        out = []
        while data and room >= 0:
            try:
                piece = self._d.decompress(data, room + 1)
            except zlib.error as exc:
                raise Undecodable(f"the {self.name} stream is damaged ({exc})") from None
            out.append(piece)
            room -= len(piece)
            data = self._next_member() if self._d.eof and self._d.unused_data else b""
        return b"".join(out)

    def _next_member(self) -> bytes:
        rest = self._d.unused_data
        self._members += 1
        if self.name != "gzip" or self._members > MEMBERS:
            raise Undecodable(f"bytes after the end of the {self.name} stream")
        self._d = zlib.decompressobj(self._wbits)
        return rest

    def finish(self) -> bytes:
        if self._d is not None and not self._d.eof:
            raise Undecodable(f"the {self.name} stream ends before its end")
        return b""


def _brotli() -> Decoder:
    try:
        import brotli
    except ImportError:  # installed with Locust; without it, br is not decoded
        raise Unsupported("Content-Encoding 'br' (no brotli); expected gzip or deflate") from None

    class Brotli(Decoder):
        name = "br"

        def __init__(self) -> None:
            self._d = brotli.Decompressor()
            self._fed = False

        def feed(self, data: bytes, room: int) -> bytes:
            self._fed = self._fed or bool(data)
            try:
                return self._d.process(data, output_buffer_limit=room + 1)
            except brotli.error as exc:
                raise Undecodable(f"the br stream is damaged ({exc})") from None

        def finish(self) -> bytes:
            if self._fed and not self._d.is_finished():
                raise Undecodable("the br stream ends before its end")
            return b""

    return Brotli()
