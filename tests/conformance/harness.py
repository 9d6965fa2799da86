"""What every conformance test shares: a fake clock that a library's polling code sleeps
on, and a script of what the status API answers at each moment of that clock.

A library runs unmodified; only the clocks it reads are replaced (``FakeTime`` stands in
for the ``time`` module inside the library's modules), so an hour of polling takes no
wall time. The same ``Script`` answers the library (through a loopback server or the
library's transport hook) and the preset (``sim.pollers.replay``), so the two are
compared on the same schedule of answers.
"""

from __future__ import annotations

import math
import time as _real_time
from dataclasses import dataclass, field

from sim.status_server import Response


class FakeTime:
    """A ``time`` module whose clocks start at ``start`` and move only when slept on.
    Every sleep is recorded; what the module does not fake comes from the real one."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.t0 = start
        self.t = start
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        self.sleeps.append(float(seconds))
        self.t += float(seconds)

    def time(self) -> float:
        return self.t

    monotonic = perf_counter = time

    def monotonic_ns(self) -> int:
        return int(self.t * 1e9)

    time_ns = monotonic_ns

    @property
    def elapsed(self) -> float:
        """Seconds of fake time since the clock started."""
        return self.t - self.t0

    def __getattr__(self, name: str):  # strftime, gmtime, struct_time...
        return getattr(_real_time, name)


@dataclass(frozen=True)
class Fault:
    """Requests arriving in ``[start, stop)`` are answered ``http``, with ``retry_after``
    seconds in a Retry-After header if set."""

    start: float
    stop: float
    http: int
    retry_after: float | None = None


@dataclass(frozen=True)
class Script:
    """What the status API answers a request arriving ``t`` seconds after watching
    started: ``running`` until ``ends_at`` (None: never), ``succeeded`` from then on,
    except inside a fault; a 200 carries ``retry_after_on_200`` if set."""

    name: str
    ends_at: float | None = None
    faults: tuple[Fault, ...] = field(default_factory=tuple)
    retry_after_on_200: float | None = None

    def answer(self, t: float) -> Response:
        for f in self.faults:
            if f.start <= t < f.stop:
                return Response(f.http, None, None, f.retry_after)
        done = self.ends_at is not None and t >= self.ends_at
        return Response(200, "succeeded" if done else "running", None, self.retry_after_on_200)

    @property
    def end(self) -> float:
        return math.inf if self.ends_at is None else self.ends_at


#: the schedules of answers every preset is compared on (the issue's list)
SCRIPTS = (
    Script("ends after 95 s", ends_at=95.0),
    Script("never ends"),
    Script("503 for 60 s", ends_at=95.0, faults=(Fault(0, 60, 503),)),
    Script("503 for 60 s, Retry-After 5", ends_at=95.0, faults=(Fault(0, 60, 503, 5.0),)),
    Script("429 for 60 s", ends_at=95.0, faults=(Fault(0, 60, 429),)),
    Script("500 for 60 s", ends_at=95.0, faults=(Fault(0, 60, 500),)),
    Script("Retry-After 0 on 200s", ends_at=95.0, retry_after_on_200=0.0),
    Script("Retry-After 7 on 200s", ends_at=95.0, retry_after_on_200=7.0),
)
BY_NAME = {s.name: s for s in SCRIPTS}
