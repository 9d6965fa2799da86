"""Waits that read the server's answers: another wait per status seen, the server's
Retry-After, an estimate from reported progress, and no wait after an error. None of
them has a vectorised form (``open_loop`` is False): the fast path never takes them.

>>> from sim.strategies.state import PollState
>>> from sim.strategies.waits import fixed
>>> w = per_status(fixed(10), retry_wait=fixed(30))
>>> w(PollState(attempt=2, status="retry_wait"), None), str(w)
(30.0, 'per_status(fixed(10), retry_wait=fixed(30))')
>>> retry_after(fixed(30), ignore_zero=True)(PollState(attempt=1, retry_after=0.0), None)
30.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sim.states import JobState
from sim.strategies._values import check_non_negative, num, short
from sim.strategies.waits import Wait, need_wait

_STATES = {s.value for s in JobState}


@dataclass(frozen=True, repr=False)
class per_status(Wait):
    """Another wait per observed canonical status (``retry_wait=fixed(30)``); ``default``
    for the rest, and before the first answer."""

    default: Wait
    by_status: Mapping[str, Wait] = field(default_factory=dict)

    def __init__(self, default: Wait, **by_status: Wait):
        need_wait("per_status", "default", default)
        table = dict(by_status)
        for key, w in table.items():
            if key not in _STATES:
                raise ValueError(
                    f"per_status: {key!r} is not a job state; expected one of "
                    + ", ".join(sorted(_STATES))
                )
            need_wait("per_status", key, w)
        object.__setattr__(self, "default", default)
        object.__setattr__(self, "by_status", dict(sorted(table.items())))

    def __hash__(self) -> int:
        return hash((self.default, tuple(self.by_status.items())))

    open_loop = False

    @property
    def deterministic(self) -> bool:  # type: ignore[override]
        return self.default.deterministic and all(w.deterministic for w in self.by_status.values())

    def __call__(self, state, rng):
        w = self.by_status.get(state.status, self.default) if state.status else self.default
        return w(state, rng)

    def __str__(self) -> str:
        rest = "".join(f", {k}={w}" for k, w in self.by_status.items())
        return f"per_status({self.default}{rest})"


@dataclass(frozen=True, repr=False)
class retry_after(Wait):
    """The server's Retry-After when it sends one (it wins), else the inner wait. With
    ``ignore_zero``, a Retry-After of 0 counts as none, as azure-core's LRO poller
    reads it (``if delay:``): it then waits its default rather than polling at once."""

    inner: Wait
    ignore_zero: bool = False
    open_loop = False

    @property
    def deterministic(self) -> bool:  # type: ignore[override]
        return self.inner.deterministic

    def __post_init__(self) -> None:
        need_wait("retry_after", "inner", self.inner)
        if not isinstance(self.ignore_zero, bool):
            raise ValueError(
                f"retry_after: ignore_zero must be True or False, found {short(self.ignore_zero)}"
            )

    def __call__(self, state, rng):
        hint = state.retry_after
        if hint is not None and not (self.ignore_zero and hint == 0):
            return float(hint)
        return self.inner(state, rng)

    def __str__(self) -> str:
        zero = ", ignore_zero=True" if self.ignore_zero else ""
        return f"retry_after({self.inner}{zero})"


@dataclass(frozen=True, repr=False)
class progress(Wait):
    """From reported progress, estimate the time left (``elapsed * (1 - p) / p``) and wait
    ``fraction`` of it, between ``min`` and ``max``; ``min`` until progress is reported."""

    min: float
    max: float
    fraction: float = 0.5
    open_loop = False

    def __post_init__(self) -> None:
        check_non_negative(self, "progress", "min", "max", "fraction")
        if self.min > self.max:
            raise ValueError(f"progress: min must be <= max, found {self.min} > {self.max}")

    def __call__(self, state, rng):
        p = state.progress
        if not p or p <= 0:
            return self.min
        left = state.elapsed * (1 - min(p, 1.0)) / p
        return min(self.max, max(self.min, self.fraction * left))

    def __str__(self) -> str:
        frac = f", fraction={num(self.fraction)}" if self.fraction != 0.5 else ""
        return f"progress({num(self.min)}, {num(self.max)}{frac})"


@dataclass(frozen=True, repr=False)
class at_once_on_error(Wait):
    """After an error or a non-2xx answer, poll again at once without sleeping. A real
    client's bug, modelled so the harness can show what it does to a struggling server."""

    inner: Wait
    open_loop = False

    @property
    def deterministic(self) -> bool:  # type: ignore[override]
        return self.inner.deterministic

    def __post_init__(self) -> None:
        need_wait("at_once_on_error", "inner", self.inner)

    def __call__(self, state, rng):
        polled = state.attempt > 0 or state.prev_delay is not None
        if polled and not state.ok:
            return 0.0
        return self.inner(state, rng)

    def __str__(self) -> str:
        return f"at_once_on_error({self.inner})"


@dataclass(frozen=True, repr=False)
class per_http(Wait):
    """``wait`` after an answer whose HTTP status is in ``on`` (statuses, or ranges as
    text such as '500-599'; 0: no answer), else ``default``: a backoff per kind of
    error, as botocore's retries back a throttled 429 off from 1 s and a 5xx from 50 ms."""

    default: Wait
    on: tuple[int | str, ...]
    wait: Wait

    def __post_init__(self) -> None:
        from sim.strategies.retries import statuses

        need_wait("per_http", "default", self.default)
        need_wait("per_http", "wait", self.wait)
        single, spans = statuses("per_http", self.on)
        object.__setattr__(self, "on", (*sorted(single), *(f"{a}-{b}" for a, b in spans)))
        object.__setattr__(self, "_match", (frozenset(single), spans))

    open_loop = False

    @property
    def deterministic(self) -> bool:  # type: ignore[override]
        return self.default.deterministic and self.wait.deterministic

    def __call__(self, state, rng):
        code = state.http_status or 0
        single, spans = self._match  # type: ignore[attr-defined]
        hit = code in single or any(lo <= code <= hi for lo, hi in spans)
        return (self.wait if hit else self.default)(state, rng)  # type: ignore[misc]

    def __str__(self) -> str:
        return f"per_http({self.default}, on=[{', '.join(map(repr, self.on))}], wait={self.wait})"
