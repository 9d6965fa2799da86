"""Plots of retries and outages (``sim.storms``): a few jobs' states with one client's
polls over them, what each strategy made of its jobs, and load around an outage. Each
returns a matplotlib Figure made without pyplot."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.occupancy import LIVE_STATES
from sim.plots import STATE_COLOURS, time_unit
from sim.polling import Polling
from sim.simulation import Simulation
from sim.status_server import Outage


def watch_plot(run: Simulation, polling: Polling, job_ids: list[int]) -> Figure:
    """A row per job: its states over time as bars, each poll of its client as a tick,
    and where the client saw the end (a dot), gave up (a cross) or stopped on an error
    answer (a square)."""
    changes = run.changes_frame()
    changes = changes[changes["step_id"].isna() & changes["job_id"].isin(job_ids)]
    requests = polling.requests_frame()
    watched = polling.jobs_frame().set_index("job_id")
    end = float(changes["t"].max())
    scale, unit = time_unit(end)
    fig = Figure(figsize=(10, 0.55 * len(job_ids) + 1.8), layout="constrained")
    ax = fig.add_subplot()
    for row, job_id in enumerate(job_ids):
        g = changes[changes["job_id"] == job_id].sort_values("t", kind="stable")
        t, states = g["t"].to_numpy() / scale, g["to_state"].tolist()
        for k, state in enumerate(states):
            if state in LIVE_STATES:
                stop = t[k + 1] if k + 1 < len(t) else end / scale
                ax.barh(row, stop - t[k], left=t[k], height=0.6, color=STATE_COLOURS[state])
            else:
                ax.plot(t[k], row, "|", color=STATE_COLOURS[state], ms=14, mew=3)
        polls = requests.loc[requests["job_id"] == job_id, "t"].to_numpy() / scale
        ax.plot(polls, [row - 0.42] * len(polls), "|", color="black", ms=5, mew=0.6)
        w = watched.loc[job_id]
        if w["gave_up"] and len(polls):
            ax.plot(polls[-1], row, "x", color="#e45756", ms=10, mew=2.5)
        elif _errored(w) and len(polls):
            ax.plot(polls[-1], row, "s", color="#b279a2", ms=7)
        elif pd.notna(w["t_seen"]):
            ax.plot(w["t_seen"] / scale, row, "o", color="black", ms=5)
    ax.set_yticks(range(len(job_ids)), [f"job {j}" for j in job_ids], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"simulated time ({unit})")
    ax.set_ylabel("jobs (the most retried, one per row)")
    label = ", ".join(dict.fromkeys(watched["strategy"].astype(str)))
    ax.set_title(f"Jobs that retry for hours, and the polls of their {label} clients")
    seen = [s for s in STATE_COLOURS if s in set(changes["to_state"])]
    handles = [Patch(color=STATE_COLOURS[s], label=s) for s in seen] + [
        Line2D([], [], ls="", marker="|", color="black", label="a poll"),
        Line2D([], [], ls="", marker="o", color="black", label="end seen"),
        Line2D([], [], ls="", marker="x", color="#e45756", mew=2.5, label="gave up"),
    ]
    if any(_errored(watched.loc[j]) for j in job_ids):
        handles.append(Line2D([], [], ls="", marker="s", color="#b279a2", label="errored"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def _errored(w: pd.Series) -> bool:
    """Did the client stop on an error answer (False where the frame predates it)?"""
    e = w.get("errored", False)
    return bool(e) and not pd.isna(e)


def outcomes_plot(table: pd.DataFrame) -> Figure:
    """``watch_outcomes``'s table: per strategy, the share of jobs falsely given up on, of
    jobs whose client stopped on an error (where any did) and of jobs on which a state was
    missed (left), and the mean load (right)."""
    fig = Figure(figsize=(10, 0.5 * len(table) + 2), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True, width_ratios=[2, 1])
    y = range(len(table))
    bars = [("false_give_up_share", "#e45756", "gave up on a job that succeeded")]
    if "errored_share" in table and table["errored_share"].fillna(0).any():
        bars.append(("errored_share", "#b279a2", "stopped on an error answer"))
    bars.append(("missed_a_state_share", "#f58518", "missed a state it showed"))
    height = 0.8 / len(bars)
    for i, (column, colour, label) in enumerate(bars):
        at = [k - 0.4 + height * (i + 0.5) for k in y]
        left.barh(at, table[column] * 100, height=height, color=colour, label=label)
    left.set_yticks(list(y), table.index, fontsize=8)
    left.invert_yaxis()
    left.set_xlabel("share of the strategy's jobs (%)")
    left.set_ylabel("client strategy (one per row)")
    left.set_title("What the clients made of retrying jobs")
    left.legend(fontsize=8, loc="best")
    right.barh(list(y), table["load_mean"], color="#4c78a8", label="mean load")
    right.set_xlabel("status API load (requests/s)")
    right.set_ylabel("client strategy (as on the left)")
    right.set_title("And what they cost")
    right.legend(fontsize=8, loc="lower right")
    return fig


def herd_plot(load: pd.DataFrame, outage: Outage, title: str, log: bool = False) -> Figure:
    """Per-second load per strategy (``load_by_strategy``) around an outage, shaded."""
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax = fig.add_subplot()
    for k, column in enumerate(load.columns):
        ax.plot(load.index, load[column], lw=1, color=f"C{k}", label=column)
    ax.axvspan(outage.start, outage.start + outage.duration, color="grey", alpha=0.2,
               label=f"outage ({outage.mode})")  # fmt: skip
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("status API load (requests/s)")
    if log:
        ax.set_yscale("symlog", linthresh=10)
    ax.set_xlim(max(0.0, outage.start - 60), outage.start + outage.duration + 120)
    ax.grid(alpha=0.3)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left")
    return fig
