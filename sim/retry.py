"""Automatic retry policies of the job system (not the client's polling): how long a step
that failed transiently waits before its next attempt, and when attempts run out.

>>> policy = ScheduleRetry((600, 1200, 2400, 4800, 9600))
>>> policy.max_attempts, sum(policy.delay(n, None) for n in range(1, 6)) / 60
(6, 310.0)
>>> policy.delay(6, None) is None
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.limits import MAX_DURATION

JITTERS = ("none", "full", "equal")


class RetryPolicy:
    """Decides the wait before retry number ``n`` (1 for the first retry), or None: give up."""

    max_attempts: int

    def delay(self, n: int, rng: np.random.Generator | None) -> float | None:
        raise NotImplementedError


@dataclass(frozen=True)
class NoRetry(RetryPolicy):
    """Every transient failure is final."""

    max_attempts: int = 1

    def delay(self, n: int, rng: np.random.Generator | None) -> float | None:
        return None


@dataclass(frozen=True)
class FixedRetry(RetryPolicy):
    """The same wait before every retry."""

    wait: float
    max_attempts: int = 3

    def __post_init__(self) -> None:
        _check_attempts(self.max_attempts)
        if not math.isfinite(self.wait) or self.wait < 0:
            raise ValueError(f"fixed retry needs delay >= 0, found {self.wait}")

    def delay(self, n: int, rng: np.random.Generator | None) -> float | None:
        return self.wait if n < self.max_attempts else None


@dataclass(frozen=True)
class ScheduleRetry(RetryPolicy):
    """An explicit list of waits, one per retry (10m, 20m, 40m, 80m, 160m); the last repeats
    when max_attempts asks for more retries than the list has."""

    waits: tuple[float, ...]
    max_attempts: int = 0  # 0: one attempt more than the schedule has waits

    def __post_init__(self) -> None:
        if not self.waits:
            raise ValueError("a retry schedule needs at least one wait")
        if any(not math.isfinite(w) or w < 0 for w in self.waits):
            raise ValueError(f"a retry schedule needs waits >= 0, found {list(self.waits)}")
        if self.max_attempts == 0:
            object.__setattr__(self, "max_attempts", len(self.waits) + 1)
        _check_attempts(self.max_attempts)

    def delay(self, n: int, rng: np.random.Generator | None) -> float | None:
        if n >= self.max_attempts:
            return None
        return self.waits[min(n, len(self.waits)) - 1]


@dataclass(frozen=True)
class ExponentialRetry(RetryPolicy):
    """``base * multiplier**(n-1)`` capped at ``cap``, with optional full or equal jitter."""

    base: float
    multiplier: float = 2.0
    cap: float = math.inf
    max_attempts: int = 5
    jitter: str = "none"

    def __post_init__(self) -> None:
        _check_attempts(self.max_attempts)
        if not math.isfinite(self.base) or self.base < 0:
            raise ValueError(f"exponential retry needs base >= 0, found {self.base}")
        if not math.isfinite(self.multiplier) or self.multiplier < 1:
            raise ValueError(f"exponential retry needs multiplier >= 1, found {self.multiplier}")
        if self.cap < self.base:
            raise ValueError(f"exponential retry needs cap >= base, found cap={self.cap}")
        if self.jitter not in JITTERS:
            raise ValueError(f"jitter must be one of {', '.join(JITTERS)}, found {self.jitter!r}")

    def delay(self, n: int, rng: np.random.Generator | None) -> float | None:
        if n >= self.max_attempts:
            return None
        try:
            grown = self.base * self.multiplier ** (n - 1)
        except OverflowError:  # past any cap: 1000 retries of a factor 1000
            grown = math.inf
        d = min(self.cap, grown, MAX_DURATION)
        if self.jitter == "full":
            return d * rng.random()
        if self.jitter == "equal":
            return d / 2 + d / 2 * rng.random()
        return d


def _check_attempts(n: int) -> None:
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"max_attempts must be a whole number >= 1, found {n!r}")
