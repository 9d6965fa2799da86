"""The admin API, behind the admin token (WireMock's ``/__admin``, as ``/_admin``):

- ``POST /_admin/reset``: the server as if just started (``mock_server.admin_reset``)
- ``GET``/``DELETE /_admin/requests``: the request journal (``mock_server.admin_journal``)
- ``GET /_admin/jobs``: every job and its states over time (``mock_server.admin_jobs``)
- ``GET /_admin/report``: the ground truth, filtered (``mock_server.admin_report``)
- ``GET``/``PUT /_admin/faults``: the faults, read and changed while the server runs, in
  the keys of the scenario's ``[faults]`` table, plus ``outages`` as in ``[server]``

A query parameter an endpoint does not take is a 400 naming it (``admin_query``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server import admin_jobs, admin_journal, admin_report, admin_reset
from mock_server.admin_query import unknown
from mock_server.admin_report import job_truth, report, shown
from mock_server.bodies import json_object
from mock_server.offload import Offload
from mock_server.responses import Request, Response, error, ok, quoted, unauthorized
from sim._reader import Reader, ScenarioError
from sim.mock_spec import FaultSpec, read_faults
from sim.sections import read_outage
from sim.status_server import Outage

if TYPE_CHECKING:
    from mock_server.core import Core

__all__ = ["admin", "describe", "job_truth", "report", "shown"]

#: each admin path -> what answers it
ENDPOINTS = {
    "reset": admin_reset.answer,
    "requests": admin_journal.answer,
    "jobs": admin_jobs.answer,
    "report": admin_report.answer,
}


def admin(core: Core, req: Request, rest: list[str]) -> Response | Offload:
    header = req.headers.get("authorization")
    who = core.access.identity(header) if header is not None else None
    if who is None or not who.admin:  # only "Bearer <admin token>" counts
        if who is not None:
            return error(403, "forbidden", "admin endpoints need the admin token")
        return unauthorized("admin endpoints need Authorization: Bearer <admin token>")
    name = rest[0] if len(rest) == 1 else None
    if name == "faults":
        return _faults(core, req)
    endpoint = ENDPOINTS.get(name or "")
    if endpoint is None:
        known = ", ".join(f"/_admin/{n}" for n in (*ENDPOINTS, "faults"))
        return error(404, "not_found", f"no such admin path: {quoted(req.path)}; there are {known}")
    return endpoint(core, req)


def _faults(core: Core, req: Request) -> Response:
    if req.method not in ("GET", "PUT"):
        return error(405, "method_not_allowed", f"{req.method} not allowed", Allow="GET, PUT")
    bad = unknown(req.query, "/_admin/faults", ())
    if bad is not None:
        return bad
    if req.method == "PUT":
        return _put_faults(core, req)
    return ok(200, describe(core))


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
