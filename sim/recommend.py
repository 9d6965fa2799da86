"""Choosing a strategy from a sweep: the Pareto frontier of load against detection
latency, and the cheapest candidate that meets a latency SLO.

A client that stops on an error answer (``errored_share``) leaves its job unwatched just
as one that gives up does, so ``max_give_up_share`` bounds the two together: a strategy
that errors out is never a better candidate than one that gives up as often.

>>> import pandas as pd
>>> t = pd.DataFrame({"strategy": ["a", "b", "c"], "load_mean": [1.0, 2.0, 3.0],
...                   "load_max": [2, 4, 6], "latency_p95": [9.0, 4.0, 5.0],
...                   "gave_up_share": [0.0, 0.0, 0.0]})
>>> pareto_front(t)["strategy"].tolist()
['a', 'b']
>>> recommend(t, slo_p95=5.0).best["strategy"]
'b'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from sim.durations import format_duration
from sim.sweep import METRICS


class NoCandidate(ValueError):
    """Nothing in the sweep meets the SLO: an answer, not bad input (``pollsim recommend``
    exits 1 with it, as a failed ``--assert`` does; bad input is 2)."""


def pareto_front(table: pd.DataFrame, x: str = "load_mean", y: str = "latency_p95") -> pd.DataFrame:
    """The rows no other row beats on both ``x`` and ``y`` (lower is better), by ``x``."""
    t = table.dropna(subset=[x, y]).sort_values([x, y], kind="stable")
    keep, best = [], float("inf")
    for idx, value in zip(t.index, t[y], strict=True):
        if value < best:
            keep.append(idx)
            best = value
    return t.loc[keep]


@dataclass
class Recommendation:
    best: pd.Series
    runner_up: pd.Series | None
    why_not: dict[str, str]  #: every other candidate, and why it lost

    def describe(self, slo_p95: float) -> str:
        b = self.best
        lines = [
            f"recommended: {b['strategy']}{_point(b)}",
            f"  mean load {b['load_mean']:.2f}/s, peak {b['load_max']:.0f}/s, "
            f"p95 detection latency {format_duration(b['latency_p95'])} "
            f"(SLO {format_duration(slo_p95)}), {b['gave_up_share']:.1%} gave up"
            + (f", {_errored(b):.1%} errored" if _errored(b) else ""),
        ]
        if self.runner_up is not None:
            r = self.runner_up
            lines.append(
                f"runner-up: {r['strategy']}{_point(r)}: mean load {r['load_mean']:.2f}/s, "
                f"p95 {format_duration(r['latency_p95'])}"
            )
        if self.why_not:
            lines.append("the others:")
            lines += [f"  {name}: {why}" for name, why in self.why_not.items()]
        return "\n".join(lines)


def _point(row: pd.Series) -> str:
    params = [k for k in row.index if k not in _COLUMNS]
    shown = ", ".join(f"{k}={row[k]}" for k in params)
    return f" ({shown})" if shown else ""


_COLUMNS = {"strategy", "template", *METRICS}


def _errored(row: pd.Series) -> float:
    """The share of jobs whose client stopped on an error (0 for a table without it)."""
    e = row.get("errored_share", 0.0)
    return 0.0 if pd.isna(e) else float(e)


def stopped_share(row: pd.Series) -> float:
    """The share of jobs whose client stopped without seeing the end: gave up or errored
    (what ``max_give_up_share`` bounds)."""
    return float(row["gave_up_share"]) + _errored(row)


def _stopped(row: pd.Series) -> str:
    """How a candidate's clients stopped short, in words."""
    if _errored(row):
        return f"gave up on {row['gave_up_share']:.1%} and errored on {_errored(row):.1%}"
    return f"gave up on {row['gave_up_share']:.1%}"


def _name(row: pd.Series) -> str:
    return f"{row['strategy']}{_point(row)}"


def recommend(
    table: pd.DataFrame, slo_p95: float, max_give_up_share: float = 0.0
) -> Recommendation:
    """The cheapest candidate (lowest mean load, then lowest peak) whose p95 detection
    latency meets ``slo_p95`` and whose clients gave up on, or errored out of, no more
    than ``max_give_up_share`` of jobs (``gave_up_share + errored_share``: an error that
    ends the watch loses the job as a give-up does). NoCandidate names the closest miss
    otherwise."""
    why: dict[str, str] = {}
    ok = []
    for _, row in table.iterrows():
        p95 = row["latency_p95"]
        if pd.isna(p95):
            why[_name(row)] = "never saw a job end"
        elif p95 > slo_p95:
            why[_name(row)] = f"p95 latency {format_duration(p95)} > SLO {format_duration(slo_p95)}"
        elif stopped_share(row) > max_give_up_share:
            why[_name(row)] = f"{_stopped(row)} of jobs > {max_give_up_share:.1%}"
        else:
            ok.append(row)
    if not ok:
        seen = table.dropna(subset=["latency_p95"])
        if seen.empty:
            raise NoCandidate("no candidate saw any job end; nothing meets the SLO")
        closest = seen.sort_values("latency_p95").iloc[0]
        raise NoCandidate(
            f"nothing meets p95 <= {format_duration(slo_p95)} with at most "
            f"{max_give_up_share:.1%} give-ups and errors; the fastest candidate, "
            f"{_name(closest)}, has p95 {format_duration(closest['latency_p95'])} and "
            f"{_stopped(closest)}"
        )
    ranked = sorted(ok, key=lambda r: (r["load_mean"], r["load_max"], r["latency_p95"]))
    best = ranked[0]
    for r in ranked[1:]:
        why[_name(r)] = (
            f"meets the SLO, at mean load {r['load_mean']:.2f}/s against {best['load_mean']:.2f}/s"
        )
    return Recommendation(best, ranked[1] if len(ranked) > 1 else None, why)


def slo_ladder(
    table: pd.DataFrame, slos: Sequence[float], max_give_up_share: float = 0.0
) -> pd.DataFrame:
    """The recommendation at each p95 SLO in ``slos`` (seconds): a row each, with the
    strategy chosen, its mean and peak load and its p95 latency; ``None`` where nothing
    meets the SLO. How the choice, and its cost in load, changes as the SLO tightens."""
    rows = []
    for slo in slos:
        try:
            best = recommend(table, slo, max_give_up_share).best
        except NoCandidate:
            rows.append((slo, None, None, None, None))
            continue
        rows.append(
            (slo, f"{best['strategy']}", best["load_mean"], best["load_max"], best["latency_p95"])
        )
    columns = ["slo_p95", "strategy", "load_mean", "load_max", "latency_p95"]
    return pd.DataFrame(rows, columns=columns)
