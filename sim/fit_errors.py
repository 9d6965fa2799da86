"""What a client does after an error answer, from the runs of error answers in its traffic.

A watch that ends on a run of errors (without seeing the job end or giving up) belongs
to a client that stops on errors (``on_error='stop'``); the requests of such a run after
its first are the SDK's request-level retries inside one poll, whose number, statuses,
waits and Retry-After handling the runs show: every run of a retried status the same
length means ``n`` retries; runs of varying length, a time limit (``within``). A client
that does not stop polls on: at once (``at_once_on_error``) where its waits after errors
are all about zero, else on its usual wait.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.fit_data import OK, Trace
from sim.fit_stops import round_between
from sim.fit_waits import fit_waits, nice
from sim.strategies.retries import retries
from sim.strategies.waits import Wait, fixed

AT_ONCE = 0.05  #: seconds: a wait this short (plus 2% of the usual wait) is no wait


@dataclass(frozen=True)
class Run:
    """A run of error answers in one watch: the indexes of its requests."""

    trace: Trace
    first: int
    length: int

    @property
    def ends_watch(self) -> bool:
        return self.first + self.length == self.trace.polls and self.trace.outcome == "errored"

    @property
    def codes(self) -> list[int]:
        return self.trace.http[self.first : self.first + self.length].tolist()


@dataclass
class ErrorFit:
    on_error: str  #: "not seen", "polls on", "polls at once" or "stops"
    retries: retries | None = None
    notes: list[str] = field(default_factory=list)


def error_runs(traces: list[Trace]) -> list[Run]:
    out = []
    for tr in traces:
        bad = ~np.isin(tr.http, OK)
        i = 0
        while i < len(bad):
            if bad[i]:
                k = i
                while k < len(bad) and bad[k]:
                    k += 1
                out.append(Run(tr, i, k - i))
                i = k
            else:
                i += 1
    return out


def fit_errors(traces: list[Trace], usual: float, wait_for) -> ErrorFit:
    """The client's behaviour on errors; ``usual`` is its typical wait after a 2xx (what
    "at once" is measured against), ``wait_for(make)`` turns a fitted model into a wait
    (``sim.fit._wait``)."""
    runs = error_runs(traces)
    if not runs:
        return ErrorFit("not seen")
    ending = [r for r in runs if r.ends_watch]
    if not ending:
        gaps = [
            r.trace.sent[i + 1] - r.trace.received[i]
            for r in runs
            for i in range(r.first, r.first + r.length)
            if i + 1 < r.trace.polls
        ]
        if gaps and np.mean(np.array(gaps) <= AT_ONCE + 0.02 * usual) >= 0.9:
            return ErrorFit("polls at once")
        return ErrorFit("polls on")
    return ErrorFit("stops", *_retries(runs, ending, wait_for))


def _retries(runs: list[Run], ending: list[Run], wait_for) -> tuple[retries | None, list[str]]:
    """The request-level retries of a client that stops on errors."""
    notes: list[str] = []
    retried = sorted({c for r in runs for c in r.codes[: r.length - 1 if r.ends_watch else None]})
    if not retried:
        return None, notes  # every error stood at once: no retries
    lengths = sorted({r.length for r in ending if r.codes[0] in retried})
    # the waits of the retries: after each error of a run but an ending run's last
    k, gap, ra = [], [], []
    for r in runs:
        tr = r.trace
        last = r.first + r.length - (1 if r.ends_watch else 0)
        for pos, i in enumerate(range(r.first, last)):
            if i + 1 < tr.polls and tr.http[i] in retried:
                k.append(pos)
                gap.append(tr.sent[i + 1] - tr.received[i])
                ra.append(tr.retry_after[i])
    k_, gap_, ra_ = np.array(k), np.maximum(np.array(gap, float), 0), np.array(ra, float)
    asked = ~np.isnan(ra_)
    kept = np.abs(gap_[asked] - ra_[asked]) <= 0.05 + 0.03 * ra_[asked]
    honours = bool(asked.any()) and float(np.mean(kept)) >= 0.9
    plain = ~asked if honours else np.ones(len(k_), bool)
    wait, first = _retry_wait(k_[plain], gap_[plain], wait_for, notes)
    n = lengths[0] - 1 if len(lengths) == 1 else None
    within = None
    if n is None:
        within = _within(ending, retried, wait)
        notes.append(
            f"retry runs end after {lengths[0]} to {lengths[-1]} requests: fitted as a time "
            f"limit, within={within:g}"
        )
    return retries(n, on=retried, wait=wait, first=first, retry_after=honours, within=within), notes


def _retry_wait(k: np.ndarray, gap: np.ndarray, wait_for, notes) -> tuple[Wait, float | None]:
    """The retries' wait (and ``first``) from the gap after retry ``k`` (from 0)."""
    if not len(k) or np.all(gap <= AT_ONCE):
        return fixed(0), None
    zero_first = np.all(gap[k == 0] <= AT_ONCE) and np.any(gap[k > 0] > AT_ONCE)
    if zero_first:
        rows = k > 0
        j = k[rows]  # retry k waits the wait at attempt k - 1: j = k from 1
    else:
        rows = np.ones(len(k), bool)
        j = k + 1
    f = fit_waits(j, gap[rows], np.full(rows.sum(), np.nan), 0.03)
    if f.model is None:
        q = np.quantile(gap[rows], [0.05, 0.5, 0.95])
        notes.append(
            f"the waits between retries fit no family ({q[0]:.3g} / {q[1]:.3g} / {q[2]:.3g} s "
            "at p5 / p50 / p95): fitted as their median"
        )
        return fixed(nice(float(q[1]))), (0.0 if zero_first else None)
    return wait_for(f.model, 1), (0.0 if zero_first else None)


def _within(ending: list[Run], retried: list[int], wait: Wait) -> float:
    """A limit on the time since a poll's first request, past which no retry's wait may
    end: at least the latest retry seen, less than an ending run's last answer plus the
    longest next wait."""
    lo = max(r.trace.sent[r.first + r.length - 1] - r.trace.sent[r.first] for r in ending)
    longest = _longest(wait)
    hi = min(
        r.trace.received[r.first + r.length - 1] - r.trace.sent[r.first] + longest(r.length - 1)
        for r in ending
    )
    if hi <= lo:
        return nice(lo)
    return round_between(lo, hi, closed_low=True)[0]


def _longest(wait: Wait):
    """The longest wait at retry ``k`` (its bound for a jittered one)."""
    from sim.strategies.state import PollState

    inner = getattr(wait, "inner", wait)

    def most(k: int) -> float:
        try:
            return float(inner(PollState(attempt=max(k, 0)), None))  # at or past the next
        except (TypeError, AttributeError):
            return math.inf

    return most
