"""``pollsim report --client/--assert``: a report narrowed to some clients, and what the
assertions need beyond it (the request journal, for requests per second).

The server filters ``?client=`` itself (repeated for several); the rows are filtered
here too, so that a report from a server that ignores the filter says the same, with its
totals computed over the rows kept.
"""

from __future__ import annotations

import numpy as np

#: a report's per-client counts, summed into its totals
_SUMMED = (
    "jobs",
    "polls",
    "wasted_polls",
    "requests_after_seen",
    "retry_after_violations",
    "gave_up",
    "errored",
    "unfinished",
)
#: the most journal records one report may ask for (the admin API's own maximum)
JOURNAL_LIMIT = 100_000


def server_filter(clients: list[str]) -> list[tuple[str, str]]:
    """The ``?client=`` pairs to send: one per client named (none for ``'*'``: all)."""
    if "*" in clients:
        return []
    return [("client", c) for c in dict.fromkeys(clients)]


def narrowed(report: dict, clients: list[str]) -> dict:
    """The report with only the named clients' rows (all of them for none or ``'*'``),
    its totals over those rows."""
    named = set(clients) - {"*"}
    if not named or "*" in clients:
        return report
    jobs = [r for r in report["jobs"] if r.get("client") in named]
    rows = [r for r in report["clients"] if r.get("client") in named]
    if len(jobs) == len(report["jobs"]) and len(rows) == len(report["clients"]):
        return report  # the server filtered already
    totals = dict(report["totals"])
    for key in _SUMMED:
        if key in totals:
            totals[key] = sum(r.get(key) or 0 for r in rows)
    totals["polls_per_job"] = totals["polls"] / totals["jobs"] if totals.get("jobs") else None
    totals["detection_latency_s"] = latency_stats(
        [r["detection_latency_s"] for r in jobs if r.get("detection_latency_s") is not None]
    )
    totals.pop("overflow", None)  # counted apart from the clients named
    return {**report, "jobs": jobs, "clients": rows, "totals": totals}


def latency_stats(values: list[float]) -> dict | None:
    """Mean, p50, p95, p99 and max (numpy's percentiles, as the server's report takes
    them); None for no values."""
    if not values:
        return None
    a = np.asarray(values, dtype=float)
    return {
        "mean": float(a.mean()),
        **{f"p{q}": float(np.percentile(a, q)) for q in (50, 95, 99)},
        "max": float(a.max()),
    }


def journal_problem(answer: object) -> str | None:
    """Why a ``GET /_admin/requests`` answer cannot give requests per second, if it
    cannot: not the journal's shape, or records dropped or left out (the rates would
    come out low, and a ``<=`` check pass that should fail)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("requests"), list):
        return "the answer is not a request journal"
    bad = next(
        (
            q
            for q in answer["requests"]
            if not isinstance(q, dict) or not isinstance(q.get("t"), int | float)
        ),
        None,
    )
    if bad is not None:
        return f"a record without a time: {str(bad)[:60]}"
    if answer.get("dropped"):
        return (
            f"the journal dropped {answer['dropped']} records (it keeps the latest only): "
            "the rates would come out low; reset the server between test cases "
            "(POST /_admin/reset)"
        )
    if (answer.get("total") or 0) > len(answer["requests"]):
        return (
            f"{answer['total']} requests, more than the {JOURNAL_LIMIT} one report may "
            "fetch: the rates would come out low"
        )
    return None
