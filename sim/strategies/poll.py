"""A polling strategy: a wait, a stop, and how the first poll and each request go.

Waits count from the first poll, as the libraries number them: with ``first`` set (0:
poll at once), the wait after poll ``n`` is the wait at attempt ``n - 1``, so
``poll(exponential(1, 2), first=0)`` polls at 0, 1, 3, 7 (waits 1, 2, 4), like
tenacity's ``wait_exponential`` and google's ``exponential_sleep_generator``. Without
``first``, the wait before the first poll is the wait at attempt 0.

>>> from sim.strategies.waits import exponential, fixed
>>> from sim.strategies.stops import after_delay
>>> from sim.strategies.state import PollState
>>> s = fixed(2) | after_delay(60)
>>> s.next_delay(PollState(attempt=3, elapsed=6.0), None)
2.0
>>> s.next_delay(PollState(attempt=30, elapsed=60.0), None) is None
True
>>> str(s), s.open_loop
('fixed(2) | after_delay(60)', True)
>>> at_once = poll(exponential(1, 2), first=0)
>>> [at_once.next_delay(PollState(attempt=k), None) for k in range(4)]
[0.0, 1.0, 2.0, 4.0]
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from sim.strategies._values import check_non_negative, num, short
from sim.strategies.retries import retries as Retries
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
    #: what the client does inside one poll when a request fails (None: nothing)
    retries: Retries | None = None
    #: an error answer that stands after the retries: "poll" goes on waiting and
    #: polling; "stop" ends the watch, the outcome ``errored`` (as an SDK raises)
    on_error: str = "poll"
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
        if self.retries is not None and not isinstance(self.retries, Retries):
            raise ValueError(
                f"poll: retries must be retries(...) such as retries(3, on=[503]), "
                f"found {short(self.retries)}"
            )
        if self.on_error not in ON_ERROR:
            raise ValueError(
                f"poll: on_error must be one of {', '.join(map(repr, ON_ERROR))}, "
                f"found {short(self.on_error)}"
            )

    def next_delay(self, state: PollState, rng: np.random.Generator | None) -> float | None:
        """Seconds to wait before the next poll, or None: give up (a stop checked after
        the poll, or one checked ahead that the sleep would pass)."""
        if self.stop(state):
            return None
        if state.attempt == 0 and self.first is not None:
            delay = self.first  # the first poll is at its set time, never cut short
        else:
            delay = self.stop.trim(state, self.wait(self.wait_state(state), rng))
        if self.stop.gives_up_ahead(state, delay):
            return None
        return delay

    def wait_state(self, state: PollState) -> PollState:
        """The state the wait sees: with ``first`` set, its attempts count from the
        first poll (the wait after poll n is the wait at attempt n - 1)."""
        if self.first is not None and state.attempt > 0:
            return replace(state, attempt=state.attempt - 1)
        return state

    @property
    def wait_shift(self) -> int:
        """How many polls the wait's attempts lag behind (1 with ``first`` set)."""
        return 0 if self.first is None else 1

    def gives_up_on_waking(self, attempt: int, elapsed: float) -> bool:
        """After a sleep, before poll ``attempt + 1``: whether the client gives up."""
        return self.stop.gives_up_on_waking(attempt, elapsed)

    def stops_on(self, http: int | None) -> bool:
        """Whether an answer that stands after the retries (None: no answer) ends the
        watch as ``errored``."""
        if self.on_error == "poll":
            return False
        return http is None or not (200 <= http < 300 or http == 304)

    @property
    def open_loop(self) -> bool:
        """Needs nothing from the server but the end of the job: the fast path applies."""
        return self.wait.open_loop and self.long_poll is None and "trim" not in self.stop.checks

    @property
    def label(self) -> str:
        return self.name or str(self)

    def __or__(self, other: Stop) -> Strategy:
        if not isinstance(other, Stop):
            return NotImplemented
        stop = other if isinstance(self.stop, never) else self.stop | other
        return replace(self, stop=stop, name=None)

    def __str__(self) -> str:
        plain = self.retries is None and self.on_error == "poll"
        if self.first is None and self.long_poll is None and plain:
            return str(self.wait) if isinstance(self.stop, never) else f"{self.wait} | {self.stop}"
        parts = [str(self.wait)]
        if not isinstance(self.stop, never):
            parts.append(f"stop={self.stop}")
        if self.first is not None:
            parts.append(f"first={num(self.first)}")
        if self.long_poll is not None:
            parts.append(f"long_poll={num(self.long_poll)}")
        if self.retries is not None:
            parts.append(f"retries={self.retries}")
        if self.on_error != "poll":
            parts.append(f"on_error={self.on_error!r}")
        return f"poll({', '.join(parts)})"


#: what a client does with an error answer that stands after its retries
ON_ERROR = ("poll", "stop")


def poll(
    wait: Wait,
    stop: Stop | None = None,
    first: float | None = None,
    long_poll: float | None = None,
    retries: Retries | None = None,
    on_error: str = "poll",
) -> Strategy:
    """A strategy with every option: ``poll(fixed(15), stop=after_polls(40), first=0,
    retries=retries(2, on=[503]), on_error='stop')``."""
    stop = stop if stop is not None else never()
    return Strategy(wait, stop, first, long_poll, retries, on_error)
