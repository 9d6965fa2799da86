"""Schedules: waits every client makes the same, as a function of the polls made so far
(``j``, 1 for the wait after the first poll): fixed, linear or exponential, with a cap,
and an exponential plus a fixed part. ``fit_schedule`` finds the one through a value
per index, with its parameters given the fewest significant digits that still fit.

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
        with np.errstate(over="ignore", invalid="ignore"):  # a long watch passes any cap
            grown = self.a * self.b ** (j - 1)
        return np.minimum(np.nan_to_num(grown, nan=math.inf), self.cap) + self.offset


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
    candidates: list[Schedule] = [Schedule("fixed", float(wmedian(v, weight)))]
    # a cap: from the first value near the top on, every value is the cap (the top read
    # robustly: the values of a few waits may overshoot it; and where few waits reach
    # the cap, the late values that did are the top, not the bulk's 90th percentile)
    cap, near = None, np.zeros(0, int)
    for late, top in enumerate((_wquantile(v, weight, 0.9), _late_top(v, weight))):
        near = np.flatnonzero(v >= (1 - 2 * tol) * top)
        if not len(near):
            continue
        tail = np.arange(near[0], len(v))
        level = wmedian(v[tail], weight[tail])
        miss = np.abs(v[tail] - level) / level
        # the late values are of few waits each: each within the tolerance itself
        flat = np.all(miss <= 2 * tol + 0.01) if late else _fits(miss, allowed[tail], weight[tail])
        if len(tail) >= 2 and flat:
            cap = level
            break
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


def _late_top(v: np.ndarray, weight: np.ndarray) -> float:
    """The top of the values at the indices with at least a few waits (a value of one
    or two waits may overshoot)."""
    some = weight >= min(3.0, float(weight.max()))
    return float(np.max(v[some]))


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


def schedule_error(s: Schedule, j, w) -> float:
    """The schedule's miss at the 99th percentile of the waits (a wait in a hundred may be
    a retry taken for a poll)."""
    g = s.at(j)
    return float(np.quantile(np.abs(w - g) / np.maximum(g, 1e-9), 0.99))


def per_index(j, w, stat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    idx, inv, count = np.unique(j, return_inverse=True, return_counts=True)
    order = np.argsort(inv, kind="stable")
    groups = np.split(w[order], np.cumsum(count)[:-1])
    return idx, np.array([stat(g) for g in groups]), count


def wmedian(v: np.ndarray, weight: np.ndarray) -> float:
    return _wquantile(v, weight, 0.5)


def _wquantile(v: np.ndarray, weight: np.ndarray, q: float) -> float:
    order = np.argsort(v)
    c = np.cumsum(weight[order])
    return float(v[order][min(np.searchsorted(c, c[-1] * q), len(v) - 1)])
