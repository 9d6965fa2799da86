"""What the core takes and gives back, without a transport: a parsed request in; a
response, a long-poll to hold, or a delay out; and the JSON answers every part shares.

An error remembers what it was made from (its kind and message), so that whoever knows
the dialect of the path it answers can say it again in that dialect's shape
(``in_dialect``): refusals are made in many places, most of which know no dialect."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from mock_server.faults import NONE, Decision

if TYPE_CHECKING:
    from sim.dialects import Dialect


class Request(NamedTuple):
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  #: looked up by lower-case names
    body: bytes = b""


@dataclass
class Response:
    status: int  #: 0 with a ``transport`` fault that sends no answer
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: a fault the front carries out on the connection: reset, empty, hang, dribble
    transport: str | None = None
    rate: float = 0.0  #: bytes per second, when dribbling
    #: (kind, message) of an error made by ``error``, for ``in_dialect``
    error: tuple[str, str] | None = None


@dataclass(frozen=True)
class Hold:
    """A long-poll to hold: answer once the job's status document differs from ``etag``,
    or after ``wait`` wall seconds."""

    job_id: int
    dialect: Dialect
    etag: str
    wait: float
    decision: Decision = NONE


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` (wall), then handle the request again with ``decision``: injected
    latency, or a stalled outage. A stall names what to record if its client hangs up
    first (``abandoned``: the simulated time it arrived, the client, the job): a request
    that got no answer, not one answered when the stall ended."""

    seconds: float
    decision: Decision
    abandoned: tuple[float, str, int] | None = None


def error(status: int, kind: str, message: str, **headers: str) -> Response:
    """An error in pollsim's own shape, ``{"error": kind, "message": ...}``: what paths
    of no dialect answer (``/_admin``, ``/healthz``, unknown paths)."""
    body = json.dumps({"error": kind, "message": message}).encode()
    headers = {"Content-Type": "application/json", **headers}
    return Response(status, body, headers, error=(kind, message))


def in_dialect(resp: Response, dialect: Dialect | None) -> Response:
    """``resp`` as ``dialect`` says it: an error's body in the dialect's shape (same
    status and headers); anything else, or no dialect, as it is."""
    if resp.error is None or dialect is None:
        return resp
    doc = dialect.error(resp.status, *resp.error)
    body = json.dumps(doc).encode()
    return Response(resp.status, body, resp.headers, resp.transport, resp.rate, resp.error)


def ok(status: int, doc: object, **headers: str) -> Response:
    body = json.dumps(doc, separators=(",", ":")).encode()
    return Response(status, body, {"Content-Type": "application/json", **headers})


#: a Host header as links may use it: a host name or IPv4 address, or an IPv6 one in
#: brackets, and a port (checked <= 65535 apart); nothing that could end the authority
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#: a DNS name or an IPv4 address (labels of letters, digits and inner hyphens), or an
#: IPv6 address in brackets (checked by ``ipaddress``); a port 1 to 65535, no leading 0
_HOST = re.compile(rf"(?:({_LABEL}(?:\.{_LABEL})*)|\[([0-9A-Fa-f:.]+)\])(?::([1-9][0-9]{{0,4}}))?")
MAX_HOST = 255


def base_url(host: str | None, default: str) -> str:
    """``http://`` and ``host`` where it is a well-formed ``host[:port]``, else ``default``.

    >>> base_url("proxy.example:8443", "http://127.0.0.1:9"), base_url("a/b", "http://x")
    ('http://proxy.example:8443', 'http://x')
    >>> [base_url(h, "-") for h in (".", "a..b", "-a", "[:]", "[::1]:8080", "h:00080")]
    ['-', '-', '-', '-', 'http://[::1]:8080', '-']
    """
    if not host or len(host) > MAX_HOST:
        return default
    form = _HOST.fullmatch(host)
    if form is None or (form[3] is not None and int(form[3]) > 65535):
        return default
    if form[2] is not None:
        try:
            ipaddress.IPv6Address(form[2])
        except ValueError:
            return default
    return "http://" + host


def unauthorized(message: str, detail: str = "") -> Response:
    """A 401 that names the scheme to use (``WWW-Authenticate``, RFC 9110 and 6750)."""
    challenge = 'Bearer realm="pollsim"' + (f", {detail}" if detail else "")
    return error(401, "unauthorized", message, **{"WWW-Authenticate": challenge})


MAX_QUOTED = 100  #: characters of a client's text quoted back in an error message


def quoted(text: str, limit: int = MAX_QUOTED) -> str:
    r"""A client's text as an error message quotes it: cut to ``limit`` characters
    (``...`` says it was) and anything unprintable escaped, so that a hostile id
    neither fills the message nor writes control characters into a log.

    >>> quoted("12\x00" + "9" * 200, 5)
    '12\\x0099...'
    """
    cut = text[:limit]
    if not cut.isprintable():
        cut = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return cut + ("..." if len(text) > limit else "")
