"""``pollsim report --client/--assert``: a report narrowed to some clients, and what the
assertions need beyond it (the request journal, for requests per second).

The server filters ``?client=`` itself (repeated for several); the rows are filtered
here too, so that a report from a server that ignores the filter says the same, with its
totals computed over the rows kept.
"""

from __future__ import annotations

import argparse
import sys
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pollsim.assertion_measures import Result
from pollsim.assertions import AssertionSyntax, Measures, check_all, gate, suggest
from pollsim.failing import fail as _fail

#: asks the server: a URL -> its JSON answer, or the exit status after one line on stderr
Ask = Callable[[str], object]

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


def gate_report(checks: list, report: dict, args: argparse.Namespace, base: str, ask: Ask) -> int:
    """The assertions over the report (and over the request journal, when one asks for
    requests per second); with --json, their lines go to stderr, the JSON alone to stdout."""
    requests = None
    if any(c.metric == "requests_per_second" for c in checks):
        requests = _journal(base, ask, args.clients)
        if isinstance(requests, int):
            return requests
    if not checks and args.junit is None:
        return 0  # (with --junit: an empty suite, which a CI system expects to find)
    measures = Measures.from_report(report, requests=requests)
    out = sys.stderr if args.json else sys.stdout
    unfinished = undecided_jobs(report)
    if not unfinished:
        return gate(checks, measures, args, out=out)
    if any(c.metric not in UNDECIDED_BY_UNFINISHED for c in checks):
        print(
            f"pollsim: note: {unfinished} jobs unfinished: not in the latency figures",
            file=sys.stderr,
        )
    return gate_undecided(checks, measures, args, out, unfinished)


#: metrics a job still unfinished may yet change: a client that stopped without a word
#: reads as unfinished, not gave_up, in a report that is not final
UNDECIDED_BY_UNFINISHED = ("gave_up", "errored")


def undecided_jobs(report: dict) -> int:
    """How many jobs the report cannot say were given up or not: its unfinished jobs when
    it is neither final (``?final=true``) nor taken at a stop time (``?until=``); else 0."""
    totals = report.get("totals") or {}
    if totals.get("final") or totals.get("until") is not None:
        return 0
    return int(totals.get("unfinished") or 0)


@dataclass(frozen=True)
class Undecided(Result):
    """A check a report that is not final cannot answer: it fails, saying why."""

    unfinished: int = 0

    @property
    def line(self) -> str:
        return (
            f"FAIL {self.check.name}: cannot tell: {self.unfinished} jobs unfinished "
            "(a client still polling, or one that stopped without a word); once your "
            "clients have stopped, ask with --final"
        )


def gate_undecided(
    checks: list, measures: Measures, args: argparse.Namespace, out, unfinished: int
) -> int:
    """:func:`pollsim.assertions.gate`, with each gave_up/errored check failed as
    undecided: its PASS/FAIL lines, --junit, and exit 1."""
    if getattr(args, "junit", None) == "-" and out is sys.stdout:
        out = sys.stderr
    try:
        results = check_all(checks, measures, getattr(args, "clients", None))
    except AssertionSyntax as exc:
        return _fail(str(exc))
    results = [
        Undecided(r.check, r.group, r.measured, False, r.basis, unfinished)
        if r.check.metric in UNDECIDED_BY_UNFINISHED
        else r
        for r in results
    ]
    for r in results:
        print(r.line, file=out)
    if args.junit is not None:
        from pollsim.junit import write_junit

        try:
            write_junit(args.junit, results, f"pollsim.{measures.source}")
        except OSError as exc:
            why = exc.strerror or str(exc)
            return _fail(f"--junit {args.junit!r}: cannot write after the run: {why}")
    return 1 if any(not r.passed for r in results) else 0


def known_clients(report: dict, clients: list[str], base: str, ask: Ask) -> int:
    """0 when every --client has rows in the report; else exit 2, with the server's
    clients and the nearest name."""
    measures = Measures.from_report(report)
    try:
        check_all([], measures, clients)
    except AssertionSyntax as exc:
        return _fail(str(exc) + _nearest_client(clients, measures, base, ask))
    return 0


def _nearest_client(clients: list[str], measures: Measures, base: str, ask: Ask) -> str:
    """For a --client the filtered report has no rows of: the server's clients, from
    the whole report (asked again, on this error's path alone), and the nearest name."""
    whole = ask(base + "/_admin/report")
    if not isinstance(whole, dict) or not isinstance(whole.get("clients"), list):
        return ""
    known = [str(r.get("client")) for r in whole["clients"] if isinstance(r, dict)]
    missing = next(c for c in clients if c != "*" and c not in measures.groups())
    listed = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
    return f"; the server's clients: {listed or 'none yet'}{suggest(missing, known)}"


def _journal(base: str, ask: Ask, clients: list[str]) -> list[dict] | int:
    """The server's request journal (``GET /_admin/requests``) for requests per second:
    its records, or the exit status after saying why there are none to trust."""
    query = [("limit", str(JOURNAL_LIMIT)), *server_filter(clients)]
    url = f"{base}/_admin/requests?{urllib.parse.urlencode(query)}"
    answer = ask(url)
    if isinstance(answer, int):
        return answer
    problem = journal_problem(answer)
    if problem:
        return _fail(f"{url}: requests_per_second: {problem}")
    return answer["requests"]
