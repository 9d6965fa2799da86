"""A polling strategy: a wait, a stop, and how the first poll and each request go.

>>> from sim.strategies.waits import fixed
>>> from sim.strategies.stops import after_delay
>>> from sim.strategies.state import PollState
>>> s = fixed(2) | after_delay(60)
>>> s.next_delay(PollState(attempt=3, elapsed=6.0), None)
2.0
>>> s.next_delay(PollState(attempt=30, elapsed=60.0), None) is None
True
>>> str(s), s.open_loop
('fixed(2) | after_delay(60)', True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.strategies._values import check_non_negative, num
from sim.strategies.state import PollState
from sim.strategies.stops import Stop, never
from sim.strategies.waits import Wait


@dataclass(frozen=True)
class Strategy:
    """How a client polls one job. Pure: no I/O, no clock, no SimPy; randomness only from
    the generator handed to ``next_delay``. The same value drives simulated pollers, the
    fast path and Locust users."""

    wait: Wait
    stop: Stop = field(default_factory=never)
    #: the wait before the first poll; None: the wait's own for attempt 0
    first: float | None = None
    #: ask the server to hold each request up to this many seconds for a change
    long_poll: float | None = None
    #: the preset it came from, for display only
    name: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.wait, Wait):
            raise ValueError(f"a strategy's wait must be a wait, found {self.wait}")
        if not isinstance(self.stop, Stop):
            raise ValueError(f"a strategy's stop must be a stop, found {self.stop}")
        if self.first is not None:
            check_non_negative(self, "poll", "first")
        if self.long_poll is not None:
            check_non_negative(self, "poll", "long_poll")

    def next_delay(self, state: PollState, rng: np.random.Generator | None) -> float | None:
        """Seconds to wait before the next poll, or None: give up."""
        if self.stop(state):
            return None
        if state.attempt == 0 and self.first is not None:
            return self.first
        return self.wait(state, rng)

    @property
    def open_loop(self) -> bool:
        """Needs nothing from the server but the end of the job: the fast path applies."""
        return self.wait.open_loop and self.long_poll is None

    @property
    def label(self) -> str:
        return self.name or str(self)

    def __or__(self, other: Stop) -> Strategy:
        if not isinstance(other, Stop):
            return NotImplemented
        stop = other if isinstance(self.stop, never) else self.stop | other
        return Strategy(self.wait, stop, self.first, self.long_poll)

    def __str__(self) -> str:
        if self.first is None and self.long_poll is None:
            return str(self.wait) if isinstance(self.stop, never) else f"{self.wait} | {self.stop}"
        parts = [str(self.wait)]
        if not isinstance(self.stop, never):
            parts.append(f"stop={self.stop}")
        if self.first is not None:
            parts.append(f"first={num(self.first)}")
        if self.long_poll is not None:
            parts.append(f"long_poll={num(self.long_poll)}")
        return f"poll({', '.join(parts)})"


def poll(
    wait: Wait, stop: Stop | None = None, first: float | None = None, long_poll: float | None = None
) -> Strategy:
    """A strategy with every option: ``poll(fixed(15), stop=after_polls(40), first=0)``."""
    return Strategy(wait, stop if stop is not None else never(), first, long_poll)
