"""What a polling strategy may look at after each poll.

>>> s = PollState(attempt=2, elapsed=6.0, status="running", http_status=200)
>>> s.ok, s.status
(True, 'running')
>>> PollState(attempt=1, elapsed=2.0, http_status=503).ok
False
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PollState:
    """The client's view after its latest poll (before the first poll: attempt 0)."""

    #: polls made so far; 0 before the first
    attempt: int = 0
    #: seconds since the client started watching the job
    elapsed: float = 0.0
    #: the last canonical job status seen; None before the first poll or on an error
    status: str | None = None
    #: the HTTP status of the last response; None before the first poll or on no answer
    http_status: int | None = None
    #: the Retry-After the last response carried, in seconds
    retry_after: float | None = None
    #: progress the last response reported, in [0, 1]
    progress: float | None = None
    #: the wait before the last poll
    prev_delay: float | None = None

    @property
    def ok(self) -> bool:
        """The last poll got a 2xx (or 304) answer."""
        return self.http_status is not None and (
            200 <= self.http_status < 300 or self.http_status == 304
        )


def make_state(**fields: object) -> PollState:
    """A PollState for tests and notebooks, like tenacity's ``make_retry_state``."""
    return PollState(**fields)  # type: ignore[arg-type]
