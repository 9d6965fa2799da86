"""What ``pollsim simulate --out DIR`` writes: CSV tables, the summary as JSON, and plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sim.plots import gantt, latency_cdf, load_over_time, states_over_time
from sim.simulation import Simulation


def write_outputs(
    run: Simulation, summary: dict, out: Path, max_requests: int = 1_000_000
) -> list[Path]:
    """Write the run's tables and plots to ``out`` (created if missing); the paths written.
    With clients: per-job polls, per-second load, the request log (at most
    ``max_requests`` rows, sampled evenly), a latency CDF and the load over time."""
    out.mkdir(parents=True, exist_ok=True)
    changes = run.changes_frame()
    jobs = run.jobs_frame()
    written = []
    for name, frame in (
        ("state_changes.csv", changes),
        ("jobs.csv", jobs),
        ("actions.csv", run.actions_frame()),
    ):
        frame.to_csv(out / name, index=False)
        written.append(out / name)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    written.append(out / "summary.json")
    figures = [("gantt.png", gantt(changes, jobs)), ("states.png", states_over_time(changes))]
    p = run.polling
    if p is not None:
        polls = p.jobs_frame()
        requests = p.requests_frame()
        if len(requests) > max_requests:
            step = len(requests) / max(max_requests, 1)
            requests = requests.iloc[(np.arange(max_requests) * step).astype(int)]
        for name, frame, index in (
            ("polls.csv", polls, False),
            ("load.csv", p.load_frame(), True),
            ("requests.csv", requests, False),
        ):
            frame.to_csv(out / name, index=index)
            written.append(out / name)
        figures += [("latency_cdf.png", latency_cdf(polls)), ("load.png", load_over_time(p))]
    for name, fig in figures:
        fig.savefig(out / name, dpi=110)
        written.append(out / name)
    return written
