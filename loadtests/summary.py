"""The summary of a ``pollsim loadtest`` run, from its folder and the server's ground
truth: per strategy the jobs the clients finished watching, their polls, detection
latency, give-ups and errored jobs (stopped on an error answer), and apart from those
the jobs the end of the run cut off (unfinished); the server's requests; the submissions
and polls that failed."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from loadtests.failures import count

#: the summary's keys that are not a strategy's
META = ("server", "warnings", "failures", "partial", "problem", "parameters", "wall_s")


def users_path(jobs: Path) -> Path:
    """Where the users and their strategies go, beside ``--pollsim-csv``: what names the
    strategy of a job the run cut off, which has no row of its own."""
    return jobs.with_name(f"{jobs.stem}_users{jobs.suffix}")


def strategies(summary: dict) -> Iterator[tuple[str, dict]]:
    """The summary's strategies and their figures."""
    return ((k, v) for k, v in summary.items() if k not in META)


def _rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def summarise(out: Path, report: dict | None, names: tuple[str, str]) -> dict:
    """Per strategy: jobs finished, polls per job, detection latency p50/p95 (simulated
    seconds, as the clients measured them), give-ups, errored jobs (the client stopped on
    an error answer; 0 in a jobs.csv written before they were counted), and unfinished
    jobs (None where
    the server's truth is missing); the server's requests; failures (``names``: what
    Locust counted submissions and polls under, see ``loadtests.failures.count``)."""
    rows = _rows(out / "jobs.csv")
    strategy_of = {r["user"]: r["strategy"] for r in _rows(users_path(out / "jobs.csv"))}
    strategy_of.update({r["user"]: r["strategy"] for r in rows})
    cut = _unfinished(report, rows, strategy_of) if report is not None else None
    summary: dict = {}
    for strategy in sorted({*strategy_of.values()}):
        mine = [r for r in rows if r["strategy"] == strategy]
        lat = sorted(float(r["latency_s"]) for r in mine if r["latency_s"])
        summary[strategy] = {
            "jobs": len(mine),
            "polls_per_job": sum(int(r["polls"]) for r in mine) / len(mine) if mine else None,
            "gave_up": sum(r["gave_up"] == "True" for r in mine),
            "errored": sum(r.get("errored") == "True" for r in mine),
            "unfinished": None if cut is None else cut.get(strategy, 0),
            "detection_latency_s": {"p50": _q(lat, 0.5), "p95": _q(lat, 0.95)},
        }
    injected = report["totals"].get("injected_faults", {}) if report else {}
    summary["server"] = _server(report, cut)
    summary["failures"] = count(out, names, injected)
    return summary


def _server(report: dict | None, cut: dict | None) -> dict:
    """The server's side: requests, jobs polled, injected faults, the end of the
    clients' watch (the report's ``until``) and the jobs cut off by it; nothing where
    there is no report."""
    if report is None:
        none = dict.fromkeys(("requests", "jobs", "until_s", "unfinished"))
        return {**none, "injected_faults": {}}
    return {
        "requests": sum(r["count"] for r in report["totals"]["requests"]),
        "jobs": len(report["jobs"]),  #: (client, job) pairs it saw polled
        "injected_faults": report["totals"].get("injected_faults", {}),
        "until_s": report.get("until"),  #: the runner puts the time it asked for
        "unfinished": sum((cut or {}).values()),
    }


def _unfinished(report: dict, rows: list[dict], strategy_of: dict) -> dict[str, int]:
    """Per strategy, the jobs its clients were still watching when the run ended: the
    server's ``unfinished`` where it gives one, else the jobs the server saw a client
    poll and the client never finished watching."""
    done = {(r["user"], r["job_id"]) for r in rows}
    found: dict[str, int] = {}
    for job in report["jobs"]:
        if "unfinished" in job:
            cut = bool(job["unfinished"])
        else:
            cut = (job["client"], job["job_id"]) not in done
        strategy = strategy_of.get(job["client"])
        if cut and strategy is not None:
            found[strategy] = found.get(strategy, 0) + 1
    return found


def _q(values: list[float], p: float) -> float | None:
    """A percentile as the simulation's summaries take them (numpy's); None of nothing."""
    return float(np.percentile(values, p * 100)) if values else None
