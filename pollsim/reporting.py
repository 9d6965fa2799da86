"""``pollsim report``: a running mock server's ground truth, fetched and printed per
client (or written whole as JSON, or its rows as CSV)."""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from pollsim.assertions import AssertionSyntax, add_assert_arguments, parse_all
from pollsim.credentials import ENV_ADMIN, CredentialError, admin_token
from pollsim.failing import fail as _fail
from pollsim.tables import Column, render

EPILOG_REPORT = """\
examples:
  pollsim report --server http://127.0.0.1:8080 --admin-token adm1n
  pollsim report --server http://127.0.0.1:8080 --admin-token adm1n --csv truth.csv
  pollsim report --server http://127.0.0.1:8080 --admin-token adm1n --until 1800
      the clients were stopped at simulated t=1800 s: a job they were still watching
      then is unfinished, not given up
  pollsim report --server http://127.0.0.1:8080 --admin-token adm1n --client my-client \\
      --assert 'retry_after_violations == 0' --assert 'p95(detection_latency) < 10s' \\
      --junit pollsim.xml
      gate a build: a PASS/FAIL line per check with the measured value, exit 1 when
      one fails (2 for bad input), the checks as JUnit XML for the CI system

exit status: 0 ok (every --assert held), 1 an --assert failed, 2 bad input or no report.
"""

TIMEOUT = 300  #: seconds to wait for the report (a million pairs take about a minute)


