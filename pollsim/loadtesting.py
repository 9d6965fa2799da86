"""``pollsim loadtest``: a Locust swarm of strategy-driven pollers against the mock
server, in one command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from loadtests.failures import MAX_FAILURES, share  # a module without numpy
from pollsim.failing import fail as _fail

EPILOG_LOADTEST = """\
examples:
  pollsim loadtest scenarios/mock_qa.toml --strategy ordo-js --strategy generic-js \\
      --users 40 --duration 1m --job-duration 20s --out out/lt
      40 users, half of each strategy, for a minute of wall time at speed 60;
      writes Locust's CSV and HTML, the server's ground truth and a summary to out/lt
  pollsim loadtest --strategy 'full_jitter(fixed(6))' --ui
      the same with Locust's web UI on a free loopback port, its address printed
  pollsim loadtest --strategy ordo-js --strategy generic-js --duration 30s \\
      --assert 'p95(detection_latency) < 10s' --assert 'retry_after_violations == 0' \\
      --client generic-js --junit lt.xml
      gates a build on generic-js's figures (the server's ground truth): exit 1 if one
      fails, each check a PASS/FAIL line with its measured value, and JUnit XML

While the swarm runs, a line on stderr says where it stands (time, users, requests/s,
jobs watched and seen ended, failed requests): redrawn every second on a terminal, every
10 s at most elsewhere, and a last line when the swarm ends.

