"""A status request (``Kind.STATUS``), once the core has found its job: answered now
with the job's document (or 304 where the client holds it), held as a long-poll until
the document changes (``?wait=``), or met by injected trouble (``mock_server.injected``);
each recorded in the ground truth. And the shortcut the common one takes past the
core's general routing (``plain``), answering what the general path would.

Functions of the core (``Core`` binds ``plain``, ``changed`` and ``retry_after`` as its
own methods), as ``mock_server.collection`` and ``mock_server.injected`` are.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from mock_server.access import ADMIN
from mock_server.faults import NONE, Decision, retry_after_header
from mock_server.injected import fault, outage
from mock_server.jobs import JobRecord
from mock_server.responses import Delay, Hold, Request, Response, error, quoted
from mock_server.showing import matches, names
from sim.dialects import DIALECTS, Dialect, Kind, match

if TYPE_CHECKING:
    from mock_server.core import Core


def answer(
    core: Core, req: Request, dialect: Dialect, rec: JobRecord, held: bool, decision
) -> Response | Hold | Delay:
    """The answer to a status request of ``rec`` (one the requester may see): a Delay
    for injected latency, an injected fault, a Hold for a long-poll on the version the
    client holds, else the document."""
    wait = query_number(req.query, "wait", 0.0, 0.0, core.config.max_wait)
    if isinstance(wait, Response):
        return wait
    if decision is None:
        decision = core.faults.draw()
        if decision.delay:
            return Delay(decision.delay, decision)
    now = core.model.advance()
    rec.catch_up(now)
    client = core.client(req)
    faulty = outage(core, now, client, rec, decision) or fault(
        core, now, client, rec, dialect, decision
    )
    if faulty is not None:
        return faulty
    if wait and not held and not rec.ended:
        etag = core.document(rec, dialect)[1]
        if _behind(core, req, etag):  # it has not seen this version: show it now
            return _show(core, req, dialect, rec, now, client, decision)
        return Hold(rec.id, dialect, etag, wait, decision)
    return _show(core, req, dialect, rec, now, client, decision)


def _behind(core: Core, req: Request, etag: str) -> bool:
    """Whether a long-poll's client has said it holds another version than the
    current one (an If-None-Match that does not match): it is answered at once, as
    a held poll would only tell it of the version after this one. Without an
    If-None-Match (or with ``*``) the client asks to hear of the next change, and
    is held; without ETags it could have none to send, and is held too."""
    header = req.headers.get("if-none-match")
    return bool(header) and core.config.etag and not matches(header, etag)


def plain(core: Core, req: Request) -> Response | None:
    """The common request, a job's status with nothing unusual about it or about the
    server (no query; no faults, outages, rate limit or Retry-After hint in force),
    answered without the general routing: what ``answer`` would answer. Only for
    dialects whose status path is a literal base and the id (``_STATUS_BASES``).
    None hands the request to the general path (which also answers every refusal)."""
    if not core.faults.inert or core.config.retry_after_hint is not None:
        return None
    base, _, text = req.path.rpartition("/")
    dialect = _STATUS_BASES.get(base)
    if dialect is None or req.body:
        return None
    job_id = dialect.read_id(text, core.seed)
    if job_id is None:
        return None
    tenant = core.tenant(req, dialect)
    if isinstance(tenant, Response):
        return None
    rec = core.model.records.get(job_id)
    if rec is None or (tenant != ADMIN and rec.tenant != tenant):
        return None
    now = core.model.advance()
    rec.catch_up(now)
    resp = _show(core, req, dialect, rec, now, core.client(req), NONE)
    core.truth.count(dialect.name, resp.status)
    return resp


def _show(core: Core, req, dialect, rec: JobRecord, now: float, client: str, decision: Decision):
    """A job's status document, or 304 where the client has it (If-None-Match), with
    the request recorded in the ground truth."""
    body, etag = core.document(rec, dialect)
    config = core.config
    headers = {"Cache-Control": "no-cache"}
    if config.etag:
        headers["ETag"] = etag
    hint = config.retry_after_hint
    sim_hint = None
    if hint is not None:
        headers["Retry-After"], sim_hint = retry_after(core, hint)
    dribble = decision.kind == "dribble"
    shown = rec.state._value_  # .value, without the enum descriptor's cost
    header = req.headers.get("if-none-match")
    if header and config.etag and matches(header, etag):
        # a 304 to "*" alone shows no state: the client may never have seen this one
        known = shown if names(header, etag) else None
        core.truth.status_request(now, client, rec.id, known, 304, sim_hint, decision.kind)
        return Response(304, b"", headers)
    core.truth.status_request(now, client, rec.id, shown, 200, sim_hint, decision.kind)
    return Response(
        200,
        body,
        {"Content-Type": "application/json", **headers},
        transport="dribble" if dribble else None,
        rate=core.faults.spec.dribble_rate if dribble else 0.0,
    )


def retry_after(core: Core, wall: float) -> tuple[str, float]:
    """The Retry-After header for a wait of ``wall`` seconds, and what it asks of the
    client in simulated seconds: the header's whole seconds, as the client read them,
    not the unrounded wait (the ground truth judges the client against what it got)."""
    header = retry_after_header(wall)
    return header, int(header) * core.model.clock.speed


def changed(core: Core, hold: Hold) -> float:
    """For a held long-poll: 0 once the job's document differs from the one it was
    held on (or the job ended, or is no more: the server was reset), else wall seconds
    until it next may change."""
    model = core.model
    now = model.advance()
    rec = model.records.get(hold.job_id)
    if rec is None:
        return 0.0
    rec.catch_up(now)
    if rec.ended or core.document(rec, hold.dialect)[1] != hold.etag:
        return 0.0
    due = model.next_change(rec.id)
    if math.isinf(due):
        return hold.wait
    return max(model.clock.wall_after(due - now), 0.001)


def query_number(query, name, default, low, high, whole=False) -> float | Response:
    """A number from the query string within [low, high], or the 400 saying what was expected."""
    raw = query.get(name)
    if raw is None:
        return default
    # JSON's numbers, in ASCII: int() and float() also read other scripts' digits, " 5",
    # "5_0", "inf" and "nan"
    form = _WHOLE if whole else _DECIMAL
    if len(raw) <= 40 and form.fullmatch(raw):
        value = int(raw) if whole else float(raw)
    else:
        value = math.nan
    if not low <= value <= high:  # nan fails too
        kind = "a whole number" if whole else "a number"
        upper = "" if math.isinf(high) else f" and <= {high:g}"
        return error(
            400, "bad_query", f"{name}={quoted(raw, 40)!r}: expected {kind} >= {low:g}{upper}"
        )
    return value


_WHOLE = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?")


def _status_bases() -> dict[str, Dialect]:
    """The literal base of each dialect whose status path is that base and ``{id}``
    ("/x/jobs/{id}" -> "/x/jobs"), for the shortcut: a path there is that dialect's
    status, as the router would find (checked here against it)."""
    out: dict[str, Dialect] = {}
    for dialect in DIALECTS.values():
        for route in dialect.routes:
            base, _, last = route.path.rpartition("/")
            if route.kind is not Kind.STATUS or last != "{id}" or "{" in base:
                continue
            hit = match(base + "/0")
            if hit is not None and hit.dialect is dialect and hit.route("GET") is route:
                out.setdefault(base, dialect)
    return out


_STATUS_BASES = _status_bases()
