"""``pollsim compare``: the scenario through the model, and the same scenario live, put
side by side per strategy.

The live run plays the model's very jobs: the mock server's background arrivals are the
scenario's arrival process with the scenario's seed, so job ``k`` of the model is job
``k + 1`` of the server, with the same template, steps, retries and end. A Locust
``Adopter`` watches each one from the moment the model's client started watching it,
with the strategy the model drew for it. What differs is what is real: round trips,
sleeps and scheduling on this machine. The model runs first; its schedule drives the
swarm; the server's clock starts once the swarm is ready (``--start-in``).

Load is counted at the server (its request log, simulated seconds); polls per job,
detection latency, give-ups and errored jobs (a client that stopped on an error answer,
counted apart from give-ups) come from the server's ground truth, so both sides are
measured the same way the model measures them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from loadtests.compare_live import Live, Played, measure
from loadtests.failures import MAX_FAILURES, count, verdict
from loadtests.live import request_names
from mock_server.model import BACKGROUND
from sim.dialects import get_dialect
from sim.scenario import Scenario

PEAK_WINDOW = 10  #: simulated seconds over which the peak request rate is averaged
METRICS = (
    ("mean_rps", "mean requests/s"),
    (f"peak_rps_{PEAK_WINDOW}s", f"peak requests/s ({PEAK_WINDOW} s)"),
    ("polls_per_job", "polls per job"),
    ("latency_p50", "detection latency p50 (s)"),
    ("latency_p95", "detection latency p95 (s)"),
    ("gave_up", "give-ups"),
    ("errored", "errored (stopped on an error)"),
)
ALL = "all"


@dataclass
class Side:
    """One side of the comparison: a row per job (strategy, polls, gave_up, errored,
    detection_latency; a frame without ``errored`` has none) and status requests per
    simulated second, per strategy."""

    jobs: pd.DataFrame
    per_second: dict[str, np.ndarray]


def metrics(side: Side, strategy: str, span: float) -> dict[str, float | None]:
    """The comparison's metrics of one strategy's clients (``ALL``: of every client);
    rates over ``span`` simulated seconds."""
    jobs = side.jobs if strategy == ALL else side.jobs[side.jobs["strategy"] == strategy]
    chosen = side.per_second.values() if strategy == ALL else [side.per_second.get(strategy)]
    counts = np.zeros(max([len(c) for c in chosen if c is not None], default=1))
    for c in chosen:
        if c is not None:
            counts[: len(c)] += c
    windows = np.add.reduceat(counts, np.arange(0, len(counts), PEAK_WINDOW))
    lat = jobs["detection_latency"].dropna().to_numpy()
    return {
        "mean_rps": float(counts.sum() / span),
        f"peak_rps_{PEAK_WINDOW}s": float(windows.max() / PEAK_WINDOW),
        "polls_per_job": float(jobs["polls"].mean()) if len(jobs) else None,
        "latency_p50": float(np.percentile(lat, 50)) if len(lat) else None,
        "latency_p95": float(np.percentile(lat, 95)) if len(lat) else None,
        "gave_up": float(jobs["gave_up"].sum()),
        "errored": float(jobs["errored"].eq(True).sum()) if "errored" in jobs else 0.0,
    }


def table(predicted: Side, measured: Side, span: float) -> pd.DataFrame:
    """Per strategy (and in all) and metric: predicted, measured and the relative error
    ``(measured - predicted) / predicted`` (None where nothing was predicted)."""
    rows = []
    for strategy in [*sorted(predicted.per_second), ALL]:
        p, m = metrics(predicted, strategy, span), metrics(measured, strategy, span)
        for key, _ in METRICS:
            a, b = p[key], m[key]
            err = (b - a) / a if a and b is not None else None
            rows.append((strategy, key, a, b, err))
    return pd.DataFrame(rows, columns=["strategy", "metric", "predicted", "measured", "rel_error"])


def predict(scenario: Scenario) -> tuple[Side, pd.DataFrame, float]:
    """The model's side, the swarm's schedule (server job id, start, strategy) and the
    end of the model's run."""
    from sim import simulate

    run = simulate(scenario)
    polling = run.polling
    jobs = polling.jobs_frame()
    per_second = {
        label: polling.load_frame(label)["requests"].to_numpy()
        for label in jobs["strategy"].unique()
    }
    schedule = pd.DataFrame(
        {"job_id": jobs["job_id"] + 1, "start": jobs["watch_start"], "strategy": jobs["strategy"]}
    ).sort_values("start")
    side = Side(jobs[["strategy", "polls", "gave_up", "errored", "detection_latency"]], per_second)
    return side, schedule, polling.end


