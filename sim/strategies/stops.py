"""Stops: when a client gives up watching. ``|`` stops when either does, ``&`` when both.

A stop is checked at one of three moments, as real pollers check their deadlines:
after each poll (``check='poll'``, the default), before each sleep against the time the
sleep would end (``'ahead'``: google-api-core's retry deadline never lets a poll start
past it), or on waking, before the poll (``'wake'``: a ``while elapsed <= timeout``
loop, which gives up one sleep after its last poll).

>>> from sim.strategies.state import PollState
>>> stop = after_delay(60) | after_polls(10)
>>> stop(PollState(attempt=3, elapsed=61.0)), stop(PollState(attempt=3, elapsed=5.0))
(True, False)
>>> str(stop)
'after_delay(60) | after_polls(10)'
>>> google = after_delay(900, check="ahead")
>>> google.gives_up_ahead(PollState(attempt=50, elapsed=890.0), 12.0), str(google)
(True, "after_delay(900, check='ahead')")
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.limits import MAX_POLLS
from sim.strategies._values import check_non_negative, num, short
from sim.strategies.state import PollState

#: the moments a stop may be checked at (see the module's docstring); a ``max_wait``
#: also trims the last sleep ("trim")
CHECKS = ("poll", "ahead", "wake")


class Stop:
    """Whether the client gives up. Every stop is a threshold on the time watched that
    depends on the polls made so far, checked at one moment: after a poll, a client
    gives up once ``elapsed >= threshold(attempt)``; before a sleep, once ``elapsed +
    sleep > ahead(attempt)``; on waking, once ``elapsed > wake(attempt)``. ``|`` takes
    the lower threshold of each, ``&`` the higher (of stops checked at the same moment),
    which is what lets the fast path evaluate any stop inside its compiled loop."""

    def __repr__(self) -> str:
        return str(self)

    def __call__(self, state: PollState) -> bool:
        """Whether the client gives up after the poll ``state`` follows (before the
        first poll there is none to check after: a deadline of 0 still polls once)."""
        return state.attempt > 0 and state.elapsed >= self.threshold(state.attempt)

    def gives_up_ahead(self, state: PollState, sleep: float) -> bool:
        """Whether the client gives up rather than sleep ``sleep`` seconds and poll."""
        limit = self.ahead(state.attempt)
        return limit < math.inf and round(state.elapsed + sleep, 9) > limit

    def gives_up_on_waking(self, attempt: int, elapsed: float) -> bool:
        """Whether the client, waking ``elapsed`` seconds into the watch after
        ``attempt`` polls, gives up instead of polling."""
        limit = self.wake(attempt)
        return limit < math.inf and round(elapsed, 9) > limit

    def trim(self, state: PollState, sleep: float) -> float:
        """The sleep the client takes instead of ``sleep`` (a stop may cut the last one
        short to poll at its deadline, as a Smithy waiter does)."""
        return sleep

    def threshold(self, attempt: int) -> float:
        """After ``attempt`` polls, the time watched from which the client gives up
        (0: at once; inf: not at this attempt)."""
        return math.inf

    def ahead(self, attempt: int) -> float:
        """After ``attempt`` polls, the time watched that no sleep may end past."""
        return math.inf

    def wake(self, attempt: int) -> float:
        """After ``attempt`` polls, the time watched past which a client that wakes
        gives up."""
        return math.inf

    @property
    def checks(self) -> frozenset[str]:
        """The moments this stop is checked at."""
        return frozenset({"poll"})

    def thresholds(self, attempts: np.ndarray) -> np.ndarray:
        """``threshold`` of each of ``attempts`` (an integer array), as an array."""
        return np.array([self.threshold(int(a)) for a in attempts], dtype=float)

    def aheads(self, attempts: np.ndarray) -> np.ndarray:
        """``ahead`` of each of ``attempts``, as an array."""
        return np.array([self.ahead(int(a)) for a in attempts], dtype=float)

    def wakes(self, attempts: np.ndarray) -> np.ndarray:
        """``wake`` of each of ``attempts``, as an array."""
        return np.array([self.wake(int(a)) for a in attempts], dtype=float)

    def after_poll(self, attempts: np.ndarray) -> np.ndarray:
        """``thresholds``, as checked: none before the first poll (attempt 0)."""
        out = self.thresholds(attempts)
        out[np.asarray(attempts) == 0] = math.inf
        return out

    def __or__(self, other: Stop) -> Stop:
        if not isinstance(other, Stop):
            return NotImplemented
        parts = [p for p in _parts(self, stop_any) + _parts(other, stop_any) if p != never()]
        if len(parts) <= 1:  # never() | x is x: it stops when x does
            return parts[0] if parts else never()
        return stop_any(tuple(parts))

    def __and__(self, other: Stop) -> Stop:
        if not isinstance(other, Stop):
            return NotImplemented
        parts = _parts(self, stop_all) + _parts(other, stop_all)
        if never() in parts:  # never() & x never stops
            return never()
        return stop_all(parts)


def _parts(s: Stop, kind: type) -> tuple[Stop, ...]:
    return s.stops if isinstance(s, kind) else (s,)  # type: ignore[attr-defined]


@dataclass(frozen=True, repr=False)
class never(Stop):
    """Poll until the job ends, however long it takes."""

    def thresholds(self, attempts):
        return np.full(len(attempts), math.inf)

    def aheads(self, attempts):
        return np.full(len(attempts), math.inf)

    wakes = aheads

    @property
    def checks(self) -> frozenset[str]:
        return frozenset()

    def __str__(self) -> str:
        return "never()"


@dataclass(frozen=True, repr=False)
class after_delay(Stop):
    """Give up once ``seconds`` have passed since the client started watching, checked
    after each poll (``check='poll'``), before each sleep against its end (``'ahead'``)
    or on waking (``'wake'``)."""

    seconds: float
    check: str = "poll"

    def __post_init__(self) -> None:
        check_non_negative(self, "after_delay", "seconds")
        if self.check not in CHECKS:
            raise ValueError(
                f"after_delay: check must be one of {', '.join(map(repr, CHECKS))}, "
                f"found {short(self.check)}"
            )

    def _at(self, moment: str) -> float:
        return float(self.seconds) if self.check == moment else math.inf

    def threshold(self, attempt):
        return self._at("poll")

    def ahead(self, attempt):
        return self._at("ahead")

    def wake(self, attempt):
        return self._at("wake")

    def thresholds(self, attempts):
        return np.full(len(attempts), self._at("poll"))

    def aheads(self, attempts):
        return np.full(len(attempts), self._at("ahead"))

    def wakes(self, attempts):
        return np.full(len(attempts), self._at("wake"))

    @property
    def checks(self) -> frozenset[str]:
        return frozenset({self.check})

    def __str__(self) -> str:
        check = "" if self.check == "poll" else f", check={self.check!r}"
        return f"after_delay({num(self.seconds)}{check})"


@dataclass(frozen=True, repr=False)
class max_wait(Stop):
    """A Smithy waiter's maximum wait (``maxWaitTime``): a sleep that would end within
    ``min_delay`` of ``seconds`` after the start, or past it, is cut to end there, for
    one last poll at the deadline; after it, the client gives up ("Waiter retries":
    ``if remainingTime - delay <= minDelay: delay = remainingTime``)."""

    seconds: float
    min_delay: float = 2.0

    def __post_init__(self) -> None:
        check_non_negative(self, "max_wait", "seconds", "min_delay")

    def trim(self, state, sleep):
        left = self.seconds - state.elapsed
        return max(left, 0.0) if round(left - sleep, 9) <= self.min_delay else sleep

    def threshold(self, attempt):
        return float(self.seconds)

    def thresholds(self, attempts):
        return np.full(len(attempts), float(self.seconds))

    @property
    def checks(self) -> frozenset[str]:
        return frozenset({"poll", "trim"})

    def __str__(self) -> str:
        low = "" if self.min_delay == 2 else f", min_delay={num(self.min_delay)}"
        return f"max_wait({num(self.seconds)}{low})"


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

    def ahead(self, attempt):
        return min(s.ahead(attempt) for s in self.stops)

    def trim(self, state, sleep):
        for s in self.stops:
            sleep = s.trim(state, sleep)
        return sleep

    def wake(self, attempt):
        return min(s.wake(attempt) for s in self.stops)

    def thresholds(self, attempts):
        return np.minimum.reduce([s.thresholds(attempts) for s in self.stops])

    def aheads(self, attempts):
        return np.minimum.reduce([s.aheads(attempts) for s in self.stops])

    def wakes(self, attempts):
        return np.minimum.reduce([s.wakes(attempts) for s in self.stops])

    @property
    def checks(self) -> frozenset[str]:
        return frozenset().union(*(s.checks for s in self.stops))

    def __str__(self) -> str:
        return " | ".join(f"({s})" if isinstance(s, stop_all) else str(s) for s in self.stops)


@dataclass(frozen=True, repr=False)
class stop_all(Stop):
    """Stops when all of its stops do (``a & b``)."""

    stops: tuple[Stop, ...]

    def __post_init__(self) -> None:
        if any("trim" in s.checks for s in self.stops):
            raise ValueError("&: a max_wait joins other stops with | only")
        moments = {m for s in self.stops for m in s.checks}
        if len(moments) > 1:
            raise ValueError(
                "&: both stops must be checked at the same moment (check='poll', 'ahead' "
                f"or 'wake'), found {' and '.join(sorted(moments))}"
            )

    def threshold(self, attempt):
        return max(s.threshold(attempt) for s in self.stops)

    def ahead(self, attempt):
        return max(s.ahead(attempt) for s in self.stops)

    def wake(self, attempt):
        return max(s.wake(attempt) for s in self.stops)

    def thresholds(self, attempts):
        return np.maximum.reduce([s.thresholds(attempts) for s in self.stops])

    def aheads(self, attempts):
        return np.maximum.reduce([s.aheads(attempts) for s in self.stops])

    def wakes(self, attempts):
        return np.maximum.reduce([s.wakes(attempts) for s in self.stops])

    @property
    def checks(self) -> frozenset[str]:
        return frozenset().union(*(s.checks for s in self.stops))

    def __str__(self) -> str:
        return " & ".join(f"({s})" if isinstance(s, stop_any) else str(s) for s in self.stops)
