"""The parameters of a ``pollsim loadtest`` run, as ``summary.json`` keeps them and
``report.html`` shows them at its top: what was run (scenario, strategies, users, run
time, speed, dialect, jobs asked for, seed), when (the date, UTC) and by which pollsim,
so that a report read weeks later says what it is the report of."""

from __future__ import annotations

import html
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version

#: the parameters as report.html names them, in its order
LABELS = {
    "scenario": "scenario",
    "strategies": "strategies",
    "users": "users",
    "spawn_rate": "users started per second",
    "duration": "run time (wall)",
    "speed": "server speed (simulated s per wall s)",
    "dialect": "dialect",
    "template": "job template",
    "job_duration": "step duration",
    "outcome": "forced outcome",
    "workers": "Locust worker processes",
    "seed": "seed",
    "max_failures": "failures allowed (share)",
    "date": "started (UTC)",
    "pollsim_version": "pollsim version",
    "locust_version": "Locust version",
}


def pollsim_version() -> str:
    """The installed pollsim's version ("unknown" where it is not installed)."""
    try:
        return version("pollsim")
    except PackageNotFoundError:
        return "unknown"


def parameters(plan, started: datetime) -> dict:
    """The run's parameters (``plan``: a ``loadtests.runner.Plan``), JSON-ready."""
    return {
        "scenario": plan.scenario or "(the default scenario)",
        "strategies": list(plan.strategies),
        "users": plan.users,
        "spawn_rate": plan.spawn_rate,
        "duration": plan.duration,
        "speed": plan.speed,
        "dialect": plan.dialect,
        "template": plan.template or "(the scenario's first)",
        "job_duration": plan.job_duration or "(the template's)",
        "outcome": plan.outcome or "(drawn)",
        "workers": plan.workers,
        "seed": plan.seed,
        "max_failures": plan.max_failures,
        "date": started.isoformat(timespec="seconds"),
        "pollsim_version": pollsim_version(),
        "locust_version": _locust_version(),
    }


def _locust_version() -> str:
    try:
        return version("locust")
    except PackageNotFoundError:
        return "unknown"


def as_html(params: dict) -> str:
    """The parameters as a table for the top of report.html."""
    rows = []
    for key, label in LABELS.items():
        if key not in params:
            continue
        value = params[key]
        text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        rows.append(f"<tr><th>{html.escape(label)}</th><td>{html.escape(text)}</td></tr>")
    return f"<table class='params'>{''.join(rows)}</table>" if rows else ""
