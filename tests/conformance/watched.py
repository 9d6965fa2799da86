"""What the celery and fiddler-client runners share: a watch as the tests compare it,
whether the library or the preset made it (``preset`` replays the preset the same way)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.pollers import PollRecord, replay
from sim.strategies import parse_strategy
from tests.conformance.harness import Script


@dataclass(frozen=True)
class Watched:
    """What a client did on one script."""

    times: tuple[float, ...]  #: each request's send time, seconds after watching started
    answers: tuple[int, ...]  #: the answer (an HTTP status) to each
    #: "ended", "gave up" (TimeoutError), "errored", "watching" (the horizon) or
    #: "runaway" (a loop that no fake clock would end)
    outcome: str
    end: float  #: seconds after watching started when the client stopped
    raised: str | None  #: the exception's class name, if it raised one

    @property
    def under(self) -> dict[int, int]:
        """Requests per HTTP status answered."""
        out: dict[int, int] = {}
        for a in self.answers:
            out[a] = out.get(a, 0) + 1
        return out


def preset(name: str, script: Script, rtt: float = 0.0, horizon: float = math.inf) -> Watched:
    """The preset (or strategy text) ``name`` replayed by ``sim.pollers`` on ``script``, in
    the same terms: requests by their send time (``replay`` gives their arrival, half a
    round trip on)."""
    done = replay(parse_strategy(name), script.answer, np.random.default_rng(0), rtt, horizon)
    answers = tuple(script.answer(t).http for t in done.times)
    sent = tuple(t - rtt / 2 for t in done.times)
    return Watched(sent, answers, outcome(done.record), done.end, None)


def outcome(r: PollRecord) -> str:
    """How a simulated client stopped, in the words ``Watched`` uses."""
    if r.seen_state:
        return "ended"
    return "gave up" if r.gave_up else "errored" if r.errored else "watching"
