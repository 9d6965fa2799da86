"""``pollsim loadtest``: a Locust swarm of strategy-driven pollers against the mock
server, in one command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pollsim.failing import fail as _fail

EPILOG_LOADTEST = """\
examples:
  pollsim loadtest scenarios/mock_qa.toml --strategy ordo-js --strategy generic-js \\
      --users 40 --duration 1m --job-duration 20s --out out/lt
      40 users, half of each strategy, for a minute of wall time at speed 60;
      writes Locust's CSV and HTML, the server's ground truth and a summary to out/lt
  pollsim loadtest --strategy 'full_jitter(fixed(6))' --ui
      the same with Locust's web UI on 127.0.0.1:8089
"""


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
    p.add_argument("--duration", default="1m", help="wall time of the swarm (default 1m)")
    p.add_argument("--speed", type=float, default=60, help="the server's speed (default 60)")
    p.add_argument("--dialect", default="ordo", choices=("ordo", "fiddler", "workflow", "generic"))
    p.add_argument("--template", default="", help="the jobs' template (default: the first)")
    p.add_argument("--job-duration", default="", help="every step's duration, e.g. 20s")
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
    p.add_argument("--out", type=Path, default=Path("out/loadtest"), metavar="DIR")
    p.set_defaults(duration_parser=duration)


def cmd_loadtest(args: argparse.Namespace) -> int:
    from loadtests.runner import Plan, run
    from sim.durations import parse_duration
    from sim.strategies import StrategyError, parse_strategy

    strategies = args.strategy or ["ordo-js"]
    for text in strategies:
        try:
            parse_strategy(text)
        except (StrategyError, ValueError) as exc:
            return _fail(f"--strategy: {exc}")
    try:
        seconds = parse_duration(args.duration)
    except ValueError as exc:
        return _fail(f"--duration {args.duration!r}: {exc}")
    if args.workers < 0:
        return _fail(f"--workers: found {args.workers}, expected 0 or more")
    if args.users < 1 or not args.spawn_rate > 0 or not args.speed > 0:
        return _fail("--users, --spawn-rate and --speed must be above 0")
    if args.scenario is not None and not args.scenario.is_file():
        return _fail(f"{args.scenario}: no such scenario file")
    plan = Plan(
        str(args.scenario) if args.scenario else None,
        strategies,
        users=args.users,
        spawn_rate=args.spawn_rate,
        duration=f"{max(1, round(seconds))}s",
        speed=args.speed,
        out=args.out,
        dialect=args.dialect,
        template=args.template,
        job_duration=args.job_duration,
        outcome=args.outcome,
        ui=args.ui,
        seed=args.seed,
        workers=args.workers,
    )
    try:
        summary = run(plan)
    except RuntimeError as exc:
        return _fail(str(exc))
    print(format_summary(summary))
    for warning in summary.get("warnings", []):
        print(f"pollsim: warning: {warning}", file=sys.stderr)
    print(
        f"wrote report.html with its plots, Locust's CSV and HTML, truth.json, jobs.csv and "
        f"summary.json to {args.out}",
        file=sys.stderr,
    )
    return 0


def format_summary(summary: dict) -> str:
    lines = [f"{'strategy':<40}{'jobs':>6}{'polls/job':>10}{'gave up':>8}{'lat p50':>9}{'p95':>8}"]
    for name, s in summary.items():
        if name in ("server", "warnings"):
            continue
        lat = s["detection_latency_s"]
        p50 = "-" if lat["p50"] is None else f"{lat['p50']:.2f}"
        p95 = "-" if lat["p95"] is None else f"{lat['p95']:.2f}"
        lines.append(
            f"{name[:39]:<40}{s['jobs']:>6}{s['polls_per_job']:>10.1f}{s['gave_up']:>8}"
            f"{p50:>9}{p95:>8}"
        )
    lines.append(f"server: {summary['server']['requests']:,} requests; latency in simulated s")
    return "\n".join(lines)
