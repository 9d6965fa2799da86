"""The report of a ``pollsim compare`` run: the table of predicted against measured, and
two plots (request rate over the run and detection latency CDF, predicted and measured,
per strategy), in ``report.html``; and the table as text for the terminal."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from matplotlib import rcParams
from matplotlib.figure import Figure

from loadtests.compare import METRICS, Side
from loadtests.report import _save, latency_figure
from sim.plots import cdf

MINUTE = 60


def format_table(result: dict) -> str:
    """Per strategy and metric: predicted, measured and the relative error."""
    names = dict(METRICS)
    lines = [
        f"{'strategy':<28}{'metric':<30}{'predicted':>11}{'measured':>11}{'error':>9}",
    ]
    last = None
    for r in result["rows"]:
        if last is not None and r["strategy"] != last:
            lines.append("")
        last = r["strategy"]
        lines.append(
            f"{r['strategy'][:27]:<28}{names[r['metric']]:<30}{_num(r['predicted']):>11}"
            f"{_num(r['measured']):>11}{_pct(r['rel_error']):>9}"
        )
    return "\n".join(lines)


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.2f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:+.1%}"


def load_plot(out: Path, predicted: Side, measured: Side) -> Path:
    """Requests per second per strategy, a point a simulated minute, both sides."""
    fig = Figure(figsize=(9, 3.6))
    ax = fig.add_subplot()
    colours = rcParams["axes.prop_cycle"].by_key()["color"]
    for i, strategy in enumerate(sorted(predicted.per_second)):
        c = colours[i % len(colours)]
        for side, style, what in ((predicted, "-", "predicted"), (measured, "--", "measured")):
            counts = side.per_second.get(strategy, np.zeros(1))
            per_min = np.add.reduceat(counts, np.arange(0, len(counts), MINUTE)) / MINUTE
            ax.plot(np.arange(len(per_min)), per_min, style, color=c, label=f"{strategy} {what}")
    ax.set_xlabel("simulated time (min)")
    ax.set_ylabel("load (requests/s, simulated)")
    ax.set_title("Load at the status API: the model (solid) and the live run (dashed)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, out / "compare_load.png")


def latency_plot(out: Path, predicted: Side, measured: Side) -> Path | None:
    """Detection latency CDF per strategy, both sides."""
    fig = Figure(figsize=(9, 3.6))
    ax = fig.add_subplot()
    colours = rcParams["axes.prop_cycle"].by_key()["color"]
    drawn = False
    for i, strategy in enumerate(sorted(predicted.per_second)):
        c = colours[i % len(colours)]
        for side, style, what in ((predicted, "-", "predicted"), (measured, "--", "measured")):
            jobs = side.jobs[side.jobs["strategy"] == strategy]
            label = f"{strategy} {what}"
            drawn = cdf(ax, jobs["detection_latency"], label, linestyle=style, color=c) or drawn
    title = "Detection latency: the model (solid) and the live run (dashed)"
    return latency_figure(fig, ax, drawn, title, out / "compare_latency.png")


def write(out: Path, result: dict, predicted: Side, measured: Side) -> Path:
    """``report.html`` in ``out``, with its plots beside it."""
    plots = [
        p
        for p in (load_plot(out, predicted, measured), latency_plot(out, predicted, measured))
        if p
    ]
    names = dict(METRICS)
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(c)}</td>"
            for c in (
                r["strategy"],
                names[r["metric"]],
                _num(r["predicted"]),
                _num(r["measured"]),
                _pct(r["rel_error"]),
            )
        )
        + "</tr>"
        for r in result["rows"]
    )
    notes = list(result["warnings"])
    if result.get("problem"):
        notes[:0] = [result["problem"], "Partial: the live run was cut short."]
    warnings = "".join(f"<p class='warn'>{html.escape(w)}</p>" for w in notes)
    images = "".join(f"<p><img src='{p.name}' alt='{p.stem}'></p>" for p in plots)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>pollsim compare</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:4px 10px;text-align:right}}
td:nth-child(-n+2),th:nth-child(-n+2){{text-align:left}}.warn{{color:#a00;font-weight:bold}}
</style></head><body>
<h1>pollsim compare: {html.escape(result["scenario"])}</h1>
<p>The model's prediction and a live run of the same jobs against the mock server at speed
{result["speed"]:g}, over {result["span_s"]:,.0f} simulated seconds and {result["jobs"]:,}
jobs ({result.get("unfinished", 0):,} of them still being watched when the live run
ended: unfinished, neither seen to an end nor given up). Rates and latencies in
simulated seconds; the error is (measured - predicted) / predicted.</p>
{warnings}
<table><tr><th>strategy</th><th>metric</th><th>predicted</th><th>measured</th><th>error</th></tr>
{rows}</table>
{images}
<p>Also here: compare.csv, compare.json, schedule.csv (the jobs the swarm adopted),
truth.json (the server's ground truth), requests.jsonl (its request log), jobs.csv,
Locust's CSV and locust.html.</p>
</body></html>
"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
