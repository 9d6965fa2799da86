"""Waits: how long a client sleeps before its next poll. Small immutable values that add
(``fixed(5) + uniform(0, 1)``) and wrap (``full_jitter(exponential(1, 1.5, max=20))``).

>>> from sim.strategies.state import PollState
>>> exponential(1, 2, max=10)(PollState(attempt=3), None)
8.0
>>> (fixed(5) + fixed(1))(PollState(), None)
6.0
>>> str(for_attempts(6, full_jitter(exponential(2, 2), min=2), then=fixed(120)))
'for_attempts(6, full_jitter(exponential(2, 2), min=2), then=fixed(120))'

The waits that read the server's answers (per status, Retry-After, progress, errors)
are in ``sim.strategies.feedback``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.limits import MAX_DURATION, MAX_POLLS
from sim.strategies._values import check_non_negative, num, short
from sim.strategies.state import PollState

#: the largest growth factor of an exponential backoff
MAX_MULTIPLIER = 1000.0


def need_wait(name: str, key: str, value: object) -> None:
    if not isinstance(value, Wait):
        raise ValueError(f"{name}: {key} must be a wait such as fixed(5), found {value}")


class Wait:
    """The wait before the next poll, given the client's state. ``open_loop`` waits look at
    nothing the server says, so whole schedules can be drawn ahead (the fast path)."""

    open_loop: bool = True
    #: draws nothing at random: every client waits the same at the same attempt
    deterministic: bool = True
    #: the wait of every attempt, where it is the same at every attempt (else None)
    constant: float | None = None
    #: looks at neither the attempt nor the previous wait, so a block of attempts is
    #: drawn as one array
    memoryless: bool = False

    def __repr__(self) -> str:
        return str(self)

    def draw(
        self, attempt: int, prev: np.ndarray | None, rng: np.random.Generator, n: int
    ) -> np.ndarray | float:
        """The waits of ``n`` clients at the same ``attempt`` (open-loop waits only), for the
        vectorised fast path: an array, or one number where all clients wait the same;
        ``prev`` holds their previous waits in the same form (None before the first)."""
        raise TypeError(f"{self} needs the server's answers; it has no vectorised form")

    def fill(
        self, attempt: int, prev: np.ndarray | None, rng: np.random.Generator, out: np.ndarray
    ) -> None:
        """Draw into ``out`` the waits of a block of attempts (a row each, from
        ``attempt`` on) for ``out.shape[1]`` clients, whose previous waits are ``prev``:
        row by row with ``draw``, each row the next one's ``prev``."""
        n = out.shape[1]
        for i in range(len(out)):
            out[i] = self.draw(attempt + i, prev, rng, n)
            prev = out[i]

    def __call__(self, state: PollState, rng: np.random.Generator | None) -> float:
        raise NotImplementedError

    def __add__(self, other: Wait) -> Wait:
        if not isinstance(other, Wait):
            return NotImplemented
        return wait_sum((*_terms(self), *_terms(other)))

    def __radd__(self, other: object) -> Wait:
        if other == 0:  # sum() starts from 0
            return self
        return NotImplemented

    def __or__(self, stop: object):  # -> Strategy
        """``fixed(2) | after_delay(60)``: a strategy that waits so and stops so."""
        from sim.strategies.poll import Strategy
        from sim.strategies.stops import Stop

        if not isinstance(stop, Stop):
            return NotImplemented
        return Strategy(self, stop)


def _terms(w: Wait) -> tuple[Wait, ...]:
    return w.waits if isinstance(w, wait_sum) else (w,)


@dataclass(frozen=True, repr=False)
class wait_sum(Wait):
    """Waits added together."""

    waits: tuple[Wait, ...]

    @property
    def open_loop(self) -> bool:  # type: ignore[override]
        return all(w.open_loop for w in self.waits)

    @property
    def deterministic(self) -> bool:  # type: ignore[override]
        return all(w.deterministic for w in self.waits)

    @property
    def constant(self) -> float | None:  # type: ignore[override]
        parts = [w.constant for w in self.waits]
        if any(p is None for p in parts):
            return None
        total = parts[0]
        for p in parts[1:]:  # in the order draw adds them: the same float
            total += p
        return total

    @property
    def memoryless(self) -> bool:  # type: ignore[override]
        return all(w.memoryless for w in self.waits)

    def fill(self, attempt, prev, rng, out):
        if not self.memoryless:
            return super().fill(attempt, prev, rng, out)
        drawn = [w for w in self.waits if w.constant is None]
        fixed_part = sum(w.constant for w in self.waits if w.constant is not None)
        if not drawn:
            out.fill(fixed_part)
            return None
        drawn[0].fill(attempt, prev, rng, out)
        spare = np.empty_like(out) if len(drawn) > 1 else None
        for w in drawn[1:]:
            w.fill(attempt, prev, rng, spare)
            out += spare
        if fixed_part:
            out += fixed_part
        return None

    def draw(self, attempt, prev, rng, n):
        first, *rest = (w.draw(attempt, prev, rng, n) for w in self.waits)
        total = first + rest[0] if rest else first  # a new array, added to in place
        for d in rest[1:]:
            total += d
        return total

    def __call__(self, state, rng):
        return sum(w(state, rng) for w in self.waits)

    def __str__(self) -> str:
        return " + ".join(str(w) for w in self.waits)


