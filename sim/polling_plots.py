"""Plots of the clients' polling: the detection latency CDF per strategy and the load on
the status API over time, with the server's outages shaded. Each returns a matplotlib
Figure made without pyplot, so no global state or GUI is touched.

A strategy whose clients never saw a job end has no curve to draw; it stays in the
CDF's legend, saying so and why ("fixed(5): no job seen ended (40 gave up)"), so that a
strategy that failed outright does not vanish from the plot that should show it worst.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.plot_parts import nothing, time_unit
from sim.status_server import Outage

#: how the load plot names each kind of outage in its legend
OUTAGE_LABELS = {
    "503": "server outage: 503 answers",
    "no_answer": "server outage: no answers",
    "stall": "server outage: stalled, then all answered at once",
}
#: and shades it, each kind apart
OUTAGE_COLOURS = {"503": "#e45756", "no_answer": "#9d755d", "stall": "#b279a2"}


def cdf(ax, values, label: str, total: int | None = None, **style) -> bool:
    """A step CDF of ``values`` (NaN left out) on ``ax``, as shares of ``total`` (default:
    how many values there are; more, and the curve stops short of 1); whether anything
    was drawn."""
    x = np.sort(np.asarray(values, dtype=float))
    x = x[~np.isnan(x)]
    if not x.size:
        return False
    ax.step(x, np.arange(1, x.size + 1) / (total or x.size), where="post", label=label, **style)
    return True


def unseen_label(label: str, jobs: pd.DataFrame) -> str:
    """The legend entry of a strategy whose clients saw no job end, with why: how many
    gave up, errored, or were still watching when the run ended."""
    gave = int(jobs["gave_up"].eq(True).sum()) if "gave_up" in jobs else 0
    erred = int(jobs["errored"].eq(True).sum()) if "errored" in jobs else 0
    rest = len(jobs) - gave - erred
    why = [f"{gave:,} gave up"] if gave else []
    why += [f"{erred:,} errored"] if erred else []
    why += [f"{rest:,} still watching at the end"] if rest else []
    return f"{label}: no job seen ended ({', '.join(why) or 'no jobs'})"


def latency_cdf(jobs: pd.DataFrame) -> Figure:
    """Detection latency CDF per strategy (jobs whose end the client saw, as shares of the
    strategy's jobs); a strategy with none is a legend entry without a curve."""
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    groups = list(jobs.groupby("strategy", sort=False))
    drawn = False
    for i, (label, g) in enumerate(groups):
        colour = f"C{i % 10}"
        if cdf(ax, g["detection_latency"], str(label), total=len(g), color=colour):
            drawn = True
        else:  # no curve: an empty line holds its place in the legend
            ax.plot([], [], color=colour, ls=":", label=unseen_label(str(label), g))
    if groups:
        ax.legend(fontsize=8, loc="lower right")
        if not drawn:
            nothing(ax, "no client saw a job end")
    else:
        nothing(ax)
    ax.set_xlabel("detection latency (s): the end seen minus the true end")
    ax.set_ylabel("share of jobs (fraction)")
    ax.set_ylim(0, 1.02)
    ax.set_title("Detection latency by strategy (give-ups never reach 1)")
    ax.grid(alpha=0.3)
    return fig


def shade_outages(ax, outages: tuple[Outage, ...], end: float, scale: float) -> None:
    """Shade each outage window (cut at ``end``) on ``ax``, whose x axis is in units of
    ``scale`` seconds; one legend entry per kind of outage."""
    named: set[str] = set()
    for o in sorted(outages, key=lambda o: o.start):
        stop = min(o.start + o.duration, end)
        if stop <= o.start:
            continue
        label = OUTAGE_LABELS[o.mode] if o.mode not in named else "_nolegend_"
        named.add(o.mode)
        ax.axvspan(
            o.start / scale,
            stop / scale,
            color=OUTAGE_COLOURS[o.mode],
            alpha=0.2,
            lw=0,
            label=label,
        )


def load_over_time(polling) -> Figure:
    """Requests per second arriving at the status API, per strategy, over time, with the
    server's outages shaded."""
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    ax = fig.add_subplot()
    labels = list(dict.fromkeys(polling.per_job["strategy"]))
    scale, unit = time_unit(polling.end)
    window = max(1, min(60, len(polling.load_frame()) // 50))
    shade_outages(ax, polling.server.outages, polling.end, scale)
    for i, label in enumerate(labels):
        series = polling.load_frame(label)["requests"]
        colour = f"C{i % 10}"
        ax.plot(series.index / scale, series.to_numpy(), lw=0.5, alpha=0.25, color=colour)
        smooth = series.rolling(window, min_periods=1).mean()
        ax.plot(series.index / scale, smooth.to_numpy(), lw=1.5, color=colour, label=label)
    if labels:
        ax.legend(fontsize=8, loc="upper right")
    else:
        nothing(ax)
    ax.set_xlabel(f"simulated time ({unit})")
    ax.set_ylabel("load (requests/s)\n1 s bins, faint; and their rolling mean")
    ax.set_title("Load on the status API")
    ax.margins(x=0)
    return fig
