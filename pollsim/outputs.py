"""What ``pollsim simulate --out DIR`` writes: CSV tables, the summary as JSON, and plots."""

from __future__ import annotations

import json
from pathlib import Path

from sim.plots import gantt, states_over_time
from sim.simulation import Simulation


def write_outputs(run: Simulation, summary: dict, out: Path) -> list[Path]:
    """Write the run's tables and plots to ``out`` (created if missing); the paths written."""
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
    for name, fig in (
        ("gantt.png", gantt(changes, jobs)),
        ("states.png", states_over_time(changes)),
    ):
        fig.savefig(out / name, dpi=110)
        written.append(out / name)
    return written
