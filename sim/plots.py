"""Plots of a run: a Gantt chart of a sample of jobs, the jobs in each state over time, and
a sweep's candidates; and ``figure_problems``, what a figure lacks for a reader. Each
returns a matplotlib Figure made without pyplot, so no global state or GUI is touched.
The polling plots live in ``sim.polling_plots`` and are re-exported here."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.occupancy import LIVE_STATES, jobs_in_states
from sim.plot_parts import nothing as _nothing
from sim.plot_parts import time_unit
from sim.polling_plots import cdf, latency_cdf, load_over_time

__all__ = [
    "STATE_COLOURS",
    "cdf",
    "figure_problems",
    "gantt",
    "latency_cdf",
    "load_over_time",
    "pareto_plot",
    "slo_cost_plot",
    "states_over_time",
    "time_unit",
]

STATE_COLOURS = {
    "queued": "#b0b0b0",
    "running": "#4c78a8",
    "retry_wait": "#f58518",
    "pausing": "#b279a2",
    "paused": "#d4a6c8",
    "cancelling": "#9d755d",
    "succeeded": "#54a24b",
    "failed": "#e45756",
    "partial": "#eeca3b",
    "cancelled": "#7f7f7f",
}


def gantt(changes: pd.DataFrame, jobs: pd.DataFrame, sample: int = 30) -> Figure:
    """One bar per job for ``sample`` jobs spread over the run, coloured by job state, with
    the terminal state marked at the end."""
    ids = jobs["job_id"].to_numpy()
    if len(ids) > sample:
        ids = ids[np.linspace(0, len(ids) - 1, sample).round().astype(int)]
    log = changes[changes["step_id"].isna() & changes["job_id"].isin(ids)].sort_values(
        ["job_id", "t"], kind="stable"
    )
    end = float(changes["t"].max()) if len(changes) else 1.0
    scale, unit = time_unit(end)
    fig = Figure(figsize=(10, max(3.0, 0.28 * len(ids) + 1.5)), layout="constrained")
    ax = fig.add_subplot()
    for row, (job_id, g) in enumerate(log.groupby("job_id", sort=True)):
        t = g["t"].to_numpy() / scale
        states = g["to_state"].to_list()
        for k, state in enumerate(states):
            if state in LIVE_STATES:
                stop = t[k + 1] if k + 1 < len(t) else end / scale
                ax.barh(row, stop - t[k], left=t[k], color=STATE_COLOURS[state], height=0.7)
            else:
                ax.plot(t[k], row, "|", color=STATE_COLOURS[state], markersize=12, mew=3)
        ax.text(t[0], row, f"{job_id} ", ha="right", va="center", fontsize=7)
    ax.set_yticks([])
    ax.invert_yaxis()
    ax.set_xlabel(f"simulated time ({unit})")
    ax.set_ylabel(f"jobs (a sample of {len(ids)}, one per row)")
    ax.set_title("Job lifecycles: state over time")
    seen = set(log["to_state"])
    handles = [Patch(color=c, label=s) for s, c in STATE_COLOURS.items() if s in seen]
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    else:
        _nothing(ax)
    return fig


def states_over_time(changes: pd.DataFrame, points: int = 600) -> Figure:
    """Jobs in each non-terminal state over time, stacked."""
    end = float(changes["t"].max()) if len(changes) else 1.0
    grid = np.linspace(0.0, end, points)
    counts = jobs_in_states(changes, grid)
    counts = counts.loc[:, counts.max() > 0]
    scale, unit = time_unit(end)
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    ax = fig.add_subplot()
    if counts.columns.empty:
        _nothing(ax)
    else:
        ax.stackplot(
            grid / scale,
            [counts[c].to_numpy() for c in counts.columns],
            labels=list(counts.columns),
            colors=[STATE_COLOURS[c] for c in counts.columns],
            step="post",
        )
        ax.legend(loc="upper left", fontsize=8)
    ax.set_xlabel(f"simulated time ({unit})")
    ax.set_ylabel("jobs (count)")
    ax.set_title("Jobs in each state over time")
    ax.margins(x=0)
    return fig


def pareto_plot(table: pd.DataFrame, slo_p95: float | None = None) -> Figure:
    """Mean load against p95 detection latency for every swept candidate, the Pareto
    frontier drawn through the ones nothing beats on both."""
    from sim.recommend import pareto_front
    from sim.sweep import METRICS

    fig = Figure(figsize=(8, 5.5), layout="constrained")
    ax = fig.add_subplot()
    t = table.dropna(subset=["latency_p95"])
    params = [c for c in table.columns if c not in ("strategy", "template", *METRICS)]
    by = "template" if "template" in t else "strategy"
    for i, (label, g) in enumerate(t.groupby(by, sort=False)):
        ax.scatter(g["load_mean"], g["latency_p95"], s=25, color=f"C{i % 10}", label=label)
    front = pareto_front(t)
    if len(front):
        ax.plot(front["load_mean"], front["latency_p95"], "k--", lw=1, label="Pareto frontier")
        for _, row in front.iterrows():
            note = ", ".join(f"{p}={row[p]}" for p in params)
            ax.annotate(
                note,
                (row["load_mean"], row["latency_p95"]),
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
            )
    if slo_p95 is not None:
        ax.axhline(slo_p95, color="C3", lw=1, label=f"SLO p95 {slo_p95:g} s")
    if len(t):
        ax.legend(fontsize=7, loc="upper right")
    else:
        _nothing(ax)
    ax.set_xlabel("mean load on the status API (requests/s)")
    ax.set_ylabel("p95 detection latency (s)")
    ax.set_title("Load against detection latency, per candidate")
    ax.grid(alpha=0.3)
    return fig


def slo_cost_plot(ladder: pd.DataFrame) -> Figure:
    """What each p95 SLO costs: the mean load of the strategy recommended for it (a
    ``sim.recommend.slo_ladder`` table), tightest SLO on the right; SLOs nothing meets
    are marked along the bottom."""
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    met = ladder.dropna(subset=["strategy"])
    if len(met):
        ax.plot(met["slo_p95"], met["load_mean"], "o-", color="C0", label="recommended")
        changed = met["strategy"] != met["strategy"].shift()
        for _, row in met[changed].iterrows():  # a label where the choice changes
            ax.annotate(
                row["strategy"],
                (row["slo_p95"], row["load_mean"]),
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
            )
    missed = ladder[ladder["strategy"].isna()]
    if len(missed):
        ax.scatter(missed["slo_p95"], [0] * len(missed), marker="x", color="C3",
                   label="nothing meets it")  # fmt: skip
    if not len(ladder):
        _nothing(ax)
    ax.set_xscale("log")
    ax.set_xticks(sorted(ladder["slo_p95"]), [f"{x:g}" for x in sorted(ladder["slo_p95"])])
    ax.minorticks_off()
    ax.invert_xaxis()
    ax.set_xlabel("SLO: p95 detection latency (s), tighter to the right")
    ax.set_ylabel("mean load of the choice (requests/s)")
    ax.set_title("What a tighter detection-latency SLO costs")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def figure_problems(fig: Figure) -> list[str]:
    """What a figure lacks for a reader: per plot (axes sharing a place are one plot, as
    a twin y axis is), a title, axis labels with units in brackets, and a legend. Empty
    when nothing is missing; the notebooks' tests check every figure they show."""
    plots: dict[tuple, list] = {}
    for ax in fig.axes:
        if ax.has_data():
            plots.setdefault(tuple(np.round(ax.get_position().bounds, 3)), []).append(ax)
    suptitle = fig.get_suptitle()
    problems = []
    for axes in plots.values():
        name = next((a.get_title() for a in axes if a.get_title()), "") or suptitle
        where = f"plot {name!r}" if name else "a plot"
        if not name:
            problems.append(f"{where} has no title")
        labels = [("x", next((a.get_xlabel() for a in axes if a.get_xlabel()), ""))]
        labels += [("y", a.get_ylabel()) for a in axes]
        for axis, label in labels:
            if not label:
                problems.append(f"{where} has no {axis} axis label")
            elif "(" not in label or ")" not in label:
                problems.append(f"{where}: {axis} axis label {label!r} gives no unit in brackets")
        if not any(a.get_legend() for a in axes) and not fig.legends:
            problems.append(f"{where} has no legend")
    return problems
