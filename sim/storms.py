"""Retries, outages and thundering herds: what clients see of jobs that retry for hours,
and what an outage of the status API does to the load after it.

The retry-storms notebook runs these on the model; ``sim.storms_plots`` draws them.

>>> import pandas as pd
>>> load = pd.DataFrame({"fixed(5)": [10] * 60 + [0] * 30 + [90] + [10] * 29})
>>> spike_table(load, Outage(60, 30)).loc["fixed(5)", ["before", "during", "peak_after"]].tolist()
[10.0, 0.0, 90.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.polling import Polling
from sim.polling_summary import errored
from sim.simulation import Simulation
from sim.status_server import Outage


def retried_jobs(run: Simulation, k: int = 6) -> list[int]:
    """The ids of the ``k`` jobs that retried most (ties: the earliest), by submit time."""
    jobs = run.jobs_frame().sort_values(["retries", "submit"], ascending=[False, True])
    return jobs.head(k).sort_values("submit")["job_id"].tolist()


def watch_outcomes(polling: Polling) -> pd.DataFrame:
    """Per strategy, what its clients made of their jobs: polls per job, give-ups and
    false give-ups (jobs that went on to succeed), jobs whose client stopped on an error
    answer (``errored``, apart from give-ups), jobs on which a state was missed (shown,
    but never while a poll arrived) and which states, p95 detection latency and mean
    load. Shares are of the strategy's jobs."""
    jobs = polling.jobs_frame()
    rows = []
    for label, sub in jobs.groupby("strategy", sort=False):
        missed = sub["missed_states"].fillna("")
        states = sorted({s for cell in missed for s in cell.split(";") if s})
        latency = sub["detection_latency"].dropna()
        rows.append(
            {
                "strategy": label,
                "jobs": len(sub),
                "polls_per_job": float(sub["polls"].mean()),
                "gave_up": int(sub["gave_up"].sum()),
                "false_give_ups": int(sub["false_give_up"].sum()),
                "false_give_up_share": float(sub["false_give_up"].mean()),
                "errored": errored(sub),
                "errored_share": errored(sub) / len(sub),
                "missed_a_state_share": float((missed != "").mean()),
                "states_missed": ", ".join(states) or "-",
                "latency_p95": float(np.quantile(latency, 0.95)) if len(latency) else np.nan,
                "load_mean": float(polling.load_frame(str(label))["requests"].mean()),
            }
        )
    return pd.DataFrame(rows).set_index("strategy")


def load_by_strategy(polled: dict[str, Polling]) -> pd.DataFrame:
    """Requests arriving at the status API per second (rows), a column per strategy,
    from runs that each polled the same jobs (``sim.planning.poll_each``)."""
    frames = {label: p.load_frame()["requests"] for label, p in polled.items()}
    return pd.DataFrame(frames).fillna(0).astype(int)


def spike_table(load: pd.DataFrame, outage: Outage, after: float = 30.0) -> pd.DataFrame:
    """Per strategy (a column of per-second ``load``): the mean load in the minute before
    the outage and during it, the busiest second in the ``after`` seconds once it is
    over, and that peak over the load before (the herd's size)."""
    start, end = int(outage.start), int(outage.start + outage.duration)
    before = load.iloc[max(0, start - 60) : start].mean()
    during = load.iloc[start:end].mean()
    peak = load.iloc[end : end + int(after)].max()
    table = pd.DataFrame(
        {"before": before, "during": during, "peak_after": peak, "peak_over_before": peak / before}
    ).astype(float)
    table.index.name = "strategy"
    return table
