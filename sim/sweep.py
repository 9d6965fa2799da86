"""Sweeps: run a scenario for every combination of a grid of parameters, in parallel on
any ``concurrent.futures`` executor, into one DataFrame with a row per combination and
strategy.

Grid parameters are placeholders in strategy templates (``fixed({interval})`` with
``interval=1,2,5``) or dotted scenario keys (``server.workers=4,8``, ``seed=1,2,3``).

>>> grid = parse_grid(["interval=2,5", "server.workers=unlimited,4"])
>>> grid
{'interval': [2, 5], 'server.workers': ['unlimited', 4]}
>>> len(combinations(grid))
4
"""

from __future__ import annotations

import copy
import itertools
import math
import string
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from pathlib import Path

import pandas as pd

from sim import limits
from sim._reader import ScenarioError
from sim.limits import LimitError
from sim.polling import MethodError
from sim.scenario import read_scenario
from sim.sizing import check_size
from sim.strategies import StrategyError, parse_strategy

#: the metric columns of a sweep table, per strategy and combination; ``gave_up_share`` and
#: ``errored_share`` are the jobs whose client gave up (its stop) and stopped on an error
#: answer (``on_error='stop'``), each over the strategy's jobs, counted apart
METRICS = [
    "jobs",
    "load_mean",
    "load_p99",
    "load_max",
    "latency_mean",
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "polls_per_job",
    "gave_up_share",
    "errored_share",
    "false_give_ups",
    "retry_after_violations",
]


class SweepError(ValueError):
    """A grid or a strategy template that cannot be swept."""


def _value(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip()


def parse_grid(texts: Sequence[str]) -> dict[str, list]:
    """``["interval=1,2,5", ...]`` -> ``{"interval": [1, 2, 5], ...}``."""
    grid: dict[str, list] = {}
    for text in texts:
        name, sep, values = text.partition("=")
        name = name.strip()
        items = [v for v in values.split(",") if v.strip()]
        if not sep or not name or not items:
            raise SweepError(f"grid {text!r}: expected NAME=VALUE,VALUE,... e.g. interval=1,2,5")
        if name in grid:
            raise SweepError(f"grid {text!r}: {name} is given twice")
        grid[name] = [_value(v) for v in items]
    return grid


def combinations(grid: dict[str, list]) -> list[dict]:
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]


