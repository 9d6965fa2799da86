"""Ground truth: every status request, aggregated as it arrives per client and job, into
the design's metrics. Memory grows with the pairs of client and job, not with requests.

Times are simulated seconds. A client is the ``X-Client-Id`` header, else the token.
Answers the server was told to get wrong (injected faults) are counted apart, so that a
report never mistakes them for the server's own failures.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mock_server.journal import Journal
from sim.states import JOB_TERMINAL

_TERMINAL = {s.value for s in JOB_TERMINAL}


@dataclass
class Pair:
    """What one client did about one job."""

    polls: int = 0  #: status requests
    first: float = math.nan  #: first request
    last: float = math.nan  #: latest request
    t_seen: float = math.nan  #: first answer showing the terminal state
    seen: set[str] = field(default_factory=set)  #: states answered so far
    wasted: int = 0  #: answers showing a state this client had already seen
    after_seen: int = 0  #: requests after it had already seen the terminal state
    not_before: float = -math.inf  #: a Retry-After given to it asks for no request before
    retry_after_violations: int = 0
    errors: int = 0  #: answers other than 200/304
    injected: int = 0  #: of which injected faults


class Truth:
    """The ground truth of one server run."""

    def __init__(self, journal: Journal | None = None) -> None:
        self.pairs: dict[tuple[str, int], Pair] = {}
        self.requests: Counter[tuple[str, int]] = Counter()  #: (dialect, HTTP status) -> n
        self.shown: Counter[str] = Counter()  #: state shown by status answers -> n
        self.injected: Counter[str] = Counter()  #: fault -> n
        self.journal = journal  #: every status request as a JSON line, when asked for

    def status_request(
        self,
        t: float,
        client: str,
        job_id: int,
        shown: str | None,
        http_status: int,
        retry_after: float | None = None,
        injected: str | None = None,
    ) -> None:
        """A status request for a job arrived at ``t`` and was answered: the state it
        showed (canonical; None when the answer showed none), with this HTTP status (0:
        no answer) and Retry-After (simulated seconds). ``injected`` names the fault the
        scenario asked for (latency and dribbled answers still show the state)."""
        if self.journal is not None:
            self.journal.write(
                {
                    "t": t,
                    "client": client,
                    "job_id": job_id,
                    "shown": shown,
                    "http_status": http_status,
                    "retry_after": retry_after,
                    "injected": injected,
                }
            )
        self.shown[shown or "none"] += 1
        p = self.pairs.get((client, job_id))
        if p is None:
            p = self.pairs[client, job_id] = Pair(first=t)
        p.polls += 1
        p.last = t
        if t < p.not_before:
            p.retry_after_violations += 1
        if retry_after is not None:
            p.not_before = t + retry_after
        if injected is not None:
            self.injected[injected] += 1
        if http_status not in (200, 304) or shown is None:
            if injected is not None:
                p.injected += 1  # the scenario asked for it: not the server's failure
            else:
                p.errors += 1
            return
        if not math.isnan(p.t_seen):
            p.after_seen += 1
        if shown in p.seen:
            p.wasted += 1
        p.seen.add(shown)
        if shown in _TERMINAL and math.isnan(p.t_seen):
            p.t_seen = t

    def count(self, dialect: str, http_status: int) -> None:
        self.requests[dialect, http_status] += 1

    def report(self, jobs: Callable[[int], dict]) -> dict:
        """Per client and job, per client, and in all. ``jobs(job_id)`` gives the job's
        truth: template, tenant, state, t_end and t_visible (None while it runs)."""
        rows = []
        for (client, job_id), p in sorted(self.pairs.items()):
            job = jobs(job_id)
            t_end, t_vis = job["t_end"], job["t_visible"]
            seen = not math.isnan(p.t_seen)
            rows.append(
                {
                    "client": client,
                    "job_id": str(job_id),
                    **{k: job[k] for k in ("template", "tenant", "state", "submit")},
                    "t_end": t_end,
                    "t_visible": t_vis,
                    "shown": job["shown"],  #: [t, state], each from when the API showed it
                    "t_seen": p.t_seen if seen else None,
                    "detection_latency_s": p.t_seen - t_end if seen and t_end is not None else None,
                    "polling_delay_s": p.t_seen - t_vis if seen and t_vis is not None else None,
                    "polls": p.polls,
                    "t_first": p.first,  #: its first request
                    "watched_s": p.last - p.first,  #: first request to last
                    "wasted_polls": p.wasted,
                    "requests_after_seen": p.after_seen,
                    "retry_after_violations": p.retry_after_violations,
                    "errors": p.errors,
                    "injected_errors": p.injected,
                    # stopped asking before the end showed: it gave up
                    "gave_up": (not seen) and t_vis is not None and p.last < t_vis,
                }
            )
        totals = _totals(rows, self.requests, self.injected)
        if self.journal is not None:
            totals["journal"] = self.journal.summary()
        return {"jobs": rows, "clients": _per_client(rows), "totals": totals}


def _per_client(rows: list[dict]) -> list[dict]:
    out = []
    for client in sorted({r["client"] for r in rows}):
        mine = [r for r in rows if r["client"] == client]
        out.append({"client": client, **_summary(mine)})
    return out


def _summary(rows: list[dict]) -> dict:
    lat = sorted(r["detection_latency_s"] for r in rows if r["detection_latency_s"] is not None)
    return {
        "jobs": len(rows),
        "polls": sum(r["polls"] for r in rows),
        "polls_per_job": sum(r["polls"] for r in rows) / len(rows) if rows else None,
        "wasted_polls": sum(r["wasted_polls"] for r in rows),
        "requests_after_seen": sum(r["requests_after_seen"] for r in rows),
        "retry_after_violations": sum(r["retry_after_violations"] for r in rows),
        "gave_up": sum(r["gave_up"] for r in rows),
        "detection_latency_s": _stats(lat),
    }


def _stats(values: list[float]) -> dict | None:
    """Mean, p50, p95, p99 and max, the percentiles as the simulation's summaries take
    them (numpy's), so that a measurement and a prediction are read the same way."""
    if not values:
        return None
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "mean": sum(values) / len(values),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "max": max(values),
    }


def _totals(rows, requests, injected) -> dict:
    return {
        **_summary(rows),
        "requests": [
            {"dialect": d, "http_status": s, "count": n} for (d, s), n in sorted(requests.items())
        ],
        "injected_faults": dict(sorted(injected.items())),
    }
