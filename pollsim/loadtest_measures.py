"""What ``pollsim loadtest --assert`` checks: the server's ground truth of the run
(``truth.json``, the same report as ``pollsim report`` reads) with each client's jobs
put under its user's strategy (``jobs_users.csv``), and, where a check asks for
``requests_per_second``, the server's request journal of the run (``requests.json``):
requests per simulated second, by strategy, as ``pollsim report`` and ``pollsim
simulate`` count them, from the swarm's first request."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from pollsim.assertions import AssertionSyntax, Measures, load_frame


def strategy_of(out: Path) -> dict[str, str]:
    """Each swarm user (the client id the server saw) and its strategy's label."""
    by: dict[str, str] = {}
    for name in ("jobs_users.csv", "jobs.csv"):
        path = out / name
        if path.exists():
            with path.open(newline="", encoding="utf-8") as f:
                by.update({r["user"]: r["strategy"] for r in csv.DictReader(f)})
    return by


def measures(out: Path) -> Measures:
    """The run's measures, a group per strategy; AssertionSyntax (one line) where the
    run left no ground truth to check."""
    path = out / "truth.json"
    if not path.exists():
        raise AssertionSyntax(f"{path}: the run left no ground truth to check the assertions on")
    truth = json.loads(path.read_text(encoding="utf-8"))
    by = strategy_of(out)
    found = Measures.from_report(truth)
    jobs = found.jobs.assign(group=found.jobs["group"].map(by))
    jobs = jobs[jobs["group"].notna()].reset_index(drop=True)
    journal = out / "requests.json"
    load, missing = (
        None,
        {
            "requests_per_second": "the server's request journal of the run was not kept "
            "(GET /_admin/requests did not answer)"
        },
    )
    if journal.exists():
        doc = json.loads(journal.read_text(encoding="utf-8"))
        if doc.get("dropped"):
            missing["requests_per_second"] = (
                f"the server's request journal dropped {doc['dropped']:,} of the run's "
                "requests (it keeps the latest 100,000): too many to count per second"
            )
        else:
            # seconds from the swarm's first request (the server ran alone before it)
            arrivals = [
                (by[q["client"]], float(q["t"]))
                for q in doc.get("requests", [])
                if q.get("client") in by
            ]
            first = min((t for _, t in arrivals), default=0.0)
            end = float(truth.get("until") or truth.get("now") or 0.0) - first
            load = load_frame([(g, t - first) for g, t in arrivals], end)
            for label in dict.fromkeys(by.values()):
                if label not in set(load["group"]):  # a strategy that sent nothing
                    load = _with_zeros(load, label, end)
            missing = {}
    return Measures(jobs=jobs, load=load, source="loadtest", missing=missing)


def _with_zeros(load, label: str, end: float):
    import pandas as pd

    seconds = max(int(load["second"].max()) + 1 if len(load) else 0, int(end + 0.999999))
    zeros = pd.DataFrame(
        {"group": label, "second": range(seconds), "requests_per_second": [0] * seconds}
    )
    return pd.concat([load, zeros], ignore_index=True)
