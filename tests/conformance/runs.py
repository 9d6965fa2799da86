"""What one client did against a Script, whether a library's own code or a preset
replayed by ``sim.pollers.replay``: the one shape the conformance tests compare."""

from __future__ import annotations

from dataclasses import dataclass

#: how a client stops: it saw the end, its stop gave up, or an error answer stood
OUTCOMES = ("ended", "gave up", "errored")


@dataclass(frozen=True)
class Run:
    """Each HTTP request's time since the client started watching (seconds), how it
    stopped (one of OUTCOMES) and when."""

    times: tuple[float, ...]
    outcome: str
    end: float
    reason: str = ""

    @property
    def requests(self) -> int:
        return len(self.times)


def from_replay(replay) -> Run:
    """A ``sim.pollers.replay`` result as a Run."""
    rec = replay.record
    if rec.seen_state:
        outcome = "ended"
    elif rec.errored:
        outcome = "errored"
    elif rec.gave_up:
        outcome = "gave up"
    else:
        outcome = "watching"  # reached the replay's horizon
    return Run(tuple(replay.times), outcome, replay.end)
