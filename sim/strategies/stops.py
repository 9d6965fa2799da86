"""Stops: when a client gives up watching. ``|`` stops when either does, ``&`` when both.

>>> from sim.strategies.state import PollState
>>> stop = after_delay(60) | after_polls(10)
>>> stop(PollState(attempt=3, elapsed=61.0)), stop(PollState(attempt=3, elapsed=5.0))
(True, False)
>>> str(stop)
'after_delay(60) | after_polls(10)'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.limits import MAX_POLLS
from sim.strategies._values import check_non_negative, num, short
from sim.strategies.state import PollState


class Stop:
    """Whether the client gives up now, before its next poll. Every stop is a threshold
    on the time watched that depends on the polls made so far: a client gives up once
    ``elapsed >= threshold(attempt)``. ``|`` takes the lower threshold, ``&`` the higher,
    which is what lets the fast path evaluate any stop inside its compiled loop."""

    def __repr__(self) -> str:
        return str(self)

    def __call__(self, state: PollState) -> bool:
        return state.elapsed >= self.threshold(state.attempt)

    def threshold(self, attempt: int) -> float:
        """After ``attempt`` polls, the time watched from which the client gives up
        (0: at once; inf: not at this attempt)."""
        raise NotImplementedError

    def thresholds(self, attempts: np.ndarray) -> np.ndarray:
        """``threshold`` of each of ``attempts`` (an integer array), as an array."""
        return np.array([self.threshold(int(a)) for a in attempts], dtype=float)

    def __or__(self, other: Stop) -> Stop:
        if not isinstance(other, Stop):
            return NotImplemented
        return stop_any(_parts(self, stop_any) + _parts(other, stop_any))

    def __and__(self, other: Stop) -> Stop:
        if not isinstance(other, Stop):
            return NotImplemented
        return stop_all(_parts(self, stop_all) + _parts(other, stop_all))


def _parts(s: Stop, kind: type) -> tuple[Stop, ...]:
    return s.stops if isinstance(s, kind) else (s,)  # type: ignore[attr-defined]


@dataclass(frozen=True, repr=False)
class never(Stop):
    """Poll until the job ends, however long it takes."""

    def threshold(self, attempt):
        return math.inf

    def thresholds(self, attempts):
        return np.full(len(attempts), math.inf)

    def __str__(self) -> str:
        return "never()"


@dataclass(frozen=True, repr=False)
class after_delay(Stop):
    """Give up once ``seconds`` have passed since the client started watching."""

    seconds: float

    def __post_init__(self) -> None:
        check_non_negative(self, "after_delay", "seconds")

    def threshold(self, attempt):
        return float(self.seconds)

    def thresholds(self, attempts):
        return np.full(len(attempts), float(self.seconds))

    def __str__(self) -> str:
        return f"after_delay({num(self.seconds)})"


@dataclass(frozen=True, repr=False)
class after_polls(Stop):
    """Give up after ``n`` polls."""

    n: int

    def __post_init__(self) -> None:
        n = self.n
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_POLLS:
            raise ValueError(
                f"after_polls: n must be a whole number from 1 to {MAX_POLLS:,}, found {short(n)}"
            )

    def threshold(self, attempt):
        return 0.0 if attempt >= self.n else math.inf

    def thresholds(self, attempts):
        return np.where(np.asarray(attempts) >= self.n, 0.0, math.inf)

    def __str__(self) -> str:
        return f"after_polls({self.n})"


@dataclass(frozen=True, repr=False)
class stop_any(Stop):
    """Stops when any of its stops does (``a | b``)."""

    stops: tuple[Stop, ...]

    def threshold(self, attempt):
        return min(s.threshold(attempt) for s in self.stops)

    def thresholds(self, attempts):
        return np.minimum.reduce([s.thresholds(attempts) for s in self.stops])

    def __str__(self) -> str:
        return " | ".join(f"({s})" if isinstance(s, stop_all) else str(s) for s in self.stops)


@dataclass(frozen=True, repr=False)
class stop_all(Stop):
    """Stops when all of its stops do (``a & b``)."""

    stops: tuple[Stop, ...]

    def threshold(self, attempt):
        return max(s.threshold(attempt) for s in self.stops)

    def thresholds(self, attempts):
        return np.maximum.reduce([s.thresholds(attempts) for s in self.stops])

    def __str__(self) -> str:
        return " & ".join(f"({s})" if isinstance(s, stop_any) else str(s) for s in self.stops)
