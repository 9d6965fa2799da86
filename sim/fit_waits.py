"""Which wait family a set of observed waits comes from, and with what parameters.

Waits are indexed by ``j``, the polls made before the wait (1 for the wait after the
first poll). A *schedule* is the same for every client: fixed, linear or exponential in
``j``, with a cap. A *jittered* wait draws uniformly between bounds that follow a
schedule: full jitter (``min`` to the schedule), equal jitter (half of it to all of it),
a uniform added (the schedule to the schedule plus a width), or decorrelated jitter
(``base`` to three times the previous wait). Each candidate is judged by the
Kolmogorov-Smirnov distance of the waits' probability integral transform from uniform;
none within bounds means no family, never the least bad one.

The schedules themselves are in ``sim.fit_schedules``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.fit_schedules import (
    Schedule,
    fit_schedule,
    nice,
    per_index,
    schedule_error,
    wmedian,
)

#: the fewest waits after one poll (jobs) that a jitter's bounds are read from
FEW_JOBS = 20


@dataclass(frozen=True)
class Jitter:
    """A wait drawn uniformly between bounds: ``kind`` is "full" (``low`` to the
    schedule), "equal" (half the schedule to all of it), "added" (the schedule to the
    schedule plus ``width``) or "decorrelated" (``low`` to three times the previous wait,
    at most ``cap``)."""

    kind: str
    schedule: Schedule | None
    low: float = 0.0
    width: float = 0.0
    cap: float = math.inf

    def bounds(self, j: np.ndarray, prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "decorrelated":
            lo = np.full(len(j), self.low)
            return lo, np.maximum(self.low, 3 * prev)
        g = self.schedule.at(j)  # type: ignore[union-attr]
        if self.kind == "full":
            return np.full(len(j), self.low), np.maximum(self.low, g)
        if self.kind == "equal":
            return g / 2, g
        return g, g + self.width


@dataclass(frozen=True)
class WaitFit:
    """The family found for a set of waits, or none (``model`` None), and how well."""

    model: Schedule | Jitter | None
    ks: float  #: KS distance of the waits from the model (0 for a schedule that fits)
    max_error: float  #: a schedule's largest relative miss
    n: int  #: waits fitted


def fit_waits(j: np.ndarray, w: np.ndarray, prev: np.ndarray, tol: float) -> WaitFit:
    """The family of waits ``w`` after ``j`` polls (``prev``: the wait before, nan where
    unknown): a schedule if every client waits the same at each ``j`` (within ``tol``,
    relative), else the jitter whose transform is nearest uniform, if near enough."""
    j, w, prev = np.asarray(j), np.asarray(w, float), np.asarray(prev, float)
    n = len(w)
    if n == 0:
        return WaitFit(None, math.nan, math.nan, 0)
    if _same_per_index(j, w, tol):
        idx, med, count = per_index(j, w, np.median)
        s = fit_schedule(idx, med, tol, count, snap=0.001)  # every wait says the same
        err = schedule_error(s, j, w) if s is not None else math.inf
        if err > tol:  # one schedule, then another (for_attempts(3, fixed(1), then=...))
            turned = _schedule_switch(j, w, tol)
            if turned is not None:
                return turned
        return WaitFit(s if err <= tol else None, 0.0 if err <= tol else math.nan, err, n)
    switch = _switch(j, w, prev, tol)
    if switch is not None:
        return switch
    if per_index(j, w, len)[2].max() < FEW_JOBS:  # a jitter's bounds read across jobs
        return WaitFit(None, math.nan, math.nan, n)
    best: tuple[float, int, Jitter] | None = None
    for rank, model in enumerate(_jitter_candidates(j, w, prev, tol)):
        d = ks_distance(model, j, w, prev)
        key = (round(d, 2), rank)
        if best is None or key < (round(best[0], 2), best[1]):
            best = (d, rank, model)
    if best is None:
        return WaitFit(None, math.nan, math.nan, n)  # no jitter's bounds could be read
    d, _, model = best
    return WaitFit(model if d <= ks_bound(n) else None, d, math.nan, n)


@dataclass(frozen=True)
class Switch:
    """One wait for the waits after polls ``1 .. at - 1``, another from poll ``at`` on:
    a backoff that turns into another (the AWS JavaScript SDK's waiter: jittered, then
    a fixed 120 s)."""

    at: int
    head: Schedule | Jitter
    tail: Schedule | Jitter

    @property
    def cap(self) -> float:
        return math.inf

    def bounds(self, j: np.ndarray, prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo1, hi1 = bounds_of(self.head, j, prev)
        lo2, hi2 = bounds_of(self.tail, j, prev)
        early = np.asarray(j) < self.at
        return np.where(early, lo1, lo2), np.where(early, hi1, hi2)


def bounds_of(model, j, prev):
    if isinstance(model, Schedule):
        g = model.at(j)
        return g, g
    lo, hi = model.bounds(j, prev)
    return lo, np.minimum(hi, model.cap)


def _switch(j, w, prev, tol) -> WaitFit | None:
    """A jittered head and a tail where every client waits the same, from the first
    index after which every index's waits agree (at least two such indices)."""
    idx, med, count = per_index(j, w, np.median)
    lookup = dict(zip(idx.tolist(), med.tolist(), strict=True))
    m = np.array([lookup[k] for k in j.tolist()])
    near = np.abs(w - m) <= tol * m + 0.01
    _, share, _ = per_index(j, near.astype(float), np.mean)
    same = (share >= 0.95) | (count < 2)  # one wait in twenty may be a retry taken for a poll
    if same.all():
        return None
    last_random = int(np.flatnonzero(~same)[-1])
    tail_idx = idx[last_random + 1 :]
    if len(tail_idx[count[last_random + 1 :] >= 2]) < 2:
        return None
    at = int(tail_idx[0])
    early = j < at
    head = fit_waits(j[early], w[early], prev[early], tol)
    tail = fit_waits(j[~early], w[~early], prev[~early], tol)
    if head.model is None or tail.model is None or isinstance(head.model, Switch):
        return None
    return WaitFit(Switch(at, head.model, tail.model), head.ks, tail.max_error, len(w))


