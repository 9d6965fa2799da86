"""What the checks are measured on: per-job metrics and requests per second, by group
(a client of a mock server, or a strategy of a simulation or a load test), and each
check's value over a group.

Every source maps its own records to one vocabulary (see
:data:`pollsim.assertion_grammar.METRICS`); a metric that a source does not have is
left out of its frames, and a check on it is bad input (exit 2), not a pass.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pollsim.assertion_grammar import METRICS, AssertionSyntax, Check, shown, suggest

JOB_METRICS = [m for m, spec in METRICS.items() if spec.per == "job"]
#: the group of every row, when no --client is given
ALL = "*"
_NOUNS = {"report": "client", "simulate": "strategy", "loadtest": "strategy"}
_PLURALS = {"client": "clients", "strategy": "strategies", "group": "groups"}


@dataclass
class Measures:
    """Per-job metrics (``jobs``: a ``group`` column and the job metrics a source has) and
    requests per second (``load``: ``group``, ``second``, ``requests_per_second``, a row
    for every second of the run and group, zeros included), from one ``source``."""

    jobs: pd.DataFrame
    load: pd.DataFrame | None = None
    source: str = "report"
    #: why a metric is missing, where a source can say (shown in the exit-2 line)
    missing: dict[str, str] = field(default_factory=dict)

    @property
    def noun(self) -> str:
        """What a group is: ``client`` or ``strategy``."""
        return _NOUNS.get(self.source, "group")

    def groups(self) -> list[str]:
        names = list(dict.fromkeys(self.jobs["group"].astype(str))) if len(self.jobs) else []
        if self.load is not None and len(self.load):
            names += [g for g in dict.fromkeys(self.load["group"].astype(str)) if g not in names]
        return names

    def has(self, metric: str) -> bool:
        if METRICS[metric].per == "second":
            return self.load is not None and "requests_per_second" in self.load
        return metric in self.jobs

    @classmethod
    def from_report(cls, truth: dict, requests: list[dict] | None = None) -> Measures:
        """A mock server's ground truth (``GET /_admin/report``, or ``--truth-out``'s
        file), one group per client; with ``requests`` (the records of
        ``GET /_admin/requests``: ``t`` simulated seconds, ``client``), requests per
        second over simulated seconds 0 to the report's ``now``."""
        rows = truth.get("jobs") or []
        jobs = pd.DataFrame(
            {
                "group": [str(r.get("client")) for r in rows],
                "detection_latency": [_float(r.get("detection_latency_s")) for r in rows],
                **{
                    m: [int(r.get(m) or 0) for r in rows]
                    for m in ("polls", "wasted_polls", "retry_after_violations")
                },
                **{
                    m: [int(bool(r.get(m))) for r in rows]
                    for m in ("gave_up", "errored", "unfinished")
                },
            }
        )
        missing = {
            "requests_per_second": "the report has no request times: pollsim report "
            "fetches them from the server's request journal (GET /_admin/requests)"
        }
        load = None
        if requests is not None:
            end = truth.get("totals", {}).get("until") or truth.get("now") or 0.0
            arrivals = [(str(q.get("client")), float(q["t"])) for q in requests]
            load = load_frame(arrivals, end, groups=dict.fromkeys(jobs["group"]))
        return cls(jobs=jobs, load=load, source="report", missing=missing)

    @classmethod
    def from_simulation(cls, run) -> Measures:
        """A ``pollsim simulate`` run (:class:`sim.simulation.Simulation`): one group per
        strategy label, the jobs some client watched, requests per second over the run."""
        p = run.polling
        if p is None:
            raise AssertionSyntax(
                "the scenario has no clients: nothing polled, so nothing to assert on "
                "(give --strategy or a [clients] section)"
            )
        df = p.jobs_frame()
        df = df[df["strategy"].notna()]
        seen = df["t_seen"].notna()
        gave_up = df["gave_up"].eq(True)
        errored = df["errored"].eq(True) if "errored" in df else pd.Series(False, index=df.index)
        jobs = pd.DataFrame(
            {
                "group": df["strategy"].astype(str),
                "detection_latency": df["detection_latency"].astype(float),
                "polls": df["polls"].astype(int),
                "wasted_polls": df["wasted_polls"].astype(int),
                "retry_after_violations": df["retry_after_violations"].astype(int),
                "gave_up": gave_up.astype(int),
                "errored": errored.astype(int),
                "unfinished": (~(seen | gave_up | errored)).astype(int),
            }
        ).reset_index(drop=True)
        order = (
            [s.label for s, _ in run.scenario.clients.strategies] if run.scenario.clients else []
        )
        present = set(jobs["group"])
        labels = [g for g in order if g in present] + [
            g for g in dict.fromkeys(jobs["group"]) if g not in order
        ]
        jobs = jobs.iloc[
            jobs["group"].map({g: i for i, g in enumerate(labels)}).argsort(kind="stable")
        ]
        jobs = jobs.reset_index(drop=True)
        frames = []
        for label in labels:
            per = p.load_frame(label)["requests"]
            frames.append(
                pd.DataFrame(
                    {"group": label, "second": per.index, "requests_per_second": per.to_numpy()}
                )
            )
        load = pd.concat(frames, ignore_index=True) if frames else None
        return cls(jobs=jobs, load=load, source="simulate")


