"""Whether a load test's requests failed beyond what the run can be trusted with:
submissions and polls that failed, from Locust's CSV, less the faults the scenario
asked for (answers whose error kind says so; connections the server cut on purpose, as
its ground truth counts them), as a share of each."""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

MAX_FAILURES = 0.05  #: the default share of submissions or polls that may fail
#: between a request's name and its user's strategy, in Locust's request names
#: ("/ordo/jobs/[id] · fixed(5)"): a strategy label holds no such run of characters
STRATEGY_SEP = " · "
#: the error kinds of answers the scenario asked for: faults, its rate limit, its outages
ASKED_FOR = ("injected", "rate_limited", "unavailable")
#: the ground truth's injected faults that a client sees as a failed connection
CUT = ("reset", "empty", "outage_no_answer")


def share(text: str) -> float:
    """A share as the user writes it: ``0.05`` or ``5%``; argparse's type for
    ``--max-failures``.

    >>> share("5%"), share("0.05"), share(" 100 % ")
    (0.05, 0.05, 1.0)
    """
    body = text.strip()
    percent = body.endswith("%")
    try:
        value = float(body.removesuffix("%").strip())
    except ValueError:
        value = math.nan
    value = value / 100 if percent else value
    if not 0 <= value <= 1:  # NaN fails too
        raise argparse.ArgumentTypeError(
            f"found {text!r}, expected a share from 0 to 1 or a percentage, e.g. 0.05 or 5%"
        )
    return value


def named(name: str, strategy: str = "") -> str:
    """Locust's name for a request to ``name`` by a user of ``strategy`` (none: the
    bare name), so that Locust's table, CSV and HTML keep strategies apart.

    >>> named("/ordo/jobs/[id]", "fixed(5)")
    '/ordo/jobs/[id] · fixed(5)'
    """
    return f"{name}{STRATEGY_SEP}{strategy}" if strategy else name


def is_named(row_name: str | None, name: str) -> bool:
    """Whether a row of Locust's stats (its ``Name``) counts requests to ``name``, by
    any strategy's users or by none."""
    return row_name == name or (row_name or "").startswith(name + STRATEGY_SEP)


def _rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def count(out: Path, names: tuple[str, str], injected: dict | None = None) -> dict:
    """Submissions and polls (``names``: what Locust counts them under, the dialect's
    submit path and its status path with ``[id]``, as ``loadtests.live.request_names``
    gives them; every strategy's rows together): requests, failed (the faults the
    scenario asked for aside; ``injected``: the ground truth's counts), and the
    commonest error of each (Locust's words), from the run's ``locust_*.csv``."""
    cut = sum((injected or {}).get(kind, 0) for kind in CUT)
    stats, errors = _rows(out / "locust_stats.csv"), _rows(out / "locust_failures.csv")
    kinds = {"submissions": ("POST", names[0]), "polls": ("GET", names[1])}
    found: dict = {}
    for kind, (method, name) in kinds.items():
        mine = [r for r in stats if r.get("Type") == method and is_named(r.get("Name"), name)]
        requests = sum(int(r["Request Count"]) for r in mine)
        theirs = [r for r in errors if r.get("Method") == method and is_named(r.get("Name"), name)]
        asked = [r for r in theirs if _asked_for(r.get("Error") or "")]
        failed = sum(int(r["Failure Count"]) for r in mine)
        failed -= sum(int(r.get("Occurrences") or 0) for r in asked)
        if kind == "polls":
            failed -= cut  # the server cut these connections on purpose
        failed = max(0, failed)
        theirs = [r for r in theirs if r not in asked]
        top = max(theirs, key=lambda r: int(r.get("Occurrences") or 0), default=None)
        found[kind] = {"requests": requests, "failed": failed, "error": top and top["Error"]}
    return found


def idle(out: Path, failures: dict) -> str | None:
    """One line where the swarm submitted nothing at all (its users crashed, say), with
    the first exception Locust caught; None where it submitted."""
    if failures["submissions"]["requests"]:
        return None
    crashes = _rows(out / "locust_exceptions.csv")
    why = f": {_short(crashes[0].get('Message') or '')}" if crashes else ""
    return f"the swarm submitted no job{why} (see locust.log)"


def _asked_for(error: str) -> bool:
    """Whether Locust's error text is an answer the scenario asked for (``HTTP 429
    rate_limited``, ``HTTP 500 injected``, ...)."""
    words = _short(error).split()
    return len(words) == 3 and words[0] == "HTTP" and words[2] in ASKED_FOR


def verdict(failures: dict, limit: float) -> str | None:
    """One line saying what failed beyond ``limit`` (a share), and how often; None if
    nothing did."""
    for kind, c in failures.items():
        if c["requests"] and c["failed"] / c["requests"] > limit:
            share = c["failed"] / c["requests"]
            why = f": {_short(c['error'])}" if c["error"] else ""
            return (
                f"{c['failed']:,} of {c['requests']:,} {kind} failed ({share:.1%}, more than "
                f"--max-failures {limit:.1%}){why}"
            )
    return None


def _short(error: str, width: int = 160) -> str:
    """Locust's error text on one line (our own words unwrapped), cut to ``width``."""
    line = " ".join(error.split())
    for wrap in ("CatchResponseError('", 'CatchResponseError("'):
        if line.startswith(wrap) and line.endswith(wrap[-1] + ")"):
            line = line[len(wrap) : -2]
    return line if len(line) <= width else line[: width - 1] + "…"
