"""The scaled clock: simulated seconds from wall-clock time, ``(monotonic() - t0) * speed``,
and the ISO 8601 timestamps a client would see at that speed.

>>> clock = ScaledClock(60, wall=lambda: 10.0, epoch=0.0)
>>> clock.now()
0.0
>>> clock.wall = lambda: 11.0  # one wall second later: a simulated minute
>>> clock.now(), clock.iso(90.5)
(60.0, '1970-01-01T00:01:30.500Z')
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime


class ScaledClock:
    """Simulated time runs ``speed`` times as fast as wall time from the moment the clock
    is made; timestamps count simulated seconds from ``epoch`` (the wall time, in seconds
    since 1970, when the clock was made)."""

    def __init__(
        self,
        speed: float,
        wall: Callable[[], float] = time.monotonic,
        epoch: float | None = None,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, found {speed}")
        self.speed = float(speed)
        self.wall = wall
        self.t0 = wall()
        self.epoch = time.time() if epoch is None else epoch

    def now(self) -> float:
        """Simulated seconds since the clock was made."""
        return (self.wall() - self.t0) * self.speed

    def wall_after(self, sim_seconds: float) -> float:
        """Wall seconds until simulated time ``now() + sim_seconds``."""
        return sim_seconds / self.speed

    def iso(self, t: float | None) -> str | None:
        """Simulated time ``t`` as ISO 8601 UTC, to the millisecond (None stays None)."""
        if t is None:
            return None
        stamp = datetime.fromtimestamp(self.epoch + t, tz=UTC)
        return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
