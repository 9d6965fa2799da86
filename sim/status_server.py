"""A model of the status API as the pollers meet it: c workers with a service time, a
queue limit beyond which it answers 429 with Retry-After, and outages during which it
answers 503 or nothing at all.

>>> spec = ServerSpec(workers=4, queue_limit=100, outages=(Outage(60, 30),))
>>> spec.outage_at(75).mode, spec.outage_at(95) is None, spec.needs_feedback
('503', True, True)
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import NamedTuple

import simpy

from sim.distributions import Constant, Distribution
from sim.timelines import Timeline

OUTAGE_MODES = ("503", "no_answer", "stall")


@dataclass(frozen=True)
class Outage:
    """From ``start`` for ``duration`` seconds the API answers 503 (with Retry-After); with
    ``mode = "no_answer"`` it drops requests, so clients wait for their own timeout; with
    ``mode = "stall"`` it holds them and answers all at once when it recovers (the backlog
    that synchronises clients into a thundering herd)."""

    start: float
    duration: float
    mode: str = "503"

    def __post_init__(self) -> None:
        if not (self.start >= 0 and self.duration >= 0 and math.isfinite(self.duration)):
            raise ValueError(f"an outage needs start, duration >= 0, found {self}")
        if self.mode not in OUTAGE_MODES:
            raise ValueError(f"outage mode must be one of {', '.join(OUTAGE_MODES)}")


@dataclass(frozen=True)
class ServerSpec:
    """The status API's capacity and faults. The defaults are an API that is never the
    bottleneck: unlimited workers, no service time, no outages."""

    workers: int | None = None
    service_time: Distribution = field(default_factory=lambda: Constant(0.0))
    queue_limit: int | None = None  #: requests waiting beyond which it answers 429
    retry_after: float = 5.0  #: seconds, sent with every 429 and 503
    outages: tuple[Outage, ...] = ()

    def outage_at(self, t: float) -> Outage | None:
        for o in self.outages:
            if o.start <= t < o.start + o.duration:
                return o
        return None

    @property
    def needs_feedback(self) -> bool:
        """Whether clients can see anything but the job's state: queueing, 429s, outages."""
        timed = not (isinstance(self.service_time, Constant) and self.service_time.value == 0)
        return self.workers is not None or bool(self.outages) or timed


class Response(NamedTuple):
    http: int | None  #: None: no answer
    status: str | None  #: the job's canonical status, on a 200
    progress: float | None
    retry_after: float | None


NO_ANSWER = Response(None, None, None, None)


class StatusServer:
    """Serves status requests in a SimPy environment and logs each one:
    (arrival time, job id, HTTP status or None, time answered or None)."""

    def __init__(self, env: simpy.Environment, spec: ServerSpec, rng) -> None:
        self.env = env
        self.spec = spec
        self.rng = rng
        self.workers = simpy.Resource(env, spec.workers) if spec.workers else None
        self.log: list[tuple[float, int, int | None, float | None]] = []
        self.timed = not (isinstance(spec.service_time, Constant) and spec.service_time.value == 0)
        #: whether an answer can take time, so clients must race it against their timeout
        self.may_delay = (
            bool(self.workers) or self.timed or any(o.mode == "stall" for o in spec.outages)
        )

    def handle(
        self, tl: Timeline, wait: float | None = None, known: str | None = None
    ) -> Generator[simpy.Event, None, Response]:
        """One status request for ``tl``'s job arriving now; returns the answer when made.
        A long-poll (``wait`` seconds, the client knowing state ``known``) is held, without
        a worker, until the state shown changes or the wait ends."""
        env, spec = self.env, self.spec
        arrived = env.now
        outage = spec.outage_at(arrived) if spec.outages else None
        if outage is not None and outage.mode == "stall":
            yield env.timeout(outage.start + outage.duration - arrived)
        elif outage is not None:
            if outage.mode == "no_answer":
                self.log.append((arrived, tl.job_id, None, None))
                return NO_ANSWER
            self.log.append((arrived, tl.job_id, 503, arrived))
            return Response(503, None, None, spec.retry_after)
        workers = self.workers
        if workers is not None:
            if spec.queue_limit is not None and len(workers.queue) >= spec.queue_limit:
                self.log.append((arrived, tl.job_id, 429, arrived))
                return Response(429, None, None, spec.retry_after)
            with workers.request() as req:
                yield req
                if self.timed:
                    yield env.timeout(spec.service_time.sample(self.rng))
        elif self.timed:
            yield env.timeout(spec.service_time.sample(self.rng))
        hold = tl.long_poll_hold(env.now, wait, known)
        if hold > 0:
            yield env.timeout(hold)
        now = env.now
        k = tl.index_at(now)
        self.log.append((arrived, tl.job_id, 200, now))
        return Response(200, tl.states[k], tl.progress[k], None)

    def answer_now(self, tl: Timeline) -> Response:
        """The answer of a server with nothing to queue or fail: no SimPy event needed."""
        now = self.env.now
        k = tl.index_at(now)
        self.log.append((now, tl.job_id, 200, now))
        return Response(200, tl.states[k], tl.progress[k], None)
