"""``pollsim compare``: the model's prediction beside a live run of the same jobs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from loadtests.failures import MAX_FAILURES, share  # a module without numpy
from pollsim.failing import fail as _fail
from pollsim.loadtesting import MAX_SPEED, out_problem

EPILOG_COMPARE = """\
examples:
  pollsim compare
      the default scenario (two hours of jobs, the seeds' three clients) through the
      model, then live at speed 60 (about 2.5 wall minutes); prints predicted against
      measured per strategy and writes report.html with plots to out/compare
  pollsim compare scenarios/pointcloud.toml --speed 120 --out out/pc
      another scenario, twice as fast (the faster, the more a millisecond of real
      round trip weighs in simulated seconds)

exit status: 0 the run went as asked; 1 it did not, said in one line (the server or
Locust died, or polls failed beyond --max-failures), with what was measured written to
the folder (marked partial if cut short); 2 bad input
"""


def add_compare_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "scenario",
        nargs="?",
        type=Path,
        help="a scenario TOML file with [clients] (default: the embedded default scenario)",
    )
    p.add_argument("--speed", type=float, default=60, help="the live run's speed (default 60)")
    p.add_argument(
        "--start-in",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="wall seconds the swarm gets to start before the server's clock does (default 5)",
    )
    p.add_argument(
        "--max-failures",
        type=share,
        default=MAX_FAILURES,
        metavar="SHARE",
        help="the share of polls that may fail (faults the scenario injects aside) before "
        f"the run counts as failed, exit 1 (default {MAX_FAILURES:g})",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("out/compare"),
        metavar="DIR",
        help="where the report, the table and the runs' files go (default out/compare)",
    )


def cmd_compare(args: argparse.Namespace) -> int:
    from loadtests.compare import compare
    from loadtests.compare_report import format_table
    from sim import LimitError, ScenarioError, default_scenario, load_scenario

    try:
        scenario = load_scenario(args.scenario) if args.scenario else default_scenario()
    except ScenarioError as exc:
        return _fail(str(exc))
    if not 0 < args.speed <= MAX_SPEED:
        return _fail(f"--speed: found {args.speed}, expected a number > 0, at most {MAX_SPEED:,}")
    if not args.start_in >= 0:
        return _fail(f"--start-in: found {args.start_in}, expected a number of seconds >= 0")
    where = args.scenario or "the default scenario"
    if scenario.clients is None:
        return _fail(f"{where}: no [clients]: nothing to predict or to measure")
    if scenario.controls:
        return _fail(
            f"{where}: [[controls]] (pause, cancel) are not played by the mock server's "
            "background jobs; compare a scenario without them"
        )
    problem = out_problem(args.out)
    if problem:
        return _fail(problem)
    try:
        result = compare(
            scenario,
            str(args.scenario) if args.scenario else None,
            args.speed,
            args.start_in,
            args.out,
            args.max_failures,
        )
    except ScenarioError as exc:  # the model's side past the bounds of sim.limits
        return _fail(str(exc))
    except LimitError as exc:
        return _fail(f"{where}: {exc}")
    except RuntimeError as exc:
        return _fail(str(exc))
    print(
        f"pollsim compare: {scenario.name}, {result['jobs']:,} jobs over "
        f"{result['span_s']:,.0f} simulated s, live at speed {args.speed:g}"
    )
    print(format_table(result))
    if result["problem"]:  # one line: what went wrong, and where what was measured is
        partial = "partial results" if result["partial"] else "results"
        print(f"pollsim: {result['problem']}; {partial} in {args.out}", file=sys.stderr)
        return 1
    for warning in result["warnings"]:
        print(f"pollsim: warning: {warning}", file=sys.stderr)
    print(
        f"wrote report.html with its plots, compare.csv and compare.json to {args.out}",
        file=sys.stderr,
    )
    return 0
