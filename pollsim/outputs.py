"""What ``pollsim simulate --out DIR`` writes: CSV tables, the summary as JSON, and plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim.plots import gantt, latency_cdf, load_over_time, states_over_time
from sim.polling import REPLAYED_ENDS, sampled_requests
from sim.simulation import Simulation


def write_outputs(
    run: Simulation, summary: dict, out: Path, max_requests: int = 1_000_000
) -> list[Path]:
    """Write the run's tables and plots to ``out`` (created if missing); the paths written.
    With clients: per-job polls, per-second load, the request log (``request_log``), a
    latency CDF and the load over time."""
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
        requests = request_log(run, max_requests)
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


#: jobs per strategy whose requests are logged where the fast path ran (it logs none)
SAMPLED_JOBS = 1000


def request_log(run: Simulation, max_requests: int = 1_000_000) -> pd.DataFrame:
    """The run's requests, with what a client saw of each: ``state`` (what the answer
    showed; empty on an error), ``retry_after`` (what the model's server sends with
    each 429 and 503), ``t_sent`` and ``t_received`` (at the client, half a round
    trip either side of the server's ``t`` and ``t_answered``), so that ``pollsim fit``
    reads the client's own waits. Where the fast path ran, the requests of a sample of
    its jobs (``sim.polling.sampled_requests``). At most ``max_requests`` rows, whole jobs
    taken evenly over the run (a job's requests are kept together), the rest filled with
    the requests of the jobs not taken, in order, the last of them cut short: exactly
    ``max_requests`` rows."""
    p = run.polling
    requests = p.requests_frame()
    if "fast" in p.methods.values() and run.scenario.clients is not None:
        sampled = sampled_requests(p, run.scenario.clients, run.scenario.seed, SAMPLED_JOBS)
        requests = sampled if requests.empty else pd.concat([requests, sampled], ignore_index=True)
    requests = requests.sort_values(["job_id", "t"], kind="stable", ignore_index=True)
    if len(requests) > max_requests:
        sizes = requests.groupby("job_id", sort=True).size()
        step = max(1, int(np.ceil(len(requests) / max(max_requests, 1))))
        keep = sizes.iloc[::step]
        keep = keep[keep.cumsum() <= max_requests]
        whole = requests["job_id"].isin(keep.index)
        left = max_requests - int(whole.sum())  # the rest: the next jobs', the last cut short
        part = requests[~whole].head(left).copy()
        cut = part["job_id"].iloc[-1] if len(part) else None
        if cut is not None and (part["job_id"] == cut).sum() < sizes[cut]:
            for c in (c for c in REPLAYED_ENDS if c in part.columns):
                part[c] = part[c].astype(object)
                part.loc[part["job_id"] == cut, c] = None  # cut short: it did not end here
        requests = pd.concat([requests[whole], part]).reset_index(drop=True)
    half = run.scenario.clients.rtt / 2 if run.scenario.clients is not None else 0.0
    timeline = {t.job_id: t for t in p.timelines}
    ok = requests["http_status"].isin((200, 304)).to_numpy()
    requests["state"] = [
        timeline[j].shown_at(t) if good and j in timeline else ""
        for j, t, good in zip(
            requests["job_id"].tolist(), requests["t_answered"].tolist(), ok.tolist(), strict=True
        )
    ]
    asked = requests["http_status"].isin((429, 503)).to_numpy()
    requests["retry_after"] = np.where(asked, p.server.retry_after, np.nan)
    requests["t_sent"] = requests["t"] - half
    requests["t_received"] = requests["t_answered"] + half
    return requests