def add_report_arguments(p: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--server", metavar="URL", help="the mock server's address")
    source.add_argument(
        "--truth",
        type=Path,
        metavar="FILE",
        help="read the ground truth from a file written by pollsim serve --truth-out "
        "instead of asking a server",
    )
    p.add_argument(
        "--admin-token",
        metavar="TOKEN",
        help="the server's admin token (shows in ps; --admin-token-file or "
        "POLLSIM_ADMIN_TOKEN keep it out of sight)",
    )
    p.add_argument("--admin-token-file", type=Path, metavar="FILE", help="a file holding it")
    p.add_argument("--csv", type=Path, metavar="FILE", help="write the per-job rows as CSV")
    p.add_argument("--json", action="store_true", help="print the whole report as JSON")
    p.add_argument(
        "--until",
        type=float,
        metavar="SECONDS",
        help="simulated time at which the clients were stopped (the 'now' of /healthz "
        "then): jobs still watched at that time count as unfinished, not given up "
        "(default: jobs whose client never moved on count as unfinished)",
    )
    p.add_argument(
        "--final",
        action="store_true",
        help="the clients under test have stopped (in CI: after your client returned): "
        "a job a client did not see end counts as given up, or errored, never unfinished; "
        "without it (or --until), a gave_up or errored --assert fails while jobs are "
        "unfinished",
    )
    add_assert_arguments(p)


def cmd_report(args: argparse.Namespace) -> int:
    if args.until is not None and not 0 <= args.until < math.inf:
        return _fail(f"--until: found {args.until}, expected simulated seconds >= 0")
    try:
        checks = parse_all(args)
    except AssertionSyntax as exc:
        return _fail(str(exc))
    if args.truth is not None:
        return _from_file(args, checks)
    problem = _url_problem(args.server)
    if problem:
        return _fail(f"--server {args.server!r}: {problem}")
    from pollsim.report_gate import server_filter

    base = args.server.rstrip("/")
    query = server_filter(args.clients)
    if args.until is not None:
        query.append(("until", repr(args.until)))
    if args.final:
        query.append(("final", "true"))
    url = base + "/_admin/report" + ("?" + urllib.parse.urlencode(query) if query else "")
    try:
        token = admin_token(args.admin_token, args.admin_token_file, os.environ)
    except CredentialError as exc:
        return _fail(str(exc))
    if token is None:
        return _fail(f"no admin token: give --admin-token, --admin-token-file or {ENV_ADMIN}")
    report = _fetch(url, token)
    if isinstance(report, int):
        return report
    return _show_and_gate(report, checks, args, base, _asker(token))


def _show_and_gate(report: dict, checks: list, args: argparse.Namespace, base: str, ask) -> int:
    """The report narrowed to --client, printed (table or --json), --csv written, and
    the --assert checks run over it."""
    from pollsim.report_gate import gate_report, known_clients, narrowed

    report = narrowed(report, args.clients)
    if args.clients and (code := known_clients(report, args.clients, base, ask)):
        return code  # before an empty table
    out = sys.stderr if args.junit == "-" else sys.stdout  # --junit -: stdout is the XML's
    print(json.dumps(report, indent=2) if args.json else format_report(report), file=out)
    if args.csv is not None and (code := _write_csv(args.csv, report["jobs"])):
        return code
    if not checks and not args.clients and args.junit is None:
        return 0
    return gate_report(checks, report, args, base, ask)


def _from_file(args: argparse.Namespace, checks: list) -> int:
    """``--truth FILE``: the report a ``pollsim serve --truth-out`` wrote, gated as one
    fetched from a server."""
    path = args.truth
    if args.final or args.until is not None:
        return _fail(f"--truth {path}: --final and --until ask a server; a file is as written")
    if any(c.metric == "requests_per_second" for c in checks):
        return _fail(
            f"--truth {path}: requests_per_second needs the server's request journal; "
            "ask the server (--server)"
        )
    from pollsim.report_file import load_truth

    report = load_truth(path)
    if isinstance(report, int):
        return report
    return _show_and_gate(report, checks, args, str(path), lambda _url: report)


def _url_problem(url: str) -> str | None:
    """What is wrong with the server's address, if anything."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is no number)
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "expected http://HOST:PORT, as pollsim serve prints it"
    return None


def _fetch(url: str, token: str) -> dict | int:
    """The report, or the exit status after saying in one line why there is none."""
    report = _get_json(url, token)
    if isinstance(report, int):
        return report
    if not isinstance(report, dict) or not {"jobs", "clients", "totals"} <= report.keys():
        return _fail(f"{url}: the answer is not a ground truth report")
    return report


def _asker(token: str):
    """``_get_json`` with the token: what pollsim.report_gate asks the server with."""
    return lambda url: _get_json(url, token)


def _get_json(url: str, token: str) -> object:
    """The JSON answer, or the exit status after saying in one line why there is none."""
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as exc:
        return _fail(f"{url}: HTTP {exc.code}: {_message(exc)}")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return _fail(f"{url}: cannot reach the server: {reason}")
    except ValueError:
        return _fail(f"{url}: the answer is not JSON")


def _write_csv(path: Path, jobs: list[dict]) -> int:
    # the states shown over time: a JSON list in one cell
    rows = [{**r, "shown": json.dumps(r["shown"])} if "shown" in r else r for r in jobs]
    try:
        with path.open("w", newline="", encoding="utf-8", errors="replace") as f:
            fields = list(rows[0]) if rows else ["client", "job_id"]
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    except OSError as exc:
        return _fail(f"{path}: cannot write: {exc.strerror}")
    print(f"wrote {len(rows)} rows to {path}", file=sys.stderr)
    return 0


def _message(exc: urllib.error.HTTPError) -> str:
    try:
        return json.loads(exc.read())["message"]
    except (ValueError, KeyError, TypeError):
        return exc.reason


def format_report(report: dict) -> str:
    """Per client: jobs, polls, wasted polls, detection latency, give-ups (and jobs whose
    client stopped on an error answer, and jobs cut off by the run's end, where there
    are any); then totals, and what else to know: the overflow entry, the server's own
    errors, the faults injected."""
    totals = report["totals"]
    unfinished = bool(totals.get("unfinished"))
    errored = bool(totals.get("errored"))

    def lat(stats: dict | None, key: str) -> str:
        return "-" if not stats else f"{stats[key]:.2f}"

    stopped = "jobs not seen ended" if errored or unfinished else ""  # over one: too wide
    columns = [
        Column("client", "<"),
        Column("jobs"),
        *(Column(t, group="polls") for t in ("all", "per job", "wasted", "after end seen")),
        Column("Retry-After violations"),
        Column("gave up", group=stopped),
        *([Column("errored", group=stopped)] if errored else []),
        *([Column("unfinished", group=stopped)] if unfinished else []),
        *(Column(k, group="detection latency (s)") for k in ("mean", "p95", "max")),
    ]
    rows = []
    for row in [*report["clients"], {**totals, "client": "(all)"}]:
        per = row["polls_per_job"]
        d = row["detection_latency_s"]
        rows.append(
            [
                _printable(row["client"])[:40],
                str(row["jobs"]),
                str(row["polls"]),
                "-" if per is None else f"{per:.1f}",
                str(row["wasted_polls"]),
                str(row["requests_after_seen"]),
                str(row["retry_after_violations"]),
                str(row["gave_up"]),
                *([str(row.get("errored", 0))] if errored else []),
                *([str(row.get("unfinished", 0))] if unfinished else []),
                lat(d, "mean"),
                lat(d, "p95"),
                lat(d, "max"),
            ]
        )
    return "\n".join([_heading(report), *render(columns, rows, indent=""), *_notes(totals)])


def _printable(name: str) -> str:
    """A client id as it may go to a terminal: no control characters (an id is whatever
    a client sent in X-Client-Id)."""
    return "".join(c if c.isprintable() else "?" for c in name)


def _heading(report: dict) -> str:
    until = report["totals"].get("until")
    stopped = "" if until is None else f", clients stopped at t={until:.1f}s"
    return (
        f"ground truth at simulated t={report['now']:.1f}s (speed {report['speed']:g}{stopped}); "
        "latency in simulated seconds"
    )


def _notes(totals: dict) -> list[str]:
    """The lines under the table, each only where there is something to say."""
    lines = []
    if totals.get("errored"):
        lines.append(
            f"errored: {totals['errored']} (a client stopped right after an error answer "
            "for the job: not a give-up)"
        )
    if totals.get("unfinished"):
        lines.append(
            f"unfinished: {totals['unfinished']} (a client still watching a job when the "
            "run ended: not a give-up)"
        )
    overflow = totals.get("overflow")
    if overflow:
        lines.append(
            f"{overflow['client']}: about {overflow['ids']:,} client ids past the "
            f"{overflow['max_clients']:,} tracked one by one, counted together"
        )
    if totals.get("server_errors"):
        lines.append(
            f"server errors: {totals['server_errors']} answers were the mock server's own "
            "500s (a bug of the mock server, not an injected fault)"
        )
    faults = totals.get("injected_faults") or {}
    if faults:
        lines.append("injected faults: " + ", ".join(f"{k} {v}" for k, v in faults.items()))
    return lines