def _schedule_switch(j, w, tol) -> WaitFit | None:
    """Where every client waits the same but no one schedule runs through the waits:
    a schedule for the waits after polls ``1 .. at - 1`` and another from poll ``at``
    on, each fitting the waits at its own indices (the earliest such turn, at least two
    indices after it, so that a last odd wait is not taken for a new schedule)."""
    idx, med, count = per_index(j, w, np.median)
    for k in range(1, len(idx) - 1):
        at = int(idx[k])
        head = fit_schedule(idx[:k], med[:k], tol, count[:k], snap=0.001)
        tail = fit_schedule(idx[k:], med[k:], tol, count[k:], snap=0.001)
        if head is None or tail is None:
            continue
        early = j < at
        err = max(
            schedule_error(head, j[early], w[early]), schedule_error(tail, j[~early], w[~early])
        )
        if err <= tol:
            return WaitFit(Switch(at, head, tail), 0.0, err, len(w))
    return None


def consistent(model, j, w, prev, tol: float) -> bool:
    """Whether the waits could come from the model."""
    if isinstance(model, Switch):
        early = np.asarray(j) < model.at
        return consistent(model.head, j[early], w[early], prev[early], tol) and consistent(
            model.tail, j[~early], w[~early], prev[~early], tol
        )
    if isinstance(model, Schedule):
        g = model.at(j)
        return bool(np.all(np.abs(w - g) <= tol * g + 0.01))
    return ks_distance(model, j, w, prev) <= ks_bound(len(w))


def ks_bound(n: int) -> float:
    """The largest KS distance taken as a fit: the 1% critical value, plus room for the
    parameters having been estimated from the same waits."""
    return 1.63 / math.sqrt(max(n, 1)) + 0.03