@dataclass(frozen=True, repr=False)
class fixed(Wait):
    """The same interval every time: what most hand-written pollers do."""

    seconds: float

    def __post_init__(self) -> None:
        check_non_negative(self, "fixed", "seconds")

    @property
    def constant(self) -> float:  # type: ignore[override]
        return float(self.seconds)

    memoryless = True

    def draw(self, attempt, prev, rng, n):
        return float(self.seconds)

    def fill(self, attempt, prev, rng, out):
        out.fill(self.seconds)

    def __call__(self, state, rng):
        return float(self.seconds)

    def __str__(self) -> str:
        return f"fixed({num(self.seconds)})"


@dataclass(frozen=True, repr=False)
class linear(Wait):
    """``start + step * attempt``, capped at ``max``."""

    start: float
    step: float
    max: float = math.inf

    def __post_init__(self) -> None:
        check_non_negative(self, "linear", "start", "step", "max")

    def draw(self, attempt, prev, rng, n):
        return self(PollState(attempt), None)

    def __call__(self, state, rng):
        return min(self.max, self.start + self.step * state.attempt, MAX_DURATION)

    def __str__(self) -> str:
        cap = f", max={num(self.max)}" if math.isfinite(self.max) else ""
        return f"linear({num(self.start)}, {num(self.step)}{cap})"


@dataclass(frozen=True, repr=False)
class exponential(Wait):
    """``initial * multiplier ** attempt``, capped at ``max``. Without jitter every client
    that started together polls together: not for resolving contention (add jitter)."""

    initial: float
    multiplier: float = 2.0
    max: float = math.inf

    def __post_init__(self) -> None:
        check_non_negative(self, "exponential", "initial", "max")
        m = self.multiplier
        if isinstance(m, bool) or not isinstance(m, int | float) or not 1 <= m <= MAX_MULTIPLIER:
            raise ValueError(
                f"exponential: multiplier must be from 1 to {MAX_MULTIPLIER:g}, found {short(m)}"
            )
        object.__setattr__(self, "multiplier", float(m))

    def draw(self, attempt, prev, rng, n):
        return self(PollState(attempt), None)

    def __call__(self, state, rng):
        """The backoff at this attempt; it grows no further than 10 years."""
        if not self.initial:
            return 0.0
        try:
            grown = self.initial * self.multiplier**state.attempt
        except OverflowError:
            grown = math.inf
        return min(self.max, grown, MAX_DURATION)

    def __str__(self) -> str:
        cap = f", max={num(self.max)}" if math.isfinite(self.max) else ""
        return f"exponential({num(self.initial)}, {num(self.multiplier)}{cap})"


@dataclass(frozen=True, repr=False)
class uniform(Wait):
    """Uniform between ``low`` and ``high``; add it to another wait to spread clients."""

    low: float
    high: float

    def __post_init__(self) -> None:
        check_non_negative(self, "uniform", "low", "high")
        if self.low > self.high:
            raise ValueError(f"uniform: low must be <= high, found {self.low} > {self.high}")

    deterministic = False
    memoryless = True

    def draw(self, attempt, prev, rng, n):
        x = rng.random(n)
        self._scale(x)
        return x

    def fill(self, attempt, prev, rng, out):
        rng.random(out=out)  # row after row: the same draws as ``draw`` row by row
        self._scale(out)

    def _scale(self, x: np.ndarray) -> None:
        if self.high - self.low != 1:
            x *= self.high - self.low
        if self.low:
            x += self.low

    def __call__(self, state, rng):
        return self.low + (self.high - self.low) * rng.random()

    def __str__(self) -> str:
        return f"uniform({num(self.low)}, {num(self.high)})"


