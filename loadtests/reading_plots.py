"""Plots of a load test read back (``loadtests.reading``): Locust's load over the run,
detection latency as the clients, the server and the model saw it, and polls per job
measured against predicted. Each returns a matplotlib Figure made without pyplot."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import rcParams
from matplotlib.figure import Figure

from loadtests.reading import LoadTest
from sim.plots import cdf


def locust_plot(lt: LoadTest) -> Figure:
    """Locust's requests per second over the run (wall time), and its users."""
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax = fig.add_subplot()
    h = lt.history
    ax.plot(h["t"], h["Requests/s"], color="#4c78a8", label="requests/s (Locust)")
    ax.set_xlabel("time into the run (wall s)")
    ax.set_ylabel(f"load (requests/s, wall; x{lt.speed:g} clock)")
    ax.set_ylim(bottom=0)
    users = ax.twinx()
    users.step(h["t"], h["User Count"], where="post", color="#f58518", label="users")
    users.set_ylabel("Locust users (count)")
    users.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()[0] + users.get_legend_handles_labels()[0]
    ax.legend(handles, [x.get_label() for x in handles], fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    ax.set_title("The swarm as Locust saw it")
    return fig


def latency_plot(lt: LoadTest, model: pd.DataFrame) -> Figure:
    """Detection latency per strategy: the server's ground truth (solid), the clients'
    own measure (dotted) and the model's prediction for the same jobs (dashed)."""
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.add_subplot()
    colours = rcParams["axes.prop_cycle"].by_key()["color"]
    watched = lt.watched
    for k, (strategy, w) in enumerate(watched.groupby("strategy")):
        c = colours[k % len(colours)]
        m = model[model["strategy"] == strategy]
        cdf(ax, w["detection_latency_s"].dropna(), f"{strategy}: server", color=c)
        cdf(ax, w["latency_s"].dropna(), f"{strategy}: clients", color=c, linestyle=":")
        cdf(ax, m["detection_latency"].dropna(), f"{strategy}: model", color=c, linestyle="--")
    ax.set_xlabel("detection latency (simulated s)")
    ax.set_ylabel("share of jobs (fraction)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Detection latency: measured by the server, the clients, and the model")
    return fig


def polls_plot(table: pd.DataFrame) -> Figure:
    """``comparison``'s table: polls per job per strategy, measured beside predicted."""
    fig = Figure(figsize=(8, 3.6), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["polls_per_job_measured"], 0.4, color="#4c78a8", label="measured")
    ax.bar(x + 0.2, table["polls_per_job_model"], 0.4, color="#f58518", label="model")
    for k, err in enumerate(table["polls_per_job_error"]):
        top = max(table["polls_per_job_measured"].iloc[k], table["polls_per_job_model"].iloc[k])
        ax.annotate(f"{err:+.1%}", (k, top), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, table.index, fontsize=8)
    ax.set_xlabel("strategy (a pair of bars each)")
    ax.set_ylabel("polls per job (count)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Polls per job: the live run against the model")
    return fig