def load_frame(
    arrivals: list[tuple[str, float]], end: float, groups: Iterable[str] = ()
) -> pd.DataFrame:
    """Requests per second by group from ``(group, t)`` arrivals: a row for every second
    from 0 to ``end`` (or the last arrival) and group (those of ``groups`` too, which may
    have made no request), zeros included."""
    seconds = math.ceil(max([end, *(t + 1e-9 for _, t in arrivals)], default=0.0))
    frames = []
    for g in dict.fromkeys([*groups, *(a[0] for a in arrivals)]):
        t = np.array([x for gg, x in arrivals if gg == g], dtype=float)
        per = np.bincount(np.clip(t, 0, None).astype(np.int64), minlength=seconds)[:seconds]
        frames.append(
            pd.DataFrame({"group": g, "second": np.arange(seconds), "requests_per_second": per})
        )
    if not frames:
        return pd.DataFrame({"group": [], "second": [], "requests_per_second": []})
    return pd.concat(frames, ignore_index=True)


def _float(v) -> float:
    return math.nan if v is None else float(v)


@dataclass(frozen=True)
class Result:
    """A check over one group: the measured value (None: no values to aggregate), whether
    it passed, and what it was measured on, in words."""

    check: Check
    group: str  #: a client or strategy, or ALL
    measured: float | None
    passed: bool
    basis: str  #: "client alpha, 12 jobs"

    @property
    def line(self) -> str:
        word = "PASS" if self.passed else "FAIL"
        value = "nothing" if self.measured is None else self.check.format(self.measured)
        return f"{word} {self.check.name}: measured {value} ({self.basis})"


def quoted(names: Sequence[str], limit: int = 8) -> str:
    """Names for a message, each quoted (a name may hold a comma or a space), the first
    ``limit`` of them: ``'a, b', 'c', ...``."""
    return ", ".join(repr(n) for n in names[:limit]) + (", ..." if len(names) > limit else "")


def resolve_groups(measures: Measures, clients: list[str] | None) -> list[str]:
    """The groups to check: ALL without ``--client``; each group with ``--client '*'``;
    else the named ones, each of which must exist (exit 2 with the nearest name)."""
    if not clients:
        return [ALL]
    known = measures.groups()
    if "*" in clients:
        return known or [ALL]
    for c in clients:
        if c not in known:
            if not known:  # a report filtered by the server: the caller can say more
                raise AssertionSyntax(
                    f"--client {c!r}: no such {measures.noun} in the {measures.source}"
                )
            listed = quoted(known)
            raise AssertionSyntax(
                f"--client {c!r}: no such {measures.noun} in the {measures.source} "
                f"({listed}){suggest(c, known)}"
            )
    return list(dict.fromkeys(clients))


def require(checks: list[Check], measures: Measures) -> None:
    """Exit-2 error for the first check whose metric the source does not have."""
    for c in checks:
        if not measures.has(c.metric):
            why = measures.missing.get(c.metric, "")
            raise AssertionSyntax(
                f"--assert {shown(c.text)}: {c.metric} is not measured by pollsim {measures.source}"
                + (f" ({why})" if why else "")
            )


def evaluate(check: Check, measures: Measures, group: str) -> Result:
    """The check over one group (or all)."""
    spec = METRICS[check.metric]
    noun = measures.noun
    who = f"all {_PLURALS[noun]}" if group == ALL else f"{noun} {group}"
    if spec.per == "second":
        load = measures.load
        if group == ALL:
            per = load.groupby("second")["requests_per_second"].sum()
        else:
            per = load.loc[load["group"] == group, "requests_per_second"]
        values = per.to_numpy(dtype=float)
        basis = f"{who}, {len(values)} s"
        n = len(values)
    else:
        col = (
            measures.jobs[check.metric]
            if group == ALL
            else measures.jobs.loc[measures.jobs["group"] == group, check.metric]
        )
        n = len(col)
        values = col.dropna().to_numpy(dtype=float)
        basis = f"{who}, {n} job{'s' if n != 1 else ''}"
        if check.metric == "detection_latency":
            basis = f"{who}, {len(values)} of {n} jobs seen ended"
    # nothing polled at all proves nothing, even a sum's 0: a client that never showed
    # up must not pass "gave_up == 0"
    measured = None if n == 0 else aggregate(check.agg, values)
    passed = measured is not None and check.holds(measured)
    return Result(check, group, measured, passed, basis)


def aggregate(agg: str, values: np.ndarray) -> float | None:
    """The aggregate of the values; None for an empty set (except count and sum: 0)."""
    if agg == "count":
        return float(values.size)
    if agg == "sum":
        return float(values.sum())
    if values.size == 0:
        return None
    if agg == "mean":
        return float(values.mean())
    if agg == "max":
        return float(values.max())
    if agg == "min":
        return float(values.min())
    return float(np.percentile(values, float(agg[1:])))
