"""``pollsim sweep`` and ``pollsim recommend``: a grid of strategies over one scenario."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pollsim.failing import fail as _fail

#: local processes a sweep may start (each one a Python with numpy and pandas: about
#: 150 MB; a fork start method starts them all at once)
MAX_WORKERS = 64

EPILOG_SWEEP = """\
examples:
  pollsim sweep --strategy 'fixed({interval})' --grid interval=1,2,5,10
      four runs of the default scenario, one interval each, on local processes
  pollsim sweep scenarios/pointcloud.toml \\
      --strategy 'fixed({t})' --strategy 'full_jitter(exponential(1, 1.5, max={t}))' \\
      --grid t=5,10,20,40 --grid server.workers=unlimited,8 --out out/sweep
      16 runs, two strategies each; writes sweep.csv, sweep.parquet and pareto.png
      to out/sweep

Grid parameters fill {placeholders} in strategy templates, or set scenario keys given
with dots (seed, server.workers, arrivals.rate, clients.rtt ...).
"""

EPILOG_RECOMMEND = """\
examples:
  pollsim recommend --strategy 'fixed({t})' --strategy 'exponential(1, 2, max={t})' \\
      --grid t=2,5,10,20 --slo-p95 10s
      the cheapest of eight candidates whose p95 detection latency is at most 10 s
  pollsim recommend scenarios/publishing_retry.toml --strategy fiddler-py \\
      --strategy 'per_status(fixed({t}), retry_wait=fixed(60))' --grid t=5,10,30 \\
      --slo-p95 1m --max-give-ups 0.01

exit status: 0 a recommendation, 1 nothing meets the SLO (the closest miss is named),
2 bad input.
"""


def add_grid_arguments(p: argparse.ArgumentParser, duration) -> None:
    p.add_argument(
        "scenario",
        nargs="?",
        type=Path,
        help="a scenario TOML file (default: the embedded default scenario)",
    )
    p.add_argument(
        "--strategy",
        action="append",
        default=[],
        metavar="TEMPLATE",
        help="a strategy, with {placeholders} the grid fills (repeatable); "
        "default: the scenario's [clients]",
    )
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=V1,V2,...",
        help="values of one parameter (repeatable); every combination runs",
    )
    p.add_argument(
        "--workers", type=int, metavar="N", help="local processes to run on (default: one per core)"
    )
    p.add_argument(
        "--method",
        choices=("auto", "simpy", "direct", "fast"),
        default="auto",
        help="how clients are simulated (default auto: see pollsim simulate --help)",
    )
    p.add_argument("--horizon", type=duration, help="override the scenario's horizon")
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="write sweep.csv, sweep.parquet and pareto.png"
    )
    p.add_argument("--json", action="store_true", help="print the table (or choice) as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _table(args) -> tuple[object, int | None]:
    from sim import ScenarioError
    from sim.sweep import SweepError, load_data, parse_grid, sweep

    try:
        data, source = load_data(args.scenario)
        if args.horizon is not None:
            data["horizon"] = args.horizon
        grid = parse_grid(args.grid)
        templates = list(args.strategy)
        if not templates or not args.grid:
            from sim.scenario import read_scenario

            base = Path(source).parent if Path(source).is_file() else None
            defaults = read_scenario(dict(data), source, base)
            templates = templates or list(defaults.sweep_strategies)
            grid = {**defaults.sweep_grid, **grid}
        if args.workers is not None and not 1 <= args.workers <= MAX_WORKERS:
            raise SweepError(f"--workers: found {args.workers}, expected 1 to {MAX_WORKERS}")
        table = sweep(
            data,
            source,
            templates,
            grid,
            workers=args.workers,
            method=args.method,
            progress=None if not args.quiet else False,
        )
    except (ScenarioError, SweepError) as exc:
        return None, _fail(str(exc))
    return table, None


def _write(table, out: Path | None, slo: float | None = None) -> None:
    if out is None:
        return
    from sim.plots import pareto_plot

    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "sweep.csv", index=False)
    table.to_parquet(out / "sweep.parquet", index=False)
    pareto_plot(table, slo).savefig(out / "pareto.png", dpi=110)
    print(f"wrote sweep.csv, sweep.parquet, pareto.png to {out}", file=sys.stderr)


def cmd_sweep(args: argparse.Namespace) -> int:
    table, failed = _table(args)
    if failed is not None:
        return failed
    if args.json:
        print(table.to_json(orient="records", indent=2))
    else:
        print(_format(table))
    _write(table, args.out)
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    from sim.recommend import NoCandidate, recommend

    if not 0 <= args.max_give_ups <= 1:
        return _fail(f"--max-give-ups: found {args.max_give_ups}, expected a share in [0, 1]")
    table, failed = _table(args)
    if failed is not None:
        return failed
    _write(table, args.out, args.slo_p95)
    try:
        choice = recommend(table, args.slo_p95, args.max_give_ups)
    except NoCandidate as exc:  # an answer, not bad input: exit 1, as a failed --assert
        if args.json:
            print(json.dumps({"best": None, "runner_up": None, "why_not": str(exc)}, indent=2))
        print(f"pollsim: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(
            json.dumps(
                {
                    "best": choice.best.to_dict(),
                    "runner_up": None if choice.runner_up is None else choice.runner_up.to_dict(),
                    "why_not": choice.why_not,
                },
                indent=2,
                default=str,
            )
        )
    else:
        print(choice.describe(args.slo_p95))
    return 0


def _format(table) -> str:
    """The sweep as a table whose columns take their contents' width: a column per grid
    parameter (``t``, ``server.workers``), the strategy, load, detection latency and the
    shares of jobs whose client stopped short."""
    from pollsim.tables import Column, render
    from sim.durations import format_duration
    from sim.sweep import METRICS

    params = [c for c in table.columns if c not in ("strategy", "template", *METRICS)]
    columns = [
        *(Column(p) for p in params),
        Column("strategy", "<"),
        Column("mean", group="load (req/s)"),
        Column("max", group="load (req/s)"),
        Column("p50", group="detection latency"),
        Column("p95", group="detection latency"),
        Column("gave up", group="jobs not seen ended"),
        Column("errored", group="jobs not seen ended"),
    ]
    rows = [
        [
            *(str(r[p]) for p in params),
            str(r["strategy"]),
            f"{r['load_mean']:.2f}",
            f"{r['load_max']:.0f}",
            _d(r["latency_p50"], format_duration),
            _d(r["latency_p95"], format_duration),
            f"{r['gave_up_share']:.1%}",
            f"{r.get('errored_share', 0.0):.1%}",
        ]
        for _, r in table.iterrows()
    ]
    return "\n".join(render(columns, rows, indent=""))


def _d(x, fmt) -> str:
    return "-" if x != x else fmt(x)  # nan
