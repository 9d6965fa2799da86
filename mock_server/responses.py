"""What the core takes and gives back, without a transport: a parsed request in; a
response, a long-poll to hold, or a delay out; and the JSON answers every part shares."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from mock_server.faults import NONE, Decision


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


@dataclass(frozen=True)
class Hold:
    """A long-poll to hold: answer once the job's status document differs from ``etag``,
    or after ``wait`` wall seconds."""

    job_id: int
    dialect: str
    etag: str
    wait: float
    decision: Decision = NONE


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` (wall), then handle the request again with ``decision``: injected
    latency, or a stalled outage."""

    seconds: float
    decision: Decision


def error(status: int, kind: str, message: str, **headers: str) -> Response:
    body = json.dumps({"error": kind, "message": message}).encode()
    return Response(status, body, {"Content-Type": "application/json", **headers})


def ok(status: int, doc: object, **headers: str) -> Response:
    body = json.dumps(doc, separators=(",", ":")).encode()
    return Response(status, body, {"Content-Type": "application/json", **headers})
