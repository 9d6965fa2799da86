"""The scaled clock: simulated seconds from wall-clock time, ``(monotonic() - t0) * speed``,
and the ISO 8601 timestamps a client would see at that speed.

>>> clock = ScaledClock(60, wall=lambda: 10.0, epoch=0.0)
>>> clock.now()
0.0
>>> clock.wall = lambda: 11.0  # one wall second later: a simulated minute
>>> clock.now(), clock.iso(90.5)
(60.0, '1970-01-01T00:01:30.500Z')
>>> late = ScaledClock(60, wall=lambda: 10.0, epoch=0.0, start_in=2.0)
>>> late.now()  # simulated time stands at 0 for the first two wall seconds
0.0
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime


class ScaledClock:
    """Simulated time runs ``speed`` times as fast as wall time from ``start_in`` wall
    seconds after the clock is made (standing at 0 until then: time for clients to get
    ready); timestamps count simulated seconds from ``epoch`` (the wall time, in seconds
    since 1970, at simulated 0)."""

    def __init__(
        self,
        speed: float,
        wall: Callable[[], float] = time.monotonic,
        epoch: float | None = None,
        start_in: float = 0.0,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, found {speed}")
        self.speed = float(speed)
        self.wall = wall
        if not start_in >= 0:
            raise ValueError(f"start_in must be >= 0, found {start_in}")
        self.t0 = wall() + start_in
        self.epoch = time.time() + start_in if epoch is None else epoch

    def now(self) -> float:
        """Simulated seconds since the clock started (0 before)."""
        return max(0.0, (self.wall() - self.t0) * self.speed)

    def restarted(self) -> ScaledClock:
        """A clock at the same speed, on the same wall clock, at simulated 0 now (no
        ``start_in`` wait: that was for the first start); its timestamps go on from
        the time this one shows now, so that a restarted server's dates do not go back."""
        return ScaledClock(self.speed, self.wall, self.epoch + self.now())

    def wall_after(self, sim_seconds: float) -> float:
        """Wall seconds until simulated time ``now() + sim_seconds``."""
        return sim_seconds / self.speed

    def iso(self, t: float | None) -> str | None:
        """Simulated time ``t`` as ISO 8601 UTC, to the millisecond (None stays None)."""
        if t is None:
            return None
        stamp = datetime.fromtimestamp(self.epoch + t, tz=UTC)
        return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
