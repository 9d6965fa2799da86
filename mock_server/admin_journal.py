"""The request journal over HTTP (WireMock's ``/__admin/requests``):

- ``GET /_admin/requests?client=&job=&status=&since=&limit=``: the latest requests that
  match, oldest first: ``{"requests": [...], "count": n, "total": matching, "dropped":
  k}``. ``client``, ``job`` and ``status`` may be repeated (any matches); ``job`` is an
  id as any dialect shows it; ``status`` an HTTP status (0: no answer; 404: what
  WireMock calls unmatched); ``since``: simulated seconds, records with ``t >= since``;
  ``limit``: the most recent N of those (default 1000, at most 100,000). ``dropped``:
  records the ring let go of since the run began (older than any it holds).
- ``DELETE /_admin/requests``: forget them all: ``{"deleted": n}``.

Each record (``record``): ``t`` (simulated seconds at arrival), ``wall`` (unix seconds),
``method``, ``path``, ``dialect``, ``client``, ``job`` (the id as the dialect shows it,
or null), ``job_id`` (as the report's rows name it), ``status`` (0: no answer),
``retry_after`` (simulated seconds asked, or null), ``injected`` (the fault, or null),
``shown`` (the state a status answer showed, or null) and ``took`` (wall seconds to
answer). The ``--request-log`` file has the status requests' ``t``, ``client``,
``job_id``, ``shown``, ``retry_after`` and ``injected`` alike (its ``http_status`` is
``status`` here).
"""

from __future__ import annotations

import json
from threading import Event
from typing import TYPE_CHECKING

from mock_server.admin_query import count, job_ids, seconds, texts, unknown, values
from mock_server.offload import Offload
from mock_server.responses import Request, Response, error, ok, quoted
from mock_server.truth_rows import Abandoned
from sim.dialects import DIALECTS

if TYPE_CHECKING:
    from mock_server.core import Core

LIMIT = 1000  #: records answered, by default
MAX_LIMIT = 100_000
TAKES = ("client", "job", "status", "since", "limit")


def answer(core: Core, req: Request) -> Response | Offload:
    if req.method == "DELETE":
        bad = unknown(req.query, "/_admin/requests", ())
        return bad or ok(200, {"deleted": core.truth.ring.clear()})
    if req.method != "GET":
        return error(405, "method_not_allowed", f"{req.method} not allowed", Allow="GET, DELETE")
    query = req.query
    bad = unknown(query, "/_admin/requests", TAKES, many=("client", "job", "status"))
    if bad is not None:
        return bad
    clients = texts(query, "client")
    jobs = job_ids(core, query)
    statuses = _statuses(query)
    since = seconds(query, "since")
    limit = count(query, "limit", LIMIT, MAX_LIMIT)
    for value in (clients, jobs, statuses, since, limit):
        if isinstance(value, Response):
            return value
    ring = core.truth.ring
    chosen = matching(list(ring.records), set(clients) or None, jobs, since)  # type: ignore[arg-type]
    if statuses:
        chosen = [r for r in chosen if r[7] in statuses]  # type: ignore[operator]
    kept = chosen[len(chosen) - limit :] if limit else []  # type: ignore[operator]
    tail = {"count": len(kept), "total": len(chosen), "dropped": ring.dropped}
    seed = core.seed
    if len(kept) <= ON_LOOP:
        return ok(200, {"requests": [record(seed, r) for r in kept], **tail})

    def build(stop: Event) -> Response:  # from tuples no request changes: in any thread
        return Response(200, _json(seed, kept, tail, stop), {"Content-Type": "application/json"})

    return Offload(build)


#: records answered on the event loop; more are written in a worker thread, a piece at
#: a time (100,000 records are 22 MB of JSON: half a second of the loop's time)
ON_LOOP = 2000
_PIECE = 1000


def _json(seed: int, kept: list[tuple], tail: dict, stop: Event) -> bytes:
    out = bytearray(b'{"requests":[')
    for i in range(0, len(kept), _PIECE):
        if stop.is_set():
            raise Abandoned
        piece = [record(seed, r) for r in kept[i : i + _PIECE]]
        out += b"," if i else b""
        out += json.dumps(piece, separators=(",", ":"))[1:-1].encode()
    out += b"]," + json.dumps(tail, separators=(",", ":"))[1:].encode()
    return bytes(out)


def _statuses(query) -> set[int] | Response:
    """``status=``'s values: HTTP statuses, 100 to 599, or 0 (no answer: a cut)."""
    out = set()
    for raw in values(query, "status"):
        status = raw.isascii() and raw.isdigit() and len(raw) == 3 and 100 <= int(raw) < 600
        if not (status or raw == "0"):
            return error(
                400,
                "bad_query",
                f"status='{quoted(raw, 40)}': expected an HTTP status, 100 to 599 (0: no answer)",
            )
        out.add(int(raw))
    return out


def matching(
    records: list[tuple], clients: set[str] | None, jobs: set[int] | None, since: float | None
) -> list[tuple]:
    """The records the filters keep, in their order."""
    if since is not None:
        records = [r for r in records if r[0] >= since]
    if clients is not None:
        records = [r for r in records if r[5] in clients]
    if jobs is not None:
        records = [r for r in records if r[6] in jobs]
    return records


def record(seed: int, r: tuple) -> dict:
    """A record as answered (see the module)."""
    t, wall, method, path, dialect, client, job_id, status, asked, injected, shown, took = r
    job = None
    if job_id is not None:
        shows = DIALECTS.get(dialect)
        job = shows.show_id(job_id, seed) if shows is not None else str(job_id)
    return {
        "t": t,
        "wall": wall,
        "method": method,
        "path": path,
        "dialect": dialect,
        "client": client,
        "job": job,
        "job_id": None if job_id is None else str(job_id),
        "status": status,
        "retry_after": asked,
        "injected": injected,
        "shown": shown,
        "took": took,
    }
