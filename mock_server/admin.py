"""The admin endpoints, behind the admin token: the ground truth (``GET /_admin/report``)
and the faults, read and changed while the server runs (``GET``/``PUT /_admin/faults``,
in the keys of the scenario's ``[faults]`` table, plus ``outages`` as in ``[server]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.core import Request, Response, error, json_object, ok
from sim._reader import Reader, ScenarioError
from sim.mock_spec import FaultSpec, read_faults
from sim.sections import read_outage
from sim.status_server import Outage

if TYPE_CHECKING:
    from mock_server.core import Core


def admin(core: Core, req: Request, rest: list[str]) -> Response:
    header = req.headers.get("authorization", "")
    token = header.partition(" ")[2].strip()
    if not token or token != core.config.admin_token:
        if token in core.config.tokens:
            return error(403, "forbidden", "admin endpoints need the admin token")
        return error(401, "unauthorized", "admin endpoints need the admin token")
    if rest == ["report"]:
        if req.method != "GET":
            return error(405, "method_not_allowed", f"{req.method} not allowed", Allow="GET")
        return ok(200, report(core))
    if rest == ["faults"]:
        if req.method == "PUT":
            return _put_faults(core, req)
        if req.method != "GET":
            return error(405, "method_not_allowed", f"{req.method} not allowed", Allow="GET, PUT")
        return ok(200, describe(core))
    return error(404, "not_found", f"no such admin path: {req.path}")


def report(core: Core) -> dict:
    """The ground truth: per client and job, per client, in all."""
    model = core.model
    model.advance()

    now = model.env.now

    def job(job_id: int) -> dict:
        rec = model.records[job_id]
        t_end, t_vis = model.truth(job_id)
        return {
            "template": rec.template.name,
            "tenant": rec.tenant,
            "state": model.lifecycle.jobs[job_id].state.value,
            "submit": rec.created,
            "t_end": t_end,
            "t_visible": t_vis,
            "shown": shown(rec.changes, now),
        }

    out = core.truth.report(job)
    out["speed"] = model.clock.speed
    out["now"] = model.env.now
    return out


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