@dataclass(frozen=True, repr=False)
class full_jitter(Wait):
    """Uniform between ``min`` and the inner wait (AWS's "full jitter" when min is 0)."""

    inner: Wait
    min: float = 0.0

    def __post_init__(self) -> None:
        need_wait("full_jitter", "inner", self.inner)
        check_non_negative(self, "full_jitter", "min")

    @property
    def open_loop(self) -> bool:  # type: ignore[override]
        return self.inner.open_loop

    deterministic = False

    def draw(self, attempt, prev, rng, n):
        d = np.maximum(self.min, self.inner.draw(attempt, prev, rng, n))
        x = rng.random(n)  # min + (d - min) * x, in place: one array, not three
        x *= d - self.min
        if self.min:
            x += self.min
        return x

    def fill(self, attempt, prev, rng, out):
        if not self.inner.deterministic:  # the inner draws come between the jitter's
            return super().fill(attempt, prev, rng, out)
        self.inner.fill(attempt, prev, rng, out)  # draws nothing: the same jitter draws
        np.maximum(out, self.min, out=out)
        if self.min:
            out -= self.min
        out *= rng.random(out.shape)
        if self.min:
            out += self.min
        return None

    def __call__(self, state, rng):
        d = max(self.min, self.inner(state, rng))
        return self.min + (d - self.min) * rng.random()

    def __str__(self) -> str:
        low = f", min={num(self.min)}" if self.min else ""
        return f"full_jitter({self.inner}{low})"


@dataclass(frozen=True, repr=False)
class equal_jitter(Wait):
    """Half the inner wait, plus uniform up to the other half (AWS's "equal jitter")."""

    inner: Wait

    @property
    def open_loop(self) -> bool:  # type: ignore[override]
        return self.inner.open_loop

    def __post_init__(self) -> None:
        need_wait("equal_jitter", "inner", self.inner)

    deterministic = False

    def draw(self, attempt, prev, rng, n):
        half = self.inner.draw(attempt, prev, rng, n) / 2
        x = rng.random(n)  # half + half * x, in place
        x *= half
        x += half
        return x

    def fill(self, attempt, prev, rng, out):
        if not self.inner.deterministic:
            return super().fill(attempt, prev, rng, out)
        self.inner.fill(attempt, prev, rng, out)
        out /= 2
        out += out * rng.random(out.shape)
        return None

    def __call__(self, state, rng):
        d = self.inner(state, rng)
        return d / 2 + d / 2 * rng.random()

    def __str__(self) -> str:
        return f"equal_jitter({self.inner})"


@dataclass(frozen=True, repr=False)
class decorrelated_jitter(Wait):
    """``min(max, uniform(base, 3 * previous wait))`` (AWS's "decorrelated jitter")."""

    base: float
    max: float = math.inf

    def __post_init__(self) -> None:
        check_non_negative(self, "decorrelated_jitter", "base", "max")

    deterministic = False

    def draw(self, attempt, prev, rng, n):
        p = self.base if prev is None else prev
        high = np.maximum(self.base, 3 * p)
        x = rng.random(n)  # min(max, base + (high - base) * x), in place
        x *= high - self.base
        x += self.base
        return np.minimum(x, min(self.max, MAX_DURATION), out=x)

    def __call__(self, state, rng):
        prev = state.prev_delay if state.prev_delay is not None else self.base
        high = max(self.base, 3 * prev)
        return min(self.max, self.base + (high - self.base) * rng.random(), MAX_DURATION)

    def __str__(self) -> str:
        cap = f", max={num(self.max)}" if math.isfinite(self.max) else ""
        return f"decorrelated_jitter({num(self.base)}{cap})"


@dataclass(frozen=True, repr=False)
class for_attempts(Wait):
    """``wait`` for the first ``n`` attempts, ``then`` from attempt ``n`` on: a backoff
    that turns into another, such as the AWS SDK for JavaScript v3's waiter, jittered
    for six retries and a fixed 120 s after."""

    n: int
    wait: Wait
    then: Wait

    def __post_init__(self) -> None:
        n = self.n
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_POLLS:
            raise ValueError(
                f"for_attempts: n must be a whole number from 0 to {MAX_POLLS:,}, found {short(n)}"
            )
        need_wait("for_attempts", "wait", self.wait)
        need_wait("for_attempts", "then", self.then)

    @property
    def open_loop(self) -> bool:  # type: ignore[override]
        return self.wait.open_loop and self.then.open_loop

    @property
    def deterministic(self) -> bool:  # type: ignore[override]
        return self.wait.deterministic and self.then.deterministic

    def draw(self, attempt, prev, rng, n):
        w = self.wait if attempt < self.n else self.then
        return w.draw(attempt, prev, rng, n)

    def __call__(self, state, rng):
        w = self.wait if state.attempt < self.n else self.then
        return w(state, rng)

    def __str__(self) -> str:
        return f"for_attempts({self.n}, {self.wait}, then={self.then})"