def measured_side(live: Live, schedule: pd.DataFrame) -> Side:
    """The live side, from the server's ground truth and request log."""
    rows = [r for r in _adopted(live, schedule) if not r.get("unfinished")]
    jobs = pd.DataFrame(
        {
            "strategy": [r["client"] for r in rows],
            "polls": [r["polls"] for r in rows],
            "gave_up": [r["gave_up"] for r in rows],
            "errored": [bool(r.get("errored")) for r in rows],
            "detection_latency": [r["detection_latency_s"] for r in rows],
        }
    ).astype({"detection_latency": float})
    logged = live.requests.exists() and live.requests.stat().st_size
    log = pd.read_json(live.requests, lines=True) if logged else None
    per_second: dict[str, np.ndarray] = {}
    if log is not None:
        for client, t in log.groupby("client")["t"]:
            per_second[client] = np.bincount(t.to_numpy().astype(int))
    return Side(jobs, per_second)


def _adopted(live: Live, schedule: pd.DataFrame) -> list[dict]:
    """The ground truth's rows of the jobs the swarm adopted, each by its strategy."""
    if live.report is None:
        return []
    strategy_of = dict(zip(schedule["job_id"].astype(str), schedule["strategy"], strict=True))
    return [r for r in live.report["jobs"] if strategy_of.get(r["job_id"]) == r["client"]]


def unfinished(live: Live, schedule: pd.DataFrame) -> int:
    """Jobs still being watched when the live run ended: neither seen to an end nor
    given up (the server's ``unfinished``, given the end of the watch)."""
    return sum(bool(r.get("unfinished")) for r in _adopted(live, schedule))


LATE = 1.0  #: simulated seconds after its start beyond which a job was taken up late


def compare(
    scenario: Scenario,
    scenario_path: str | None,
    speed: float,
    start_in: float,
    out: Path,
    max_failures: float = MAX_FAILURES,
) -> dict:
    """Predict, measure, put side by side; writes the outputs to ``out`` and returns the
    result: the table's rows, the span, late and unfinished jobs, failed polls, warnings
    and what went wrong (``problem``: a run cut short, or polls failing beyond
    ``max_failures``)."""
    out.mkdir(parents=True, exist_ok=True)
    predicted, schedule, end = predict(scenario)
    schedule.to_csv(out / "schedule.csv", index=False)
    played = Played(scenario_path, scenario.dialect, scenario.seed)
    live = measure(played, speed, start_in, end, out)
    measured = measured_side(live, schedule)
    rows = table(predicted, measured, end)
    taken = pd.read_csv(out / "jobs.csv") if (out / "jobs.csv").exists() else pd.DataFrame()
    late = int((taken["late_s"] > LATE).sum()) if len(taken) else 0
    warnings = list(live.warnings)
    if late:
        warnings.append(
            f"{late} of {len(schedule)} jobs were taken up more than {LATE:g} s (simulated) "
            f"after the model's client started on them (at most {taken['late_s'].max():.1f} "
            "s): give the swarm more time to get ready (--start-in) or lower --speed"
        )
    injected = live.report["totals"].get("injected_faults", {}) if live.report else {}
    failures = count(out, request_names(get_dialect(scenario.dialect), BACKGROUND), injected)
    cut = unfinished(live, schedule)
    if cut:
        warnings.append(
            f"{cut} of {len(schedule)} jobs were still being watched when the live run ended "
            "(unfinished: neither seen to an end nor given up, and left out of the table)"
        )
    missing = len(schedule) - len(measured.jobs) - cut
    if missing and live.report is not None:
        warnings.append(f"{missing} of {len(schedule)} jobs were not watched in the live run")
    result = {
        "scenario": scenario.name,
        "speed": speed,
        "span_s": end,
        "jobs": len(schedule),
        "late_jobs": late,
        "unfinished": cut,
        "failures": failures,
        "partial": live.problem is not None,
        "problem": live.problem or verdict(failures, max_failures),
        "warnings": warnings,
        "rows": rows.replace({np.nan: None}).to_dict("records"),
    }
    rows.to_csv(out / "compare.csv", index=False)
    (out / "compare.json").write_text(json.dumps(result, indent=2))
    from loadtests.compare_report import write

    write(out, result, predicted, measured)
    return result
