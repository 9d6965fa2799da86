"""Which wait family a set of observed waits comes from, and with what parameters.

Waits are indexed by ``j``, the polls made before the wait (1 for the wait after the
first poll). A *schedule* is the same for every client: fixed, linear or exponential in
``j``, with a cap. A *jittered* wait draws uniformly between bounds that follow a
schedule: full jitter (``min`` to the schedule), equal jitter (half of it to all of it),
a uniform added (the schedule to the schedule plus a width), or decorrelated jitter
(``base`` to three times the previous wait). Each candidate is judged by the
Kolmogorov-Smirnov distance of the waits' probability integral transform from uniform;
none within bounds means no family, never the least bad one.

>>> import numpy as np
>>> j = np.arange(1, 9)
>>> fit_schedule(j, 2.0 * 1.5 ** (j - 1), tol=0.01)
Schedule(family='exponential', a=2.0, b=1.5, cap=inf, offset=0.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Schedule:
    """A wait that depends only on ``j``: ``a`` after the first poll, then ``+ b`` per
    poll (linear) or ``* b`` (exponential), at most ``cap``; fixed has ``b`` unused."""

    family: str  #: "fixed", "linear" or "exponential"
    a: float
    b: float = 0.0
    cap: float = math.inf
    #: a fixed part added to an exponential (``exponential(1, 2) + fixed(1)``: 1 + 2**k)
    offset: float = 0.0

    def at(self, j: np.ndarray) -> np.ndarray:
        j = np.asarray(j, dtype=float)
        if self.family == "fixed":
            return np.full(j.shape, self.a)
        if self.family == "linear":
            return np.minimum(self.a + self.b * (j - 1), self.cap)
        return np.minimum(self.a * self.b ** (j - 1), self.cap) + self.offset


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
        idx, med, count = _per_index(j, w, np.median)
        s = fit_schedule(idx, med, tol, count, snap=0.001)  # every wait says the same
        err = _schedule_error(s, j, w) if s is not None else math.inf
        return WaitFit(s if err <= tol else None, 0.0 if err <= tol else 1.0, err, n)
    switch = _switch(j, w, prev, tol)
    if switch is not None:
        return switch
    best: tuple[float, int, Jitter] | None = None
    for rank, model in enumerate(_jitter_candidates(j, w, prev, tol)):
        d = ks_distance(model, j, w, prev)
        key = (round(d, 2), rank)
        if best is None or key < (round(best[0], 2), best[1]):
            best = (d, rank, model)
    if best is None:
        return WaitFit(None, 1.0, math.nan, n)
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
    idx, med, count = _per_index(j, w, np.median)
    lookup = dict(zip(idx.tolist(), med.tolist(), strict=True))
    m = np.array([lookup[k] for k in j.tolist()])
    near = np.abs(w - m) <= tol * m + 0.01
    _, share, _ = _per_index(j, near.astype(float), np.mean)
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
    wide = span > 1e-9
    if not wide.any():
        return float(np.mean(np.abs(x - lo) > 0.01 + 0.01 * lo)) if len(x) else 1.0
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


def fit_schedule(
    j: np.ndarray,
    v: np.ndarray,
    tol: float,
    weight: np.ndarray | None = None,
    snap: float = 0.01,
) -> Schedule | None:
    """The schedule through the per-index values ``v`` at ``j`` (each within ``tol``
    relative, looser where ``weight``, the waits behind a value, is small), or None."""
    j, v = np.asarray(j, float), np.asarray(v, float)
    weight = np.ones(len(v)) if weight is None else np.asarray(weight, float)
    allowed = tol + 3.0 / np.maximum(weight, 1)
    candidates: list[Schedule] = [Schedule("fixed", float(_wmedian(v, weight)))]
    # a cap: from the first value near the top on, every value is the cap (the top read
    # robustly: the values of a few waits may overshoot it)
    top = _wquantile(v, weight, 0.9)
    near = np.flatnonzero(v >= (1 - 2 * tol) * top)
    cap = None
    if len(near):
        tail = np.arange(near[0], len(v))
        level = _wmedian(v[tail], weight[tail])
        if len(tail) >= 2 and _fits(np.abs(v[tail] - level) / level, allowed[tail], weight[tail]):
            cap = level
    grow = np.arange(len(v)) < (near[0] if cap is not None else len(v))
    if grow.sum() >= 2 and v[grow].min() > 0:
        jg, vg, wg = j[grow], v[grow], weight[grow]
        slope, icpt = np.polyfit(jg - 1, np.log(vg), 1, w=np.sqrt(wg))
        if slope > 1e-6:
            candidates.append(
                Schedule("exponential", math.exp(icpt), math.exp(slope), cap or math.inf)
            )
        slope, icpt = np.polyfit(jg - 1, vg, 1, w=np.sqrt(wg))
        if slope > 1e-9 and icpt >= 0:
            candidates.append(Schedule("linear", float(icpt), float(slope), cap or math.inf))
        shifted = _offset_exponential(jg, vg, cap) if snap < 0.01 else None
        if shifted is not None:  # four parameters: only where every wait says the same
            candidates.append(shifted)
    best = None
    for s in candidates:
        miss = np.abs(s.at(j) - v) / np.maximum(v, 1e-9)
        if _fits(miss, allowed, weight):
            s = _snapped(s, j, v, allowed, weight, snap)
            err = float(np.max(np.abs(s.at(j) - v) / np.maximum(v, 1e-9)))
            if best is None or (s.family != "fixed" and err < best[0] * 0.5):
                best = (err, s)
    return best[1] if best else None


def _offset_exponential(j: np.ndarray, v: np.ndarray, cap: float | None) -> Schedule | None:
    """``a * b ** (j - 1) + offset`` through consecutive growing values: the steps between
    them grow by ``b``."""
    if len(j) < 3 or not np.all(np.diff(j) == 1):
        return None
    steps = np.diff(v)
    if np.any(steps <= 0):
        return None
    b = float(np.median(steps[1:] / steps[:-1]))
    if not b > 1 + 1e-6:
        return None
    a = float(steps[0] / (b - 1))
    offset = float(v[0] - a)
    if offset <= 1e-3 * v[0]:
        return None
    return Schedule("exponential", a, b, (cap - offset) if cap else math.inf, offset)


def _fits(miss: np.ndarray, allowed: np.ndarray, weight: np.ndarray) -> bool:
    """Within the allowance at the indices behind 97% of the waits (an estimate from a
    few waits strays now and then), and within three times it at every one."""
    within = miss <= allowed
    share = float(weight[within].sum() / weight.sum()) if weight.sum() else 0.0
    return share >= 0.97 and bool(np.all(miss <= 3 * allowed))


def _snapped(s: Schedule, j, v, allowed, weight, snap: float) -> Schedule:
    """The schedule with each parameter given the fewest significant digits that still
    fit (1.4999 is 1.5, 120.56 is 120)."""
    for name in ("a", "b", "cap", "offset"):
        x = getattr(s, name)
        if not math.isfinite(x) or (name == "b" and s.family == "fixed"):
            continue
        for digits in range(1, 5):
            r = float(f"{x:.{digits}g}")
            if r <= 0 or abs(r - x) > snap * abs(x):
                continue
            t = Schedule(s.family, **{**_fields(s), name: r})
            if _fits(np.abs(t.at(j) - v) / np.maximum(v, 1e-9), allowed, weight):
                s = t
                break
    return s


def _fields(s: Schedule) -> dict:
    return {"a": s.a, "b": s.b, "cap": s.cap, "offset": s.offset}


def nice(x: float, rel: float = 0.01) -> float:
    """``x`` with the fewest significant digits that keep it within ``rel`` of itself."""
    if not math.isfinite(x) or x == 0:
        return x
    for digits in range(1, 7):
        r = float(f"{x:.{digits}g}")
        if abs(r - x) <= rel * abs(x):
            return r
    return float(x)


def _schedule_error(s: Schedule, j, w) -> float:
    """The schedule's miss at the 99th percentile of the waits (a wait in a hundred may be
    a retry taken for a poll)."""
    g = s.at(j)
    return float(np.quantile(np.abs(w - g) / np.maximum(g, 1e-9), 0.99))


def _same_per_index(j, w, tol) -> bool:
    """Every client waits the same at each index (within ``tol`` of the index's median,
    and 10 ms for timing noise), but for one wait in a hundred."""
    idx, med, _ = _per_index(j, w, np.median)
    lookup = dict(zip(idx.tolist(), med.tolist(), strict=True))
    m = np.array([lookup[k] for k in j.tolist()])
    return bool(np.mean(np.abs(w - m) <= tol * m + 0.01) >= 0.99)


def _per_index(j, w, stat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    idx, inv, count = np.unique(j, return_inverse=True, return_counts=True)
    order = np.argsort(inv, kind="stable")
    groups = np.split(w[order], np.cumsum(count)[:-1])
    return idx, np.array([stat(g) for g in groups]), count


def _wmedian(v: np.ndarray, weight: np.ndarray) -> float:
    return _wquantile(v, weight, 0.5)


def _wquantile(v: np.ndarray, weight: np.ndarray, q: float) -> float:
    order = np.argsort(v)
    c = np.cumsum(weight[order])
    return float(v[order][min(np.searchsorted(c, c[-1] * q), len(v) - 1)])


def _endpoints(j, w) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per index with enough waits: the uniform's estimated low and high ends (the
    sample's extremes widened by a spacing) and the waits behind them. An extreme that
    stands apart from the rest by more than six spacings (one request held up, as a
    live client's can be) gives way to the next one."""
    idx, lo, count = _per_index(j, w, _low_end)
    _, hi, _ = _per_index(j, w, _high_end)
    keep = count >= min(20, max(2, int(count.max())))  # a few waits say little of the ends
    idx, lo, hi, count = idx[keep], lo[keep], hi[keep], count[keep]
    spacing = (hi - lo) / np.maximum(count - 1, 1)
    return idx, np.maximum(lo - spacing, 0), hi + spacing, count


def _high_end(g: np.ndarray) -> float:
    if len(g) < 3:
        return float(g.max())
    top, second = np.partition(g, len(g) - 2)[-2:][::-1]
    apart = top - second > 6 * (top - g.min()) / (len(g) - 1)
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
        width = nice(_wmedian(hi - lo, count.astype(float)))
        yield Jitter("added", lower, width=width)
    if upper is not None and low > 0:  # after "added": fixed(5) + uniform(0, 2) reads better
        yield Jitter("full", upper, low=low)
    known = ~np.isnan(prev)
    if known.any() and np.all(w[known] <= 3 * np.maximum(prev[known], floor) * 1.02 + 0.01):
        top = float(w.max())
        at_top = np.mean(w >= top * (1 - 1e-6))
        cap = nice(top) if at_top > 0.01 else math.inf
        yield Jitter("decorrelated", None, low=nice(floor), cap=cap)
