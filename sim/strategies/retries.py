"""Request-level retries: what an SDK does inside one poll when a request fails, before
its polling loop sees the answer (azure-core's RetryPolicy, botocore's retry handler,
google-api-core's ``Retry``). Every retry is another request to the status API, so it
counts as load; the strategy's stop counts polls, not requests.

>>> from sim.strategies.state import PollState
>>> from sim.strategies.waits import exponential
>>> azure = retries(3, on=[429, 500, 502, 503, 504], wait=exponential(1.6, 2), first=0,
...                 retry_after=True)
>>> [azure.delay(k, PollState(http_status=503), 0.0, None) for k in range(4)]
[0.0, 1.6, 3.2, None]
>>> azure.delay(0, PollState(http_status=404), 0.0, None) is None  # not retried
True
>>> azure.delay(1, PollState(http_status=503, retry_after=5.0), 0.0, None)
5.0
>>> str(azure)
'retries(3, on=[429, 500, 502, 503, 504], wait=exponential(1.6, 2), first=0, retry_after=True)'
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sim.limits import MAX_POLLS
from sim.strategies._values import check_non_negative, num, short
from sim.strategies.state import PollState
from sim.strategies.waits import Wait, fixed, need_wait

#: the answers an SDK typically retries: throttled and the transient server errors
TRANSIENT = (429, 500, 502, 503, 504)
#: no wait between retries
AT_ONCE = fixed(0)


@dataclass(frozen=True, repr=False)
class retries:
    """After a request of one poll is answered with an HTTP status in ``on`` (0 in
    ``on``: no answer, a timeout or a refused connection), request again, at most ``n``
    more times (None: no limit but ``within``). Retry ``k`` (from 0) waits ``wait`` at
    attempt ``k``; with ``first``, retry 0 waits ``first`` and retry ``k`` the wait at
    attempt ``k - 1``, as a strategy's waits count. ``retry_after``: a Retry-After on the
    answer replaces the wait. ``within``: no retry whose wait would end more than
    ``within`` seconds after the poll's first request (checked before sleeping, as
    google-api-core's ``Retry`` deadline is)."""

    n: int | None = None
    on: tuple[int, ...] = TRANSIENT
    wait: Wait = AT_ONCE
    first: float | None = None
    retry_after: bool = False
    within: float | None = None

    def __post_init__(self) -> None:
        n = self.n
        if n is not None and (
            isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_POLLS
        ):
            raise ValueError(
                f"retries: n must be a whole number from 0 to {MAX_POLLS:,}, found {short(n)}"
            )
        codes = self.on
        if isinstance(codes, int) and not isinstance(codes, bool):
            codes = (codes,)
        wrong = [
            c
            for c in (codes if isinstance(codes, tuple | list) else [codes])
            if not (isinstance(c, int) and not isinstance(c, bool) and (c == 0 or 100 <= c <= 599))
        ]
        if wrong or not isinstance(codes, tuple | list):
            raise ValueError(
                "retries: on must be a list of HTTP statuses (100 to 599, or 0 for no "
                f"answer), found {short(wrong[0] if wrong else codes)}"
            )
        object.__setattr__(self, "on", tuple(sorted(set(codes))))
        need_wait("retries", "wait", self.wait)
        if self.first is not None:
            check_non_negative(self, "retries", "first")
        if self.within is not None:
            check_non_negative(self, "retries", "within")
        if not isinstance(self.retry_after, bool):
            raise ValueError(
                f"retries: retry_after must be True or False, found {short(self.retry_after)}"
            )

    def delay(
        self, tries: int, answer: PollState, spent: float, rng: np.random.Generator | None
    ) -> float | None:
        """Seconds before the next request of this poll, after ``tries`` retries and an
        ``answer`` (its ``http_status``, None: no answer, and ``retry_after``), ``spent``
        seconds after the poll's first request; None: no retry, the answer stands."""
        code = answer.http_status or 0
        if code not in self.on or (self.n is not None and tries >= self.n):
            return None
        if self.retry_after and answer.retry_after is not None:
            d = float(answer.retry_after)
        elif tries == 0 and self.first is not None:
            d = self.first
        else:
            k = tries - 1 if self.first is not None else tries
            d = self.wait(replace(answer, attempt=k, elapsed=spent), rng)
        if self.within is not None and round(spent + d, 9) > self.within:
            return None
        return d

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        parts = [] if self.n is None else [str(self.n)]
        parts.append(f"on=[{', '.join(map(str, self.on))}]")
        if self.wait != AT_ONCE:
            parts.append(f"wait={self.wait}")
        if self.first is not None:
            parts.append(f"first={num(self.first)}")
        if self.retry_after:
            parts.append("retry_after=True")
        if self.within is not None:
            parts.append(f"within={num(self.within)}")
        return f"retries({', '.join(parts)})"
