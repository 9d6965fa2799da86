"""Injected faults: which one a status request gets, drawn in request order from a
generator seeded from the scenario (the same requests in the same order get the same
faults), per-client token buckets for rate limiting (at most ``max_clients`` of them, the
least recently used forgotten first), and outage windows on the simulated clock.

>>> import numpy as np
>>> from sim.mock_spec import FaultSpec
>>> f = Faults(FaultSpec(errors={503: 1.0}), np.random.default_rng(1))
>>> f.draw()
Decision(kind='503', delay=0.0)
>>> f.limited("c", now=0.0) is None  # no rate limit set
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.limits import MAX_DURATION
from sim.mock_spec import FaultSpec
from sim.status_server import Outage

#: faults the HTTP front carries out on the connection, rather than as a status code
TRANSPORT = ("reset", "empty", "malformed", "dribble")


@dataclass(frozen=True)
class Decision:
    """What a status request gets: a fault (None: an honest answer) after ``delay`` wall
    seconds of injected latency."""

    kind: str | None = None
    delay: float = 0.0


NONE = Decision()
MAX_CLIENTS = 100_000  #: token buckets kept, by default


class Faults:
    """The faults of one server run; ``spec`` and ``outages`` may change while it runs."""

    def __init__(
        self,
        spec: FaultSpec,
        rng: np.random.Generator,
        outages: tuple[Outage, ...] = (),
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self.spec = spec
        self.rng = rng
        self.outages = tuple(outages)
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> tokens, when
        #: what ``restarted`` goes back to: the run's own faults and the generator's start
        self._initial = (spec, self.outages, rng.bit_generator.state)

    def restarted(self) -> Faults:
        """The faults the run started with (whatever ``PUT /_admin/faults`` made of them
        since), their generator back at its start (the same requests in the same order
        get the same faults again) and every rate-limit bucket full."""
        spec, outages, state = self._initial
        rng = np.random.Generator(type(self.rng.bit_generator)())
        rng.bit_generator.state = state
        return Faults(spec, rng, outages, self.max_clients)

    @property
    def spec(self) -> FaultSpec:
        return self._spec

    @spec.setter
    def spec(self, spec: FaultSpec) -> None:
        self._spec = spec
        self._total = spec.total
        self._quiet = self._total == 0 and spec.latency is None  # the common case

    @property
    def inert(self) -> bool:
        """Nothing can happen to a request: no fault, latency, outage or rate limit."""
        return self._quiet and not self.outages and self._spec.rate_limit is None

    def draw(self) -> Decision:
        """The fault of the next status request, and its injected latency."""
        if self._quiet:
            return NONE
        spec = self.spec
        kind = None
        if self._total > 0:
            u = self.rng.random()
            for name, p in self._choices():
                if u < p:
                    kind = name
                    break
                u -= p
        delay = 0.0
        if spec.latency is not None and (
            spec.latency_probability >= 1 or self.rng.random() < spec.latency_probability
        ):
            delay = max(0.0, float(spec.latency.sample(self.rng)))
        return Decision(kind, delay) if kind or delay else NONE

    def _choices(self):
        spec = self.spec
        yield from ((str(code), p) for code, p in sorted(spec.errors.items()))
        yield from (("reset", spec.reset), ("empty", spec.empty))
        yield from (("malformed", spec.malformed), ("dribble", spec.dribble))

    def limited(self, client: str, now: float) -> float | None:
        """Take a token from the client's bucket at wall time ``now``: None if it had
        one, else the seconds until it will (its Retry-After)."""
        if self.spec.rate_limit is None:
            return None
        rate, burst = self.spec.rate_limit
        buckets = self._buckets
        tokens, when = buckets.pop(client, (float(burst), now))  # back in, as the newest
        tokens = min(float(burst), tokens + (now - when) * rate)
        if len(buckets) >= self.max_clients:  # forget the least recently seen: a full bucket
            del buckets[next(iter(buckets))]
        if tokens >= 1:
            buckets[client] = (tokens - 1, now)
            return None
        buckets[client] = (tokens, now)
        return (1 - tokens) / rate

    def outage(self, t: float) -> Outage | None:
        """The outage window simulated time ``t`` falls in, if any."""
        if not self.outages:
            return None
        for o in self.outages:
            if o.start <= t < o.start + o.duration:
                return o
        return None


def retry_after_header(seconds: float) -> str:
    """Retry-After in whole seconds, rounded up (a client that waits that long is safe),
    at most the bound on any duration (a rate limit of 1e-300/s asked for 300 digits).

    >>> retry_after_header(0.2), retry_after_header(2.0), retry_after_header(1e300)
    ('1', '2', '315360000')
    """
    if not seconds < MAX_DURATION:  # inf and NaN too
        return str(int(MAX_DURATION))
    return str(max(1, math.ceil(seconds - 1e-9)))