def ks_distance(model: Jitter, j, w, prev) -> float:
    """How far the waits' transform through the model's uniform is from uniform (where
    the model's bounds meet, the share of waits off them)."""
    keep = ~np.isnan(prev) if model.kind == "decorrelated" else np.ones(len(w), bool)
    lo, hi = model.bounds(j[keep], prev[keep])
    x = w[keep]
    span = hi - lo
    # bounds within 1% (and 10 ms) of each other draw no spread a KS can read: a full
    # jitter from 2 s up to 2.02 s is 2 s (its fitted top a rounding off the 2 s it is)
    wide = span > 0.01 * hi + 0.01
    if not wide.any():
        return float(np.mean(np.abs(x - lo) > 0.01 + 0.01 * hi)) if len(x) else 1.0
    u = (x[wide] - lo[wide]) / span[wide]
    if model.cap < math.inf:  # a wait cut to the cap stands for any draw past it
        cut = (x[wide] >= model.cap * (1 - 1e-9)) & (hi[wide] > model.cap)
        below = (model.cap - lo[wide][cut]) / span[wide][cut]
        draws = np.random.default_rng(0).random(int(cut.sum()))
        u[cut] = below + (1 - below) * draws
        hi = np.minimum(hi, model.cap)
    u = np.sort(np.clip(u, -1.0, 2.0))
    n = len(u)
    ecdf_hi = np.arange(1, n + 1) / n
    ecdf_lo = np.arange(n) / n
    inside = np.clip(u, 0, 1)
    d = max(np.max(ecdf_hi - inside), np.max(inside - ecdf_lo))
    outside = np.mean((x[wide] < lo[wide] - 1e-6) | (x[wide] > hi[wide] * 1.02 + 1e-6))
    return float(max(d, outside))


def _same_per_index(j, w, tol) -> bool:
    """Every client waits the same at each index (within ``tol`` of the index's median,
    and 10 ms for timing noise), but for one wait in a hundred."""
    idx, med, _ = per_index(j, w, np.median)
    lookup = dict(zip(idx.tolist(), med.tolist(), strict=True))
    m = np.array([lookup[k] for k in j.tolist()])
    return bool(np.mean(np.abs(w - m) <= tol * m + 0.01) >= 0.99)


def _endpoints(j, w) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per index with enough waits: the uniform's estimated low and high ends (the
    sample's extremes widened by a spacing) and the waits behind them. An extreme that
    stands apart from the rest by more than ten spacings (one request held up, as a
    live client's can be; a uniform's top draw does so by chance once in e**10) gives
    way to the next one."""
    idx, lo, count = per_index(j, w, _low_end)
    _, hi, _ = per_index(j, w, _high_end)
    keep = count >= min(20, max(2, int(count.max())))  # a few waits say little of the ends
    idx, lo, hi, count = idx[keep], lo[keep], hi[keep], count[keep]
    spacing = (hi - lo) / np.maximum(count - 1, 1)
    return idx, np.maximum(lo - spacing, 0), hi + spacing, count


def _high_end(g: np.ndarray) -> float:
    if len(g) < 3:
        return float(g.max())
    top, second = np.partition(g, len(g) - 2)[-2:][::-1]
    apart = top - second > 10 * (top - g.min()) / (len(g) - 1)
    return float(second if apart else top)


def _low_end(g: np.ndarray) -> float:
    return -_high_end(-g)


def _jitter_candidates(j, w, prev, tol):
    """Each jitter the waits could come from, parameters fitted, in order of preference."""
    idx, lo, hi, count = _endpoints(j, w)
    if len(idx) == 0:
        return
    loose = max(tol, 0.05)
    floor = float(w.min())
    low = 0.0 if floor <= 0.02 * float(np.median(w)) + 0.01 else nice(floor)
    upper = fit_schedule(idx, hi, loose, count)
    if upper is not None and low == 0:
        yield Jitter("full", upper)
    if upper is not None:
        yield Jitter("equal", upper)
    lower = fit_schedule(idx, np.maximum(lo, 1e-9), loose, count)
    if lower is not None:
        width = nice(wmedian(hi - lo, count.astype(float)))
        yield Jitter("added", lower, width=width)
    if upper is not None and low > 0:  # after "added": fixed(5) + uniform(0, 2) reads better
        yield Jitter("full", upper, low=low)
    known = ~np.isnan(prev)
    if known.any() and np.all(w[known] <= 3 * np.maximum(prev[known], floor) * 1.02 + 0.01):
        top = float(w.max())
        at_top = np.mean(w >= top * (1 - 1e-6))
        cap = nice(top) if at_top > 0.01 else math.inf
        yield Jitter("decorrelated", None, low=nice(floor), cap=cap)
