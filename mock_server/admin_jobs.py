"""``GET /_admin/jobs?client=&tenant=&state=&template=&limit=``: every job of the run and
its states over time, newest last (WireMock has no jobs; the nearest is its journal).

Each job as the report's rows show it (``admin_report.job_truth``): ``job`` (its id as
the paths show it), ``job_id`` (as the report's rows name it), ``ids`` (where a dialect
shows it otherwise: fiddler-v3's UUID), ``tenant``, ``template``, ``state`` (its true
state now), ``submit``, ``t_end`` and ``t_visible`` (when it truly ended and when the
API first showed it, simulated seconds; null while it runs) and ``shown`` (``[t,
state]`` as the API showed each). ``{"jobs": [...], "count": n, "total": matching}``.

Filters, each repeatable (any value matches): ``client`` (the jobs it asked about, or
submitted, as far as the ring of requests remembers), ``tenant``, ``state`` (one of the
job states) and ``template`` (one of the scenario's: another is a 400); ``limit``: the
newest N that match (default 1000, at most 100,000).
"""

from __future__ import annotations

import json
from threading import Event
from typing import TYPE_CHECKING

from mock_server.admin_query import count, texts, unknown
from mock_server.admin_report import job_truth
from mock_server.offload import Offload
from mock_server.responses import Request, Response, error, ok, quoted
from mock_server.truth_rows import Abandoned
from sim.dialects import DIALECTS
from sim.states import JobState

if TYPE_CHECKING:
    from mock_server.core import Core
    from mock_server.jobs import JobRecord

LIMIT = 1000
MAX_LIMIT = 100_000
TAKES = ("client", "tenant", "state", "template", "limit")
STATES = [s.value for s in JobState]
#: dialects that show a job's id otherwise than as its number
_OTHER_IDS = [d for d in DIALECTS.values() if d.show_id(12345, 0) != "12345"]


def answer(core: Core, req: Request) -> Response | Offload:
    if req.method != "GET":
        return error(405, "method_not_allowed", f"{req.method} not allowed", Allow="GET")
    query = req.query
    bad = unknown(query, "/_admin/jobs", TAKES, many=("client", "tenant", "state", "template"))
    if bad is not None:
        return bad
    filters = {name: texts(query, name) for name in ("client", "tenant", "state", "template")}
    limit = count(query, "limit", LIMIT, MAX_LIMIT)
    for value in (*filters.values(), limit):
        if isinstance(value, Response):
            return value
    model = core.model
    for name, allowed in (("state", STATES), ("template", list(model.templates))):
        odd = [v for v in filters[name] if v not in allowed]  # type: ignore[union-attr]
        if odd:
            return error(
                400,
                "bad_query",
                f"{name}='{quoted(odd[0], 40)}': expected one of {', '.join(allowed)}",
            )
    now = model.advance()
    chosen = select(core, filters)  # type: ignore[arg-type]
    kept = chosen[len(chosen) - limit :] if limit else []  # type: ignore[operator]
    tail = {"count": len(kept), "total": len(chosen)}
    seed = core.seed
    if len(kept) <= ON_LOOP:
        return ok(200, {"jobs": [shown_job(seed, rec, now) for rec in kept], **tail})

    def build(stop: Event) -> Response:
        # a job's changes up to ``now`` are never changed again (later ones are appended):
        # read in a worker thread as the report reads them
        body = bytearray(b'{"jobs":[')
        for i in range(0, len(kept), _PIECE):
            if stop.is_set():
                raise Abandoned
            piece = [shown_job(seed, rec, now) for rec in kept[i : i + _PIECE]]
            body += b"," if i else b""
            body += json.dumps(piece, separators=(",", ":"))[1:-1].encode()
        body += b"]," + json.dumps(tail, separators=(",", ":"))[1:].encode()
        return Response(200, bytes(body), {"Content-Type": "application/json"})

    return Offload(build)


#: jobs answered on the event loop; more are written in a worker thread, a piece at a
#: time (30,000 jobs held the loop for 0.7 s)
ON_LOOP = 2000
_PIECE = 500


def select(core: Core, filters: dict[str, list[str]]) -> list[JobRecord]:
    """The jobs the filters keep, oldest first (cheap tests first: the job's own state
    is its lifecycle's, not the one built for the answer)."""
    model = core.model
    tenants = filters["tenant"]
    if tenants:
        recs = [r for t in dict.fromkeys(tenants) for r in model.by_tenant.get(t, ())]
        recs.sort(key=lambda r: r.id)
    else:
        recs = list(model.records.values())
    if filters["template"]:
        templates = set(filters["template"])
        recs = [r for r in recs if r.template.name in templates]
    if filters["client"]:
        asked = _asked(core, set(filters["client"]))
        recs = [r for r in recs if r.id in asked]
    if filters["state"]:
        states = set(filters["state"])
        jobs = model.lifecycle.jobs
        recs = [r for r in recs if r.id in jobs and jobs[r.id].state.value in states]
    return recs


def _asked(core: Core, clients: set[str]) -> set[int]:
    """The jobs these clients asked about (the ground truth's pairs) or named in any
    request the journal still holds (a submission, an action)."""
    out = {job for client, job in core.truth.pairs if client in clients}
    out |= {r[6] for r in core.truth.ring.records if r[5] in clients and r[6] is not None}
    return out


def shown_job(seed: int, rec: JobRecord, now: float) -> dict:
    truth = job_truth(rec, now)
    return {
        "job": str(rec.id),
        "job_id": str(rec.id),
        "ids": {d.name: d.show_id(rec.id, seed) for d in _OTHER_IDS},
        **truth,
    }
