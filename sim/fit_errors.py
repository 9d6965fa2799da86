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

AT_ONCE = 0.05  #: seconds: a wait this short (plus a tenth of the usual wait) is no wait


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
    #: per job, the requests that are retries within a poll (not polls of their own)
    retried: dict = field(default_factory=dict)


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


def fit_errors(
    traces: list[Trace], usual: float, wait_for, guide=None, ra_polls: bool = False
) -> ErrorFit:
    """The client's behaviour on errors; ``usual`` is its typical wait after a 2xx (what
    "at once" is measured against), ``wait_for(model, shift)`` turns a fitted model into
    a wait (``sim.fit._wait``). ``guide``: the wait model of the watches without errors
    (``bounds(j)``: a wait after poll j it could make), and ``ra_polls``: the client keeps
    to a Retry-After between polls; they tell a retry from the next poll."""
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
        if gaps and np.mean(np.array(gaps) <= AT_ONCE + 0.1 * usual) >= 0.9:
            return ErrorFit("polls at once")
        return _retrying_then_polling(runs, usual, wait_for, guide, ra_polls)
    retried = {}
    for r in runs:  # a request after an error is a retry: the error would have stopped it
        after = range(r.first + 1, min(r.first + r.length + 1, r.trace.polls))
        retried.setdefault(r.trace.job_id, set()).update(after)
    return ErrorFit("stops", *_retries(runs, ending, wait_for), retried=retried)


def _retrying_then_polling(runs: list[Run], usual: float, wait_for, guide, ra_polls) -> ErrorFit:
    """A client that polls on after errors, maybe after retrying each: a gap after an
    error that the client's poll wait could be (or a Retry-After it keeps to between
    polls) is the next poll; one much shorter, or a Retry-After kept to only here, is a
    retry. The same number of retries before every poll that follows errors:
    ``retries(n)``."""
    groups, k, gap, ra, codes = [], [], [], [], set()
    retried: dict = {}
    for r in runs:
        tr = r.trace
        mine = retried.setdefault(tr.job_id, set())
        before = tr.sent[r.first] - tr.received[r.first - 1] if r.first else usual
        tries = 0
        for i in range(r.first, min(r.first + r.length, tr.polls - 1)):
            g = tr.sent[i + 1] - tr.received[i]
            a = tr.retry_after[i]
            kept = not math.isnan(a) and abs(g - a) <= 0.05 + 0.03 * a
            polls = i + 1 - sum(1 for x in mine if x <= i)  # polls made, retries not
            if guide is not None:
                lo, hi = guide(polls)
                poll_like = lo * 0.97 - 0.02 <= g <= hi * 1.03 + 0.02 or (kept and ra_polls)
                retry = not poll_like and (g < 0.5 * lo or kept)
            else:
                retry = g < 0.25 * before or (kept and a < before)
            if retry:
                k.append(tries)
                gap.append(g)
                ra.append(a)
                codes.add(int(tr.http[i]))
                mine.add(i + 1)
                tries += 1
            else:
                groups.append(tries)  # the answer stood after ``tries`` retries
                tries = 0
    complete = [g for g in groups if g > 0] or groups
    if not k or not complete:
        return ErrorFit("polls on")
    values, counts = np.unique(complete, return_counts=True)
    n = int(values[np.argmax(counts)])
    notes: list[str] = []
    if counts.max() < 0.8 * len(complete):
        notes.append(f"the retries before a poll vary ({min(complete)} to {max(complete)})")
    k_, gap_, ra_ = np.array(k), np.maximum(np.array(gap, float), 0), np.array(ra, float)
    asked = ~np.isnan(ra_)
    honours = bool(asked.any())
    wait, first = _retry_wait(k_[~asked], gap_[~asked], wait_for, notes)
    made = retries(n, on=sorted(codes), wait=wait, first=first, retry_after=honours)
    return ErrorFit("polls on", made, notes, retried)


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
    later = gap[k > 0]
    zero_first = bool(len(later)) and bool(
        np.max(gap[k == 0], initial=0.0) <= min(AT_ONCE, 0.1 * float(np.median(later))) + 1e-3
    )
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
