"""``GET /_admin/report[?until=T&final=true&client=C&job=J]``: the ground truth, as it
stands now, built off the event loop from a snapshot (``mock_server.truth_report``).

``until`` says when a swarm's clients were stopped from outside (a client still on a job
then is unfinished); ``final=true`` says the clients have stopped of their own accord (a
test's client has returned): every job a client did not see end counts as given up, or
errored, none as unfinished. Without either, a client that has not moved on may still
come back to its job, so it is unfinished: a gate that asks ``gave_up == 0`` of such a
report cannot tell (``pollsim report`` says so).

``client`` and ``job`` (each repeatable) keep only the rows of those clients and jobs,
and the clients' summaries and the totals are over those rows alone; the counts of
requests by dialect and status, of injected faults and of the server's own errors are
kept per dialect, not per client, and stay the server's in all (the report's ``filter``
says so). A client or job with no rows gives a report without rows, not an error.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from threading import Event
from typing import TYPE_CHECKING

from mock_server.admin_query import job_ids, seconds, texts, unknown
from mock_server.jobs import JobRecord
from mock_server.offload import Offload
from mock_server.responses import Request, Response, error, quoted
from mock_server.truth import Snapshot
from mock_server.truth_report import build_json
from sim.states import JOB_TERMINAL

if TYPE_CHECKING:
    from mock_server.core import Core

STOP_SLACK = 1.0  #: wall seconds over which a swarm's users may have been stopped
TAKES = ("until", "final", "client", "job")
#: how ``final`` may be said
FLAGS = {"true": True, "1": True, "false": False, "0": False}
#: what a filtered report's totals count for the whole server all the same
SERVER_WIDE = ["requests", "injected_faults", "server_errors"]


@dataclasses.dataclass(frozen=True)
class Filter:
    """Rows of these clients and jobs only (None: all)."""

    clients: frozenset[str] | None = None
    jobs: frozenset[int] | None = None

    def __bool__(self) -> bool:
        return self.clients is not None or self.jobs is not None

    def shown(self, core: Core) -> dict:
        """The filter as the report's totals say it."""
        out: dict = {"server_wide": SERVER_WIDE}
        if self.clients is not None:
            out["client"] = sorted(self.clients)
        if self.jobs is not None:
            out["job"] = sorted(str(j) for j in self.jobs)
        return out


def answer(core: Core, req: Request) -> Response | Offload:
    """The report as asked for (see the module): the snapshot taken on the loop, the
    report written off it; one at a time (another asked meanwhile: a 503, Retry-After)."""
    if req.method != "GET":
        return error(405, "method_not_allowed", f"{req.method} not allowed", Allow="GET")
    bad = unknown(req.query, "/_admin/report", TAKES, many=("client", "job"))
    if bad is not None:
        return bad
    until = seconds(req.query, "until")
    if isinstance(until, Response):
        return until
    final = _flag(req.query, "final")
    if isinstance(final, Response):
        return final
    which = read_filter(core, req.query)
    if isinstance(which, Response):
        return which
    truth = core.truth
    if truth.building:
        return error(
            503, "busy", "a report is being built: ask when it is done", **{"Retry-After": "1"}
        )
    build = builder(core, until, which, final)
    truth.building = True

    def answer(stop: Event) -> Response:
        try:
            return Response(200, build(stop), {"Content-Type": "application/json"})
        finally:
            truth.building = False

    return Offload(answer)


def read_filter(core: Core, query) -> Filter | Response:
    clients = texts(query, "client")
    if isinstance(clients, Response):
        return clients
    jobs = job_ids(core, query)
    if isinstance(jobs, Response):
        return jobs
    return Filter(
        frozenset(clients) if clients else None, frozenset(jobs) if jobs is not None else None
    )


def report(
    core: Core, until: float | None = None, which: Filter | None = None, final: bool = False
) -> dict:
    """The ground truth: per client and job, per client, in all; ``until``: when the
    clients were stopped (simulated seconds), ``final``: they stopped of their own accord
    (see the module and ``mock_server.truth_rows``)."""
    return json.loads(builder(core, until, which, final)(None))


def builder(
    core: Core, until: float | None, which: Filter | None = None, final: bool = False
) -> Callable[[Event | None], bytearray]:
    """Takes the snapshot now; the function it returns writes the report's JSON from it,
    in any thread: it reads only what no later request changes."""
    model = core.model
    now = model.advance()
    snap = core.truth.snapshot()
    if which:
        snap = _only(snap, which)
    speed = model.clock.speed
    records, extra = model.records, {"speed": speed, "now": now}
    if which:
        extra["filter"] = which.shown(core)

    def job(job_id: int) -> dict:
        return job_truth(records[job_id], now)

    def build(stop: Event | None) -> bytearray:
        return build_json(snap, job, now, until, stop, extra, slack=STOP_SLACK * speed, final=final)

    return build


def _only(snap: Snapshot, which: Filter) -> Snapshot:
    """The snapshot with the pairs the filter keeps (every client's latest request of
    all stays: a client's give-ups are judged by all it did)."""
    clients, jobs = which.clients, which.jobs
    pairs = {
        key: p
        for key, p in snap.pairs.items()
        if (clients is None or key[0] in clients) and (jobs is None or key[1] in jobs)
    }
    return dataclasses.replace(snap, pairs=pairs)


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


def _flag(query, name: str) -> bool | Response:
    """``true``/``1`` or ``false``/``0`` (absent: false)."""
    raw = query.get(name)
    if raw is None:
        return False
    if raw.lower() not in FLAGS:
        return error(400, "bad_query", f"{name}='{quoted(raw, 40)}': expected true or false")
    return FLAGS[raw.lower()]


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
