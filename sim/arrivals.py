"""Arrival processes: when jobs are submitted, drawn up front as a sorted array of times.

>>> import numpy as np
>>> times = Poisson(rate=2.0).times(1000.0, np.random.default_rng(1))
>>> bool(abs(len(times) / 1000.0 - 2.0) < 0.1), bool(np.all(np.diff(times) >= 0))
(True, True)
>>> Bursts(((60.0, 3, None),)).times(100.0, None).tolist()
[60.0, 60.0, 60.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


class Arrivals:
    """Submit times in [0, horizon), sorted."""

    def times(self, horizon: float, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def expected(self, horizon: float) -> float:
        """How many submit times ``times`` draws on average: what sizes a run."""
        raise NotImplementedError


@dataclass(frozen=True)
class NoArrivals(Arrivals):
    """No background arrivals (bursts or scripted jobs only)."""

    def times(self, horizon: float, rng: np.random.Generator) -> np.ndarray:
        return np.empty(0)

    def expected(self, horizon: float) -> float:
        return 0.0


@dataclass(frozen=True)
class Poisson(Arrivals):
    """A homogeneous Poisson process of ``rate`` jobs per second."""

    rate: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate) and self.rate >= 0):
            raise ValueError(f"poisson rate must be >= 0, found {self.rate}")

    def times(self, horizon: float, rng: np.random.Generator) -> np.ndarray:
        if self.rate == 0 or horizon <= 0:
            return np.empty(0)
        # Given the count, Poisson arrival times are uniform order statistics.
        n = rng.poisson(self.rate * horizon)
        return np.sort(rng.uniform(0.0, horizon, n))

    def expected(self, horizon: float) -> float:
        return self.rate * max(horizon, 0.0)


@dataclass(frozen=True)
class Diurnal(Arrivals):
    """A Poisson process whose rate follows a curve, piecewise constant over ``period``
    (by default 24 rates, one per hour of a day that repeats)."""

    rates: tuple[float, ...]
    period: float = 86400.0

    def __post_init__(self) -> None:
        if not self.rates:
            raise ValueError("diurnal needs at least one rate")
        if any(not math.isfinite(r) or r < 0 for r in self.rates):
            raise ValueError(f"diurnal rates must be >= 0, found {list(self.rates)}")
        if not self.period > 0:
            raise ValueError(f"diurnal period must be > 0, found {self.period}")

    def rate_at(self, t: float) -> float:
        slot = self.period / len(self.rates)
        return self.rates[int((t % self.period) // slot)]

    def times(self, horizon: float, rng: np.random.Generator) -> np.ndarray:
        slot = self.period / len(self.rates)
        starts = np.arange(0.0, horizon, slot)
        ends = np.minimum(starts + slot, horizon)
        rates = np.array([self.rate_at(s) for s in starts])
        counts = rng.poisson(rates * (ends - starts))
        lows = np.repeat(starts, counts)
        widths = np.repeat(ends - starts, counts)
        return np.sort(lows + widths * rng.random(lows.size))

    def expected(self, horizon: float) -> float:
        slot = self.period / len(self.rates)
        periods, rest = divmod(max(horizon, 0.0), self.period)
        total = periods * slot * sum(self.rates)
        return total + sum(
            r * min(slot, max(0.0, rest - i * slot)) for i, r in enumerate(self.rates)
        )

    def slots(self, horizon: float) -> float:
        """The constant-rate slots ``times`` draws over ``horizon``, an array each."""
        return max(horizon, 0.0) / (self.period / len(self.rates))


@dataclass(frozen=True)
class Replay(Arrivals):
    """Submit times replayed from a log (seconds from the start); ``templates`` optionally
    names each job's template."""

    submit: tuple[float, ...]
    templates: tuple[str | None, ...] = ()

    def times(self, horizon: float, rng: np.random.Generator) -> np.ndarray:
        t = np.asarray(self.submit, dtype=float)
        return np.sort(t[t < horizon])

    def expected(self, horizon: float) -> float:
        return float(sum(1 for t in self.submit if t < horizon))


@dataclass(frozen=True)
class Bursts(Arrivals):
    """``count`` jobs submitted together at ``at``, optionally of one template each burst."""

    bursts: tuple[tuple[float, int, str | None], ...]

    def times(self, horizon: float, rng: np.random.Generator) -> np.ndarray:
        out = [np.full(n, at) for at, n, _ in self.bursts if at < horizon]
        return np.sort(np.concatenate(out)) if out else np.empty(0)

    def expected(self, horizon: float) -> float:
        return float(sum(n for at, n, _ in self.bursts if at < horizon))