exit status: 0 the run went as asked; 1 it did not, said in one line (the server or
Locust died, the run was interrupted, or submissions or polls failed beyond
--max-failures), with what was measured written to the folder (marked partial if cut
short), or an --assert failed; 2 bad input
"""


class DialectNames:
    """The dialects' names, as argparse's ``choices``, read from ``sim.dialects`` only
    when asked (a ``--dialect`` given, the help): importing ``sim`` takes most of a
    second, which building the parser should not cost."""

    def __contains__(self, name: object) -> bool:
        from sim.dialects import DIALECTS

        return name in DIALECTS

    def __iter__(self):
        from sim.dialects import DIALECTS

        return iter(DIALECTS)


def add_loadtest_arguments(p: argparse.ArgumentParser, duration) -> None:
    p.add_argument("scenario", nargs="?", type=Path, help="a scenario TOML file")
    p.add_argument(
        "--strategy",
        action="append",
        default=[],
        metavar="TEXT",
        help="a strategy (repeatable: a user class each, equal weights; default ordo-js)",
    )
    p.add_argument("--users", type=int, default=20, help="concurrent users (default 20)")
    p.add_argument("--spawn-rate", type=float, default=10, help="users started per second")
    p.add_argument(
        "--duration",
        default="1m",
        help="wall time of the swarm: seconds, or with a unit, e.g. 40, 90s, 2m (default 1m)",
    )
    p.add_argument("--speed", type=float, default=60, help="the server's speed (default 60)")
    p.add_argument(
        "--dialect",
        choices=DialectNames(),
        metavar="NAME",  # else argparse lists the choices as the argument is added
        help="the API the users speak: %(choices)s (default: ordo)",
    )
    p.add_argument("--template", default="", help="the jobs' template (default: the first)")
    p.add_argument(
        "--job-duration", default="", help="every step's duration: seconds, or e.g. 20s, 2m"
    )
    p.add_argument("--outcome", default="", help="a forced outcome, e.g. succeed")
    p.add_argument("--seed", type=int, default=1, help="the users' generators' seed")
    p.add_argument("--ui", action="store_true", help="Locust's web UI instead of headless")
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        help="Locust worker processes under a master (Locust's distributed mode; default 0: "
        "one process)",
    )
    p.add_argument(
        "--max-failures",
        type=share,
        default=MAX_FAILURES,
        metavar="SHARE",
        help="the share of submissions, or of polls, that may fail (faults the scenario "
        f"injects aside) before the run counts as failed, exit 1 (default {MAX_FAILURES:g})",
    )
    p.add_argument("--out", type=Path, default=Path("out/loadtest"), metavar="DIR")
    from pollsim.assertions import add_assert_arguments

    add_assert_arguments(p, noun="strategy")
    p.set_defaults(duration_parser=duration)


def cmd_loadtest(args: argparse.Namespace) -> int:
    from loadtests.progress import Display
    from loadtests.runner import PROGRESS, Plan, run, run_seconds
    from pollsim.assertions import AssertionSyntax, parse_all
    from sim.dialects import ORDO
    from sim.strategies import StrategyError, parse_strategy

    strategies = args.strategy or ["ordo-js"]
    labels: dict[str, str] = {}  # a label: the text that gave it
    for text in strategies:
        try:
            label = parse_strategy(text).label
        except (StrategyError, ValueError) as exc:
            return _fail(f"--strategy: {exc}")
        if label in labels:
            return _fail(
                f"--strategy {text!r}: the same strategy as {labels[label]!r} ({label}); "
                "expected each strategy once (--users sets how many users run it)"
            )
        labels[label] = text
    try:  # before the swarm: a bad assertion costs nothing
        checks = parse_all(args)
        _check_clients(args.clients, labels)
    except AssertionSyntax as exc:
        return _fail(str(exc))
    try:
        seconds = _seconds("--duration", args.duration, low=1)
        job_seconds = _seconds("--job-duration", args.job_duration or "0", low=0)
    except ValueError as exc:
        return _fail(str(exc))
    for flag, value, low, high in (
        ("--workers", args.workers, 0, MAX_WORKERS),
        ("--users", args.users, 1, MAX_USERS),
        ("--spawn-rate", args.spawn_rate, 1e-3, MAX_SPAWN_RATE),
        ("--seed", args.seed, 0, 2**63 - 1),
    ):
        if not low <= value <= high:  # NaN is neither
            return _fail(f"{flag}: found {value}, expected {_num(low)} to {_num(high)}")
    if not 0 < args.speed <= MAX_SPEED:
        return _fail(f"--speed: found {args.speed}, expected a number > 0, at most {MAX_SPEED:,}")
    if args.scenario is not None and not args.scenario.is_file():
        return _fail(f"{args.scenario}: no such scenario file")
    problem = out_problem(args.out)
    if problem:
        return _fail(problem)
    plan = Plan(
        str(args.scenario) if args.scenario else None,
        strategies,
        users=args.users,
        spawn_rate=args.spawn_rate,
        duration=f"{max(1, round(seconds))}s",
        speed=args.speed,
        out=args.out,
        dialect=args.dialect or ORDO.name,
        template=args.template,
        job_duration=f"{job_seconds:g}s" if args.job_duration else "",
        outcome=args.outcome,
        ui=args.ui,
        seed=args.seed,
        workers=args.workers,
        max_failures=args.max_failures,
        journal=any(c.metric == "requests_per_second" for c in checks),
    )
    display = Display(args.out.resolve() / PROGRESS, run_seconds(plan))
    try:
        summary = run(plan, display)
    except RuntimeError as exc:
        return _fail(str(exc))
    print(format_summary(summary))
    if summary["problem"]:  # one line: what went wrong, and where what was measured is
        partial = "partial results" if summary["partial"] else "results"
        print(f"pollsim: {summary['problem']}; {partial} in {args.out}", file=sys.stderr)
        return 1
    for warning in summary.get("warnings", []):
        print(f"pollsim: warning: {warning}", file=sys.stderr)
    print(
        f"wrote report.html with its plots, Locust's CSV and HTML, truth.json, jobs.csv and "
        f"summary.json to {args.out}",
        file=sys.stderr,
    )
    if not checks and not args.junit:
        return 0
    from pollsim.assertions import gate
    from pollsim.loadtest_measures import measures

    try:
        found = measures(args.out)
    except AssertionSyntax as exc:
        return _fail(str(exc))
    return gate(checks, found, args)


def _check_clients(clients: list[str], labels: dict[str, str]) -> None:
    """Each ``--client`` names a strategy of the run (as given, or as it reads), or is
    ``*``; AssertionSyntax in one line otherwise. Names given as written are taken as
    their labels in place (``args.clients``)."""
    from pollsim.assertion_grammar import suggest
    from pollsim.assertions import AssertionSyntax
    from sim.strategies import StrategyError, parse_strategy

    by_text = {text: label for label, text in labels.items()}
    for i, name in enumerate(clients):
        if name == "*" or name in labels:
            continue
        if name in by_text:
            clients[i] = by_text[name]
            continue
        try:
            label = parse_strategy(name).label
        except (StrategyError, ValueError):  # not a strategy at all: said below
            label = None
        if label in labels:
            clients[i] = label
            continue
        raise AssertionSyntax(
            f"--client {name!r}: not a strategy of this run (its strategies: "
            f"{', '.join(labels)}){suggest(name, list(labels))}"
        )


MAX_DURATION = 7 * 86400  #: seconds: a load test or a job longer than a week is a typo
MAX_WORKERS = 64  #: Locust worker processes: each is a Python process of its own
MAX_USERS = 100_000  #: users of one swarm (each a greenlet and a connection)
MAX_SPAWN_RATE = 10_000  #: users started per second
MAX_SPEED = 1_000_000  #: simulated seconds a wall second (the server broke at 1e308)


def _seconds(flag: str, text: str, low: float) -> float:
    """Seconds of a duration flag, a plain number being seconds as the messages say
    (``40`` is 40 s); ValueError with one line naming the flag otherwise."""
    from sim.durations import parse_duration

    try:
        value = float(text)
    except ValueError:
        value = text
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise ValueError(f"{flag} {text!r}: {exc}") from None
    if not low <= seconds <= MAX_DURATION:
        raise ValueError(f"{flag} {text!r}: expected {low:g} s to 7 days")
    return seconds


def format_summary(summary: dict) -> str:
    """The summary per strategy as a table (columns as wide as their contents), and the
    server's line."""
    from loadtests.summary import strategies
    from pollsim.tables import Column, render

    columns = [
        Column("strategy", "<"),
        Column("jobs"),
        Column("polls per job"),
        Column("gave up"),
        Column("errored"),
        Column("unfinished"),
        Column("p50 (s)", group="detection latency"),
        Column("p95 (s)", group="detection latency"),
    ]
    rows = []
    for name, s in strategies(summary):
        lat = s["detection_latency_s"]
        rows.append(
            [
                name,
                f"{s['jobs']:,}",
                _cell(s["polls_per_job"], ".1f"),
                f"{s['gave_up']:,}",
                f"{s.get('errored', 0):,}",
                _cell(s["unfinished"], ",d"),
                _cell(lat["p50"], ".2f"),
                _cell(lat["p95"], ".2f"),
            ]
        )
    lines = render(columns, rows, indent="")
    server = summary["server"]
    if server["requests"] is None:
        lines.append("server: gave no ground truth; latency in simulated s")
    else:
        lines.append(f"server: {server['requests']:,} requests; latency in simulated s")
    return "\n".join(lines)


def out_problem(out: Path) -> str | None:
    """Why ``--out`` cannot be the run's folder (made here if need be), in one line."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".pollsim-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"--out {out}: cannot write a folder there: {exc.strerror or exc}"
    return None


def _num(x: float) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:g}"


def _cell(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)
