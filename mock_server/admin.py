"""The admin endpoints, behind the admin token: the ground truth (``GET /_admin/report``)
and the faults, read and changed while the server runs (``GET``/``PUT /_admin/faults``,
in the keys of the scenario's ``[faults]`` table, plus ``outages`` as in ``[server]``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from threading import Event
from typing import TYPE_CHECKING

from mock_server.core import Request, Response, error, json_object, ok
from mock_server.jobs import JobRecord
from mock_server.offload import Offload
from mock_server.responses import unauthorized
from mock_server.truth_report import build_json
from sim._reader import Reader, ScenarioError
from sim.mock_spec import FaultSpec, read_faults
from sim.sections import read_outage
from sim.states import JOB_TERMINAL
from sim.status_server import Outage

if TYPE_CHECKING:
    from mock_server.core import Core


def admin(core: Core, req: Request, rest: list[str]) -> Response:
    header = req.headers.get("authorization")
    who = core.access.identity(header) if header is not None else None
    if who is None or not who.admin:  # only "Bearer <admin token>" counts
        if who is not None:
            return error(403, "forbidden", "admin endpoints need the admin token")
        return unauthorized("admin endpoints need Authorization: Bearer <admin token>")
    if rest == ["report"]:
        if req.method != "GET":
            return error(405, "method_not_allowed", f"{req.method} not allowed", Allow="GET")
        return report_answer(core, req)
    if rest == ["faults"]:
        if req.method == "PUT":
            return _put_faults(core, req)
        if req.method != "GET":
            return error(405, "method_not_allowed", f"{req.method} not allowed", Allow="GET, PUT")
        return ok(200, describe(core))
    return error(404, "not_found", f"no such admin path: {req.path}")


STOP_SLACK = 1.0  #: wall seconds over which a swarm's users may have been stopped


def report_answer(core: Core, req: Request) -> Response | Offload:
    """``GET /_admin/report[?until=T]``: the truth as it stands now (a snapshot taken on
    the loop, linear in the clients tracked), the report written off the loop from it;
    one at a time (another asked meanwhile is a 503 with Retry-After)."""
    until = _until(req.query)
    if isinstance(until, Response):
        return until
    truth = core.truth
    if truth.building:
        return error(
            503, "busy", "a report is being built: ask when it is done", **{"Retry-After": "1"}
        )
    build = _builder(core, until)
    truth.building = True

    def answer(stop: Event) -> Response:
        try:
            return Response(200, build(stop), {"Content-Type": "application/json"})
        finally:
            truth.building = False

    return Offload(answer)


def report(core: Core, until: float | None = None) -> dict:
    """The ground truth: per client and job, per client, in all; ``until``: when the
    clients were stopped (simulated seconds; see ``mock_server.truth_rows``)."""
    return json.loads(_builder(core, until)(None))


def _builder(core: Core, until: float | None) -> Callable[[Event | None], bytearray]:
    """Takes the snapshot now; the function it returns writes the report's JSON from it,
    in any thread: it reads only what no later request changes."""
    model = core.model
    now = model.advance()
    snap = core.truth.snapshot()
    speed = model.clock.speed
    records, extra = model.records, {"speed": speed, "now": now}

    def job(job_id: int) -> dict:
        return job_truth(records[job_id], now)

    def build(stop: Event | None) -> bytearray:
        return build_json(snap, job, now, until, stop, extra, slack=STOP_SLACK * speed)

    return build


def job_truth(rec: JobRecord, now: float) -> dict:
    """The job as it stood at ``now``, from its change log alone (later changes come
    after ``now``): its state, when it truly ended and when the API showed the end."""
    state, t_end, t_vis = None, None, None
    for _job, step_id, _old, new, t, vis, _attempt in rec.changes:
        if t > now:
            break
        if step_id is None and t_end is None:
            state = new
            if new in JOB_TERMINAL:
                t_end, t_vis = t, vis
    return {
        "template": rec.template.name,
        "tenant": rec.tenant,
        "state": str(state),
        "submit": rec.created,
        "t_end": t_end,
        "t_visible": t_vis,
        "shown": shown(rec.changes, now),
    }


def _until(query) -> float | Response | None:
    raw = query.get("until")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 <= value < math.inf:  # NaN fails too
        return error(
            400, "bad_query", f"until={raw[:40]!r}: expected simulated seconds, a number >= 0"
        )
    return value


def shown(changes: list[tuple], now: float) -> list[list]:
    """The job's states as the API showed them up to ``now``: ``[t, state]`` from the
    time each became visible (a later change at the same instant wins)."""
    out: list[list] = []
    for _job, step_id, _old, new, _t, vis, _attempt in changes:
        if step_id is not None or vis > now:
            continue
        if out and out[-1][0] == vis:
            out[-1][1] = str(new)
        else:
            out.append([vis, str(new)])
    return out


def describe(core: Core) -> dict:
    """The faults in force, in the keys ``PUT`` takes."""
    f: FaultSpec = core.faults.spec
    return {
        "errors": {str(k): v for k, v in f.errors.items()},
        "reset": f.reset,
        "empty": f.empty,
        "malformed": f.malformed,
        "dribble": {"probability": f.dribble, "rate": f.dribble_rate},
        "latency": str(f.latency) if f.latency is not None else None,
        "latency_probability": f.latency_probability,
        "rate_limit": {"rate": f.rate_limit[0], "burst": f.rate_limit[1]} if f.rate_limit else None,
        "outages": [
            {"start": o.start, "duration": o.duration, "mode": o.mode} for o in core.faults.outages
        ],
    }


def _put_faults(core: Core, req: Request) -> Response:
    """Replace the faults: the body's keys as in ``[faults]``; ``outages`` (simulated
    seconds, as in ``[server]``) replaces the outages where given."""
    body = json_object(req.body)
    if isinstance(body, Response):
        return body
    source = "PUT /_admin/faults"
    outages = body.pop("outages", None)
    try:
        spec = read_faults(Reader(body, source, ""))
        windows = _outages(outages, source) if outages is not None else core.faults.outages
    except ScenarioError as exc:
        return error(422, "invalid", str(exc))
    core.faults.spec = spec
    core.faults.outages = windows
    return ok(200, describe(core))


def _outages(raw: object, source: str) -> tuple[Outage, ...]:
    if not isinstance(raw, list):
        raise ScenarioError(source, "outages", "expected a list of {start, duration, mode}")
    return tuple(read_outage(Reader(item, source, f"outages[{i}]")) for i, item in enumerate(raw))
