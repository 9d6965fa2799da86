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


def _span(c: object) -> tuple[int, int] | None:
    """A range of statuses written as text, '506-599', as (506, 599); None otherwise."""
    if not isinstance(c, str):
        return None
    lo, sep, hi = c.strip().partition("-")
    lo, hi = lo.strip(), hi.strip()
    if not (sep and lo.isascii() and lo.isdigit() and hi.isascii() and hi.isdigit()):
        return None
    a, b = int(lo), int(hi)
    return (a, b) if 100 <= a <= b <= 599 else None


def statuses(name: str, codes: object) -> tuple[set[int], tuple[tuple[int, int], ...]]:
    """The HTTP statuses (0: no answer) and ranges of them ('506-599') of an ``on``
    list, or ValueError naming ``name``."""
    if not isinstance(codes, tuple | list):
        codes = (codes,)
    single, spans = set(), set()
    for c in codes:
        span = _span(c)
        if isinstance(c, int) and not isinstance(c, bool) and (c == 0 or 100 <= c <= 599):
            single.add(c)
        elif span is not None:
            spans.add(span)
        else:
            raise ValueError(
                f"{name}: on must be a list of HTTP statuses (100 to 599, or 0 for no "
                f"answer) or ranges such as '506-599', found {short(c)}"
            )
    return single, tuple(sorted(spans))


@dataclass(frozen=True, repr=False)
class retries:
    """After a request of one poll is answered with an HTTP status in ``on`` (0 in
    ``on``: no answer, a timeout or a refused connection), request again, at most ``n``
    more times (None: no limit but ``within``). Retry ``k`` (from 0) waits ``wait`` at
    attempt ``k``; with ``first``, retry 0 waits ``first`` and retry ``k`` the wait at
    attempt ``k - 1``, as a strategy's waits count. ``retry_after``: a Retry-After on the
    answer replaces the wait (``ignore_zero``: one of 0 counts as none, as azure-core's
    RetryPolicy reads it). ``on_retry_after``: an error answer (400 and up) that carries
    a Retry-After is retried whatever its status, as azure-core's is. ``within``: no retry
    whose wait would end more than ``within`` seconds after the poll's first request
    (checked before sleeping, as google-api-core's ``Retry`` deadline is). ``on`` takes
    statuses and ranges of them as text: ``on=[429, 503, '506-599']``."""

    n: int | None = None
    on: tuple[int | str, ...] = TRANSIENT
    wait: Wait = AT_ONCE
    first: float | None = None
    retry_after: bool = False
    within: float | None = None
    on_retry_after: bool = False
    ignore_zero: bool = False

    def __post_init__(self) -> None:
        n = self.n
        if n is not None and (
            isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_POLLS
        ):
            raise ValueError(
                f"retries: n must be a whole number from 0 to {MAX_POLLS:,}, found {short(n)}"
            )
        single, spans = statuses("retries", self.on)
        shown = [f"{lo}-{hi}" for lo, hi in spans]
        object.__setattr__(self, "on", (*sorted(single), *shown))
        object.__setattr__(self, "_spans", spans)
        need_wait("retries", "wait", self.wait)
        if self.first is not None:
            check_non_negative(self, "retries", "first")
        if self.within is not None:
            check_non_negative(self, "retries", "within")
        for key in ("retry_after", "on_retry_after", "ignore_zero"):
            if not isinstance(getattr(self, key), bool):
                raise ValueError(
                    f"retries: {key} must be True or False, found {short(getattr(self, key))}"
                )

    def retried(self, code: int, hint: float | None = None) -> bool:
        """Whether an answer ``code`` (0: none) carrying the Retry-After ``hint`` is
        retried, retries left aside."""
        if code in self.on or any(lo <= code <= hi for lo, hi in self._spans):  # type: ignore[attr-defined]
            return True
        return self.on_retry_after and hint is not None and code >= 400

    def delay(
        self, tries: int, answer: PollState, spent: float, rng: np.random.Generator | None
    ) -> float | None:
        """Seconds before the next request of this poll, after ``tries`` retries and an
        ``answer`` (its ``http_status``, None: no answer, and ``retry_after``), ``spent``
        seconds after the poll's first request; None: no retry, the answer stands."""
        code = answer.http_status or 0
        if not self.retried(code, answer.retry_after):
            return None
        if self.n is not None and tries >= self.n:
            return None
        hint = answer.retry_after
        if self.ignore_zero and hint == 0:
            hint = None
        if self.retry_after and hint is not None:
            d = float(hint)
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
        parts.append(f"on=[{', '.join(map(repr, self.on))}]")
        if self.wait != AT_ONCE:
            parts.append(f"wait={self.wait}")
        if self.first is not None:
            parts.append(f"first={num(self.first)}")
        if self.retry_after:
            parts.append("retry_after=True")
        if self.within is not None:
            parts.append(f"within={num(self.within)}")
        if self.on_retry_after:
            parts.append("on_retry_after=True")
        if self.ignore_zero:
            parts.append("ignore_zero=True")
        return f"retries({', '.join(parts)})"
