"""Traffic of simulated clients, as ``sim.fit`` reads it: clients replayed by the
simulator's own client logic (``sim.pollers.replay``) against scripted jobs.

Each job's script: running, then ended at a log-uniform time (a tenth never end); some
jobs show a retry_wait spell, a 60 s outage of 503s with or without Retry-After, or a
Retry-After of 7 s or 0 s on their 200s. Each client has its own round trip, so that
the jobs' timings differ as real ones do.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from sim.pollers import replay
from sim.status_server import Response
from sim.strategies import Strategy

KINDS = {"retry": 0.15, "outage": 0.1, "outage_ra": 0.1, "hint": 0.1, "hint0": 0.05}


@dataclasses.dataclass(frozen=True)
class Script:
    """One job as the server shows it: running until ``end`` (inf: never), retry_wait
    over ``retry``, ``error`` (with Retry-After ``error_ra``) over ``outage``, and a
    Retry-After of ``hint`` on its 200s."""

    end: float
    retry: tuple[float, float] | None = None
    outage: tuple[float, float] | None = None
    error: int = 503
    error_ra: float | None = None
    hint: float | None = None

    def __call__(self, t: float) -> Response:
        if self.outage and self.outage[0] <= t < self.outage[1]:
            return Response(self.error, None, None, self.error_ra)
        if t >= self.end:
            return Response(200, "succeeded", 1.0, self.hint)
        if self.retry and self.retry[0] <= t < self.retry[1]:
            return Response(200, "retry_wait", None, self.hint)
        return Response(200, "running", None, self.hint)


def scripts(n: int, seed: int, longest: float, kinds: dict[str, float]) -> list[Script]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        never = rng.random() < 0.1
        end = math.inf if never else float(np.exp(rng.uniform(np.log(5), np.log(longest))))
        u, share, kw = rng.random(), 0.0, {}
        for kind, p in kinds.items():
            share += p
            if u < share:
                at = float(rng.uniform(0, min(end, longest) * 0.8))
                if kind == "retry":
                    kw["retry"] = (at, at + float(rng.uniform(60, 300)))
                elif kind.startswith("outage"):
                    kw.update(outage=(at, at + 60.0), error_ra=5.0 if kind == "outage_ra" else None)
                else:
                    kw["hint"] = 7.0 if kind == "hint" else 0.0
                break
        out.append(Script(end, **kw))
    return out


def traffic(strategy: Strategy, jobs: list[Script], seed: int, horizon: float) -> pd.DataFrame:
    """Every job's requests by a client of ``strategy``, with the client's own times and
    how each watch ended, as ``sim.fit`` reads them."""
    rng = np.random.default_rng(seed)
    rows = []
    for job_id, script in enumerate(jobs):
        rtt = float(rng.uniform(0.005, 0.1))
        run = replay(strategy, script, rng, rtt=rtt, horizon=horizon)
        r = run.record
        for t in run.times:
            a = script(t)
            state = a.status if a.http == 200 else None
            sent, got = t - rtt / 2, t + rtt / 2
            ended = (r.gave_up, r.errored, r.seen_state)
            rows.append((job_id, t, a.http, state, a.retry_after, sent, got, 0.0, *ended))
    cols = ["job_id", "t", "http_status", "state", "retry_after", "t_sent", "t_received"]
    return pd.DataFrame(rows, columns=[*cols, "start", "gave_up", "errored", "seen_state"])
