"""When a client gives up, from the watches it ended without seeing the job end.

Three rules are told apart by the times of the last requests: ``after_polls(n)`` (every
give-up after the same number of polls, and no watch longer), ``after_delay(T)``
checked after each poll (the last request of a give-up is at or after ``T``, every
earlier one before it) and checked before each sleep, or on waking (no request after
``T``; the sleep after the last one would have passed it). The last two send the same
requests, and only when the client reports giving up differs, which no request shows:
the fit says ``'ahead'`` and that ``'wake'`` would do the same. Where several rules fit,
the one with the rounder threshold is taken (a deadline of a whole minute, or a whole
number of polls).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.fit_data import Trace

#: steps a deadline is rounded to, roundest first
_STEPS = (3600, 600, 300, 60, 30, 10, 5, 1, 0.5, 0.1, 0.01, 0.001)


@dataclass(frozen=True)
class StopFit:
    """The stop found: ``rule`` is "never", "polls", "poll", "ahead", "max_wait" or None
    (no rule fits the give-ups); ``n`` polls or ``seconds`` for the rule; ``gave_up``
    watches."""

    rule: str | None
    n: int = 0
    seconds: float = math.nan
    gave_up: int = 0
    note: str = ""


def fit_stop(
    traces: list[Trace], next_wait_most: Callable[[int], float], exact: bool = False
) -> StopFit:
    """The stop of the client behind ``traces``; ``next_wait_most(j)`` is the longest
    wait the fitted wait makes after ``j`` polls (for the rule checked ahead), ``exact``
    that it makes no other (every client waits the same)."""
    quit_ = [tr for tr in traces if tr.outcome == "gave_up"]
    cut = _max_wait(quit_, next_wait_most, exact)
    if cut is not None:
        return cut
    if not quit_:
        longest = max((float(tr.elapsed(tr.received)[-1]) for tr in traces), default=0.0)
        return StopFit(
            "never",
            note=f"no watch gave up: any stop later than the longest watch ({longest:.6g} s, "
            f"{max(tr.polls for tr in traces)} polls) fits as well",
        )
    fits: list[tuple[int, StopFit]] = []
    counts = {tr.polls for tr in quit_}
    if len(counts) == 1 and max(tr.polls for tr in traces) <= min(counts):
        n = counts.pop()
        fits.append((_count_rank(n), StopFit("polls", n=n, gave_up=len(quit_))))
    # checked after each poll: every answer but a give-up's last came before T
    earlier = [tr.elapsed(tr.received)[:-1] for tr in traces if tr.outcome != "censored"]
    earlier += [tr.elapsed(tr.received) for tr in traces if tr.outcome == "censored"]
    lo = max((float(e.max()) for e in earlier if len(e)), default=0.0)
    hi = min(float(tr.elapsed(tr.received)[-1]) for tr in quit_)
    if lo < hi:
        t, rank = round_between(lo, hi, closed_low=False)
        fits.append((rank, StopFit("poll", seconds=t, gave_up=len(quit_))))
    # checked before each sleep (or on waking): no request after T
    lo = max(float(tr.elapsed(tr.sent).max()) for tr in traces)
    hi = min(float(tr.elapsed(tr.received)[-1]) + next_wait_most(tr.polls) for tr in quit_)
    if lo < hi:
        t, rank = round_between(lo, hi, closed_low=True)
        fits.append((rank, StopFit("ahead", seconds=t, gave_up=len(quit_))))
    if not fits:
        return StopFit(
            None,
            gave_up=len(quit_),
            note="the give-ups fit no single stop (neither a number of polls nor a "
            "deadline): they may stop on something the requests do not show",
        )
    # a deadline rounder than a whole minute is no likelier for it; on a tie, the rule
    # checked after each poll, then a number of polls, then the deadline checked ahead
    prefer = {"poll": 0, "polls": 1, "ahead": 2}
    fits.sort(key=lambda f: (f[0], prefer[f[1].rule or ""]))  # roundest first
    delay = next((f for f in fits if f[1].rule != "polls"), None)
    count = next((f for f in fits if f[1].rule == "polls"), None)
    finalists = [f for f in (delay, count) if f is not None]
    best = min(finalists, key=lambda f: (max(f[0], 3), prefer[f[1].rule or ""]))[1]
    others = [_text(f) for _, f in fits if f is not best]
    if others:
        best = StopFit(
            best.rule,
            best.n,
            best.seconds,
            best.gave_up,
            "the give-ups agree with " + " and ".join([_text(best), *others]) + " (the "
            "requests cannot tell them apart): the roundest taken",
        )
    return best


def _text(f: StopFit) -> str:
    if f.rule == "polls":
        return f"after_polls({f.n})"
    check = "" if f.rule == "poll" else f", check='{f.rule}'"
    return f"after_delay({f.seconds:g}{check})"


def _max_wait(quit_: list[Trace], next_wait_most, exact: bool) -> StopFit | None:
    """A Smithy waiter's maximum wait: every give-up's last request at the same time
    after the start, its sleep before cut short to get there (a jittered wait never
    lands every client on one instant; a schedule must show the cut)."""
    if len(quit_) < 3:
        return None
    last = np.array([float(tr.elapsed(tr.sent)[-1]) for tr in quit_])
    t = float(np.median(last))
    if t <= 0 or np.any(np.abs(last - t) > 0.005 * t + 0.2):
        return None
    if exact:
        gaps = [(tr.sent[-1] - tr.received[-2], tr.polls - 1) for tr in quit_ if tr.polls > 1]
        short = [g < next_wait_most(j) * 0.97 - 0.01 for g, j in gaps]
        if not short or np.mean(short) < 0.5:
            return None
    return StopFit("max_wait", seconds=round_between(t - 0.2, t + 0.2, True)[0], gave_up=len(quit_))


def _count_rank(n: int) -> int:
    """How round a number of polls is, on the scale of ``round_between``'s ranks."""
    for rank, step in enumerate((100, 10, 5)):
        if n % step == 0:
            return rank + 2  # a whole minute beats it, ten polls beat 30 s
    return 6


def round_between(lo: float, hi: float, closed_low: bool) -> tuple[float, int]:
    """The roundest number above ``lo`` (or equal, if ``closed_low``) and below ``hi``
    (or equal, if not ``closed_low``), and its rank (0: a whole hour)."""
    for rank, step in enumerate(_STEPS):
        t = math.ceil(lo / step) * step
        if not closed_low and t <= lo:
            t += step
        if (t < hi) if closed_low else (t <= hi):
            return float(round(t, 6)), rank
    return float((lo + hi) / 2), len(_STEPS)


def next_wait_most_of(at: Callable[[np.ndarray], np.ndarray]) -> Callable[[int], float]:
    """``next_wait_most`` from a function giving the longest wait per index array."""
    return lambda j: float(at(np.array([j]))[0])