def placeholders(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def check(data: dict, source: str, templates: Sequence[str], grid: dict[str, list]) -> None:
    """Refuse, before anything runs, a grid parameter that nothing uses, a placeholder the
    grid does not fill, and any combination that does not make a valid scenario."""
    used = set().union(*(placeholders(t) for t in templates)) if templates else set()
    for name in grid:
        if name not in used and "." not in name and name not in _TOP_KEYS:
            raise SweepError(
                f"grid parameter {name!r} is neither a placeholder of a strategy "
                f"({', '.join(sorted(used)) or 'none'}) nor a scenario key (e.g. seed, "
                "server.workers, arrivals.rate)"
            )
    for t in templates:
        missing = placeholders(t) - set(grid)
        if missing:
            raise SweepError(f"strategy {t!r}: no grid values for {', '.join(sorted(missing))}")
    runs = math.prod(len(v) for v in grid.values())
    if runs > limits.MAX_RUNS:
        raise SweepError(f"the grid makes {runs:,} runs; at most {limits.MAX_RUNS:,} a sweep")
    for combo in combinations(grid):
        build(data, source, templates, combo)


_TOP_KEYS = {"seed", "horizon", "drain", "dialect", "cancel_delay"}


def build(data: dict, source: str, templates: Sequence[str], combo: dict):
    """The scenario of one grid point: scenario keys set, strategy templates filled."""
    d = copy.deepcopy(data)
    for name, value in combo.items():
        if name in _TOP_KEYS or "." in name:
            *tables, key = name.split(".")
            node = d
            for t in tables:
                node = node.setdefault(t, {})
                if not isinstance(node, dict):
                    raise SweepError(f"grid parameter {name!r}: {t} is not a table")
            node[key] = value
    if templates:
        texts = [t.format(**combo) for t in templates]
        for text in texts:
            try:
                parse_strategy(text)
            except StrategyError as exc:
                raise SweepError(f"at {_point(combo)}: {exc}") from None
        clients = dict(d.get("clients", {}))
        clients.pop("strategy", None)
        clients["strategies"] = [{"strategy": t, "weight": 1} for t in texts]
        d["clients"] = clients
    base = Path(source).parent if Path(source).is_file() else None
    try:
        scenario = read_scenario(d, source, base)
        check_size(scenario)
    except ScenarioError as exc:
        raise SweepError(f"at {_point(combo)}: {exc}") from None
    if scenario.clients is None:
        raise SweepError("nothing polls: give strategies (--strategy) or [clients]")
    return scenario


def _point(combo: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in combo.items()) or "the scenario"


def run_point(data: dict, source: str, templates: Sequence[str], combo: dict, method: str):
    """One grid point: its rows (one per strategy). A top-level function, so that process
    pools and cluster executors can ship it."""
    from sim.polling_summary import polling_summary
    from sim.simulation import simulate

    scenario = build(data, source, templates, combo)
    try:
        run = simulate(scenario, method=method)
    except (ScenarioError, LimitError, MethodError) as exc:  # a SweepError crosses processes
        raise SweepError(f"at {_point(combo)}: {exc}") from None
    summary = polling_summary(run.polling)
    # the summary is keyed by each strategy's label; map labels back to the templates
    texts = [t.format(**combo) for t in templates]
    template_of = {parse_strategy(x).label: (x, t) for x, t in zip(texts, templates, strict=True)}
    rows = []
    for label in sorted(
        summary["strategies"], key=lambda x: list(template_of).index(x) if x in template_of else 0
    ):
        m = summary["strategies"][label]
        text, template = template_of.get(label, (label, label))
        lat, rps = m["detection_latency_s"], m["requests_per_second"]
        rows.append(
            {
                **combo,
                "strategy": text,
                "template": template,
                "jobs": m["jobs"],
                "load_mean": rps["mean"],
                "load_p99": rps["p99"],
                "load_max": rps["max"],
                "latency_mean": lat["mean"],
                "latency_p50": lat["p50"],
                "latency_p95": lat["p95"],
                "latency_p99": lat["p99"],
                "polls_per_job": m["polls_per_job"]["mean"],
                "gave_up_share": m["gave_up"] / m["jobs"] if m["jobs"] else 0.0,
                "errored_share": m["errored"] / m["jobs"] if m["jobs"] else 0.0,
                "false_give_ups": m["false_give_ups"],
                "retry_after_violations": m["retry_after_violations"],
            }
        )
    return rows


def sweep(
    data: dict,
    source: str,
    templates: Sequence[str],
    grid: dict[str, list],
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    method: str = "auto",
    progress: bool | None = False,
) -> pd.DataFrame:
    """Every combination of ``grid``, run on ``executor`` (local processes by default),
    as one DataFrame in grid order: the same table whatever ran it."""
    check(data, source, templates, grid)
    combos = combinations(grid)
    own = executor is None
    pool = executor or ProcessPoolExecutor(max_workers=workers)
    try:
        futures = {
            pool.submit(run_point, data, source, list(templates), c, method): i
            for i, c in enumerate(combos)
        }
        results: dict[int, list] = {}
        done = as_completed(futures)
        if progress is not False:
            from tqdm import tqdm

            done = tqdm(
                done,
                total=len(futures),
                desc="sweeping",
                unit="run",
                disable=None if progress is None else False,
                leave=False,
            )
        for f in done:
            results[futures[f]] = f.result()
    finally:
        if own:
            pool.shutdown(cancel_futures=True)
    rows = [row for i in range(len(combos)) for row in results[i]]
    return pd.DataFrame(rows, columns=[*grid, "strategy", "template", *METRICS])


def load_data(path: str | Path | None) -> tuple[dict, str]:
    """A scenario file (None: the default scenario) as a TOML dict over the defaults, as
    ``loads`` would validate it, and its source name, for sweeping."""
    from sim.scenario import _default_text, _parse_toml

    default = _parse_toml(_default_text(), "<default scenario>")
    if path is None:
        return default, "<default scenario>"
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise ScenarioError(str(path), "", f"cannot read the scenario: {why}") from None
    for key in ("name", "description"):
        default.pop(key)
    return default | _parse_toml(text, str(path)), str(path)
