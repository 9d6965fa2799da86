"""Plots of capacity planning (``sim.planning``): load against the arrival rate, a day
of load with its peak hour, Erlang C against the simulation, and the workers a tighter
polling interval costs. Each returns a matplotlib Figure made without pyplot."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def _legend(*axes, **kw) -> None:
    """One legend for axes that share a plot (a twin y axis): every labelled line."""
    handles, labels = [], []
    for ax in axes:
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    axes[0].legend(handles, labels, fontsize=8, **kw)


def load_curve_plot(table: pd.DataFrame, capacity: float | None = None) -> Figure:
    """``arrival_sweep``'s table: the load offered and served against the arrival rate,
    the straight line the lightest load predicts, the API's capacity, and its p99
    response time on the right."""
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    ax = fig.add_subplot()
    x = table["arrival_rate"]
    slope = table["load_offered"].iloc[0] / x.iloc[0]
    ax.plot(x, slope * x, ":", color="grey", label="in line with the lightest rate")
    ax.plot(x, table["load_offered"], "o-", color="#4c78a8", label="offered (API never queues)")
    if "load_served" in table:
        ax.plot(x, table["load_served"], "s-", color="#54a24b", label="served by the API")
    if capacity is not None:
        ax.axhline(capacity, color="#54a24b", lw=0.8, ls="--", label="API capacity")
    ax.set_xlabel("job arrival rate (jobs/s)")
    ax.set_ylabel("status API load, mean (requests/s)")
    axes = [ax]
    if "response_p99" in table:
        right = ax.twinx()
        right.plot(x, table["response_p99"], "^--", color="#e45756", label="p99 response time")
        right.set_ylabel("p99 response time of the API (s)")
        right.set_ylim(bottom=0)
        axes.append(right)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.set_title("Status API load as jobs arrive faster: linear, then queueing")
    _legend(*axes, loc="upper left")
    return fig


def day_plot(load: pd.Series, table: pd.DataFrame, peak: int, slot: float = 3600.0) -> Figure:
    """A day of per-second load (faint), each hour's mean and p99 of its seconds, and
    the peak hour shaded. ``table`` is ``sim.planning.hourly(load)``."""
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.add_subplot()
    hours = np.asarray(load.index, dtype=float) / 3600
    ax.plot(hours, load.to_numpy(), lw=0.3, color="#c6dbef", label="each second")
    edges = np.append(table.index.to_numpy(), table.index.max() + 1) * slot / 3600
    for column, colour in (("mean", "#08306b"), ("p99", "#e45756")):
        values = table[column].to_numpy()
        ax.stairs(values, edges, color=colour, lw=2, zorder=3, label=f"hourly {column}")
    lo = peak * slot / 3600
    ax.axvspan(lo, lo + slot / 3600, color="#f58518", alpha=0.15, label="peak hour")
    ax.set_xlabel("time of day (h)")
    ax.set_ylabel("status API load (requests/s)")
    ax.set_xlim(0, edges[-1])
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.set_title("A day of status API load: each second, and each hour's mean and p99")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def erlang_plot(check: pd.DataFrame, target: float | None = None) -> Figure:
    """``workers_check``'s table: the p99 response time per number of workers, as
    simulated and as Erlang C predicts, and the target."""
    fig = Figure(figsize=(7, 3.8), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(check["workers"], check["erlang_c"], "-", color="#4c78a8", label="Erlang C (M/M/c)")
    ax.plot(check["workers"], check["simulated"], "o", color="#f58518", label="simulated")
    if target is not None:
        ax.axhline(target, color="#e45756", ls="--", lw=1, label=f"target {target:g} s")
    ax.set_xticks(check["workers"])
    ax.set_xlabel("status API workers (count)")
    ax.set_ylabel("p99 response time (s)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.set_title("Workers against response time: the model and the formula")
    ax.legend(fontsize=8)
    return fig


def interval_cost_plot(table: pd.DataFrame) -> Figure:
    """``interval_cost``'s table: the workers each polling interval needs at the peak
    hour (bars), and the p95 detection latency it buys (right)."""
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.add_subplot()
    labels = [f"{i:g}" for i in table["interval"]]
    ax.bar(labels, table["workers"], color="#4c78a8", label="API workers needed at the peak")
    for k, w in enumerate(table["workers"]):
        ax.annotate(str(w), (k, w), ha="center", va="bottom", fontsize=8)
    ax.set_xlabel("polling interval (s), tighter to the right")
    ax.set_ylabel("status API workers (count)")
    right = ax.twinx()
    right.plot(labels, table["latency_p95"], "o--", color="#e45756", label="p95 detection latency")
    right.set_ylabel("p95 detection latency (s)")
    right.set_ylim(bottom=0)
    ax.set_title("What a tighter polling interval costs in API workers")
    _legend(ax, right, loc="upper center")
    return fig
