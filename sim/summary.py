"""The summary of a run that ``pollsim simulate`` prints: outcomes, durations, time queued
and in retry, retries per job. Plain dicts of plain numbers, so they serialise to JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.states import JOB_TERMINAL

if TYPE_CHECKING:
    from sim.simulation import Simulation

OUTCOMES = ("succeeded", "failed", "partial", "cancelled")


def stats(values: pd.Series | np.ndarray) -> dict[str, float | None]:
    """mean, p50, p95, p99, max of the finite values (None for each when there are none)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return dict.fromkeys(("mean", "p50", "p95", "p99", "max"))
    p50, p95, p99 = np.percentile(v, [50, 95, 99])
    return {
        "mean": float(v.mean()),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "max": float(v.max()),
    }


def summarize(run: Simulation) -> dict:
    """The run's summary as a JSON-ready dict; with clients, also ``strategies`` (the
    design's metrics keyed by strategy, ``gave_up`` and ``errored`` counted apart: see
    ``sim.polling_summary``) and ``server`` (the load it took)."""
    from sim.polling_summary import polling_summary

    s = run.scenario
    jobs = run.jobs_frame()
    ended = jobs[jobs["state"].isin([str(t) for t in JOB_TERMINAL])]
    n, m = len(jobs), len(ended)
    outcomes = {
        o: {
            "jobs": int((ended["state"] == o).sum()),
            "share": _share((ended["state"] == o).sum(), m),
        }
        for o in OUTCOMES
    }
    actions = run.actions_frame()
    asked = {
        a: {"asked": len(g), "refused": int((~g["accepted"]).sum())}
        for a, g in actions.groupby("action")
    }
    return {
        "scenario": s.name,
        "source": s.source,
        "seed": s.seed,
        "dialect": s.dialect,
        "horizon_s": s.horizon,
        "simulated_s": run.end,
        "workers": s.workers,
        "jobs": {"submitted": n, "ended": m, "unfinished": n - m},
        "state_changes": len(run.changes),
        "outcomes": outcomes,
        "duration_s": stats(ended["duration"]),
        "queued_s": stats(jobs["queued"]),
        "retry_wait_s": stats(jobs["retry_wait"]),
        "retries_per_job": {
            "mean": float(jobs["retries"].mean()) if n else None,
            "max": int(jobs["retries"].max()) if n else None,
            "share_with_retry": _share((jobs["retries"] > 0).sum(), n),
        },
        "actions": asked,
        **(polling_summary(run.polling) if run.polling is not None else {}),
    }


def _share(k: int, n: int) -> float | None:
    return float(k / n) if n else None
