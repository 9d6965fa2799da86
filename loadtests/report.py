"""The report of a ``pollsim loadtest`` run: an HTML page with the run's parameters at
its top, the summary per strategy, any saturation warnings, and three plots (requests
per second over time, detection latency CDF per strategy, polls per job), from the
files the run wrote."""

from __future__ import annotations

import csv
import html
from pathlib import Path

from matplotlib.figure import Figure

from loadtests.parameters import as_html
from loadtests.summary import strategies
from sim.plot_parts import nothing
from sim.plots import cdf
from sim.polling_plots import unseen_label


def _jobs(out: Path) -> dict[str, list[dict]]:
    path = out / "jobs.csv"
    rows = list(csv.DictReader(path.open())) if path.exists() else []
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(r["strategy"], []).append(r)
    return by


def load_plot(out: Path) -> Path | None:
    """Requests per second at the swarm, over the run (Locust's stats history)."""
    path = out / "locust_stats_history.csv"
    if not path.exists():
        return None
    rows = [r for r in csv.DictReader(path.open()) if r["Name"] == "Aggregated"]
    if not rows:
        return None
    t0 = int(rows[0]["Timestamp"])
    t = [int(r["Timestamp"]) - t0 for r in rows]
    rps = [float(r["Requests/s"]) for r in rows]
    fig = Figure(figsize=(8, 3.2))
    ax = fig.add_subplot()
    ax.plot(t, rps, color="#1f77b4", label="all requests (Locust's view)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_xlabel("time into the run (wall s)")
    ax.set_ylabel("load (requests/s, wall)")
    ax.set_title("Load the swarm put on the status API")
    ax.grid(alpha=0.3)
    return _save(fig, out / "load.png")


def latency_plot(out: Path, summary: dict | None = None) -> Path | None:
    """``latency_cdf.png``: :func:`latency_chart` saved; None where there is no strategy."""
    fig = latency_chart(out, summary)
    return None if fig is None else _save(fig, out / "latency_cdf.png")


def latency_chart(out: Path, summary: dict | None = None) -> Figure | None:
    """The CDF of detection latency per strategy, as the clients measured it. A strategy
    whose clients saw no job end (``summary``'s strategies: those with users, jobs or
    not) is a legend entry without a curve that says why, as ``sim.polling_plots`` does
    for a simulation, rather than missing from the figure."""
    import pandas as pd

    jobs = _jobs(out)
    names = sorted({*jobs, *(name for name, _ in strategies(summary or {}))})
    fig = Figure(figsize=(8, 3.6))
    ax = fig.add_subplot()
    drawn = False
    for i, strategy in enumerate(names):
        rows = jobs.get(strategy, [])
        lat = [float(r["latency_s"]) for r in rows if r["latency_s"]]
        colour = f"C{i % 10}"
        if cdf(ax, lat, strategy, color=colour):
            drawn = True
            continue
        cut = ((summary or {}).get(strategy) or {}).get("unfinished") or 0
        ended = pd.DataFrame(
            {
                "gave_up": [r["gave_up"] == "True" for r in rows] + [False] * cut,
                "errored": [r.get("errored") == "True" for r in rows] + [False] * cut,
            }
        )
        ax.plot([], [], color=colour, ls=":", label=unseen_label(strategy, ended))
    if not names:
        return None
    if not drawn:
        nothing(ax, "no client saw a job end")
    _finish_latency(ax, "Detection latency per strategy")
    return fig


def latency_figure(fig, ax, drawn: bool, title: str, path: Path) -> Path | None:
    """A detection-latency CDF figure finished (labels, title, legend) and saved; None
    where nothing was drawn."""
    if not drawn:
        return None
    _finish_latency(ax, title)
    return _save(fig, path)


def _finish_latency(ax, title: str) -> None:
    ax.set_xlabel("detection latency (simulated s)")
    ax.set_ylabel("share of jobs (fraction)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def polls_plot(out: Path) -> Path | None:
    """Polls per job per strategy."""
    jobs = _jobs(out)
    if not jobs:
        return None
    fig = Figure(figsize=(8, 3.2))
    ax = fig.add_subplot()
    names = sorted(jobs)
    boxes = ax.boxplot([[int(r["polls"]) for r in jobs[n]] for n in names])
    ax.set_xticks(range(1, len(names) + 1), names)
    ax.set_xlabel("strategy (a box per client strategy)")
    ax.legend(
        [boxes["medians"][0], boxes["boxes"][0]],
        ["median", "middle half of the jobs"],
        fontsize=8,
        loc="upper right",
    )
    ax.set_ylabel("polls per job (count)")
    ax.set_title("Polls per job")
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, out / "polls.png")


def _cell(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _failures(failures: dict) -> str:
    """Submissions and polls that failed, in a sentence."""
    parts = [
        f"{c['failed']:,} of {c['requests']:,} {kind}"
        for kind, c in failures.items()
        if isinstance(c, dict)
    ]
    return f"Failed (injected faults aside): {' and '.join(parts)}." if parts else ""


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def write(out: Path, summary: dict) -> Path:
    """``report.html`` in ``out``, with its plots beside it."""
    plots = [p for p in (load_plot(out), latency_plot(out, summary), polls_plot(out)) if p]
    rows = []
    for name, s in strategies(summary):
        lat = s["detection_latency_s"]
        cells = [
            name,
            s["jobs"],
            _cell(s["polls_per_job"], ".1f"),
            s["gave_up"],
            s.get("errored", 0),
            _cell(s.get("unfinished"), "d"),
            _cell(lat["p50"], ".2f"),
            _cell(lat["p95"], ".2f"),
        ]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    notes = [summary["problem"]] if summary.get("problem") else []
    if summary.get("partial"):
        notes.append("Partial: the run was cut short, and these are the figures up to then.")
    notes += summary.get("warnings", [])
    warnings = "".join(f"<p class='warn'>{html.escape(w)}</p>" for w in notes)
    requests = summary["server"]["requests"]
    served = (
        "The server gave no ground truth (see server.log)."
        if requests is None
        else f"The server answered {requests:,} requests."
    )
    images = "".join(f"<p><img src='{p.name}' alt='{p.stem}'></p>" for p in plots)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>pollsim loadtest</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:4px 10px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}.warn{{color:#a00;font-weight:bold}}
.params th{{text-align:left;font-weight:normal;color:#555}}.params td{{text-align:left}}</style>
</head><body>
<h1>pollsim loadtest</h1>
{as_html(summary.get("parameters") or {})}
{warnings}
<table><tr><th>strategy</th><th>jobs</th><th>polls/job</th><th>gave up</th>
<th>errored</th><th>unfinished</th><th>latency p50 (s)</th><th>p95 (s)</th></tr>
{"".join(rows)}
</table>
<p>{served} Jobs are those the clients finished watching (seen to an end, given up on,
or errored: the client stopped on an error answer, which is not a give-up); unfinished
ones were still being watched when the run ended, and are none of these.
{_failures(summary.get("failures", {}))} Latencies are in simulated seconds, as the
clients measured them against the end the server reported; the server's own account is
in truth.json, Locust's in locust.html.</p>
{images}
</body></html>
"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
