"""The strategy a fit found, in the strategy language: waits, stops, and the names and
numbers ``sim.fit`` reports. The language's version is probed, not assumed: whether a
wait counts its attempts from the first poll, and whether a deadline takes a check."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.fit_stops import StopFit
from sim.fit_waits import Jitter, Schedule, Switch, bounds_of, nice
from sim.strategies import (
    Strategy,
    after_delay,
    after_polls,
    decorrelated_jitter,
    equal_jitter,
    exponential,
    fixed,
    for_attempts,
    full_jitter,
    linear,
    never,
    uniform,
)
from sim.strategies.waits import Wait


def counts_from_first() -> bool:
    """Whether the wait after poll n is the wait at attempt n - 1 when ``first`` is set."""
    s = Strategy(exponential(1, 2), first=0)
    from sim.strategies import PollState

    return s.next_delay(PollState(attempt=1), None) == 1.0


COUNTS_FROM_FIRST = counts_from_first()


def has_checks() -> bool:
    try:
        after_delay(1, check="ahead")  # type: ignore[call-arg]
    except TypeError:
        return False
    return True


def wait_of(model: Schedule | Jitter | Switch, shift: int) -> Wait:
    """The language's wait for a model fitted on waits indexed from the first poll, its
    attempts ``shift`` behind the polls."""
    if isinstance(model, Switch):
        return for_attempts(
            model.at - shift, wait_of(model.head, shift), then=wait_of(model.tail, shift)
        )
    if isinstance(model, Schedule):
        return _schedule_wait(model, shift)
    if model.kind == "decorrelated":
        return decorrelated_jitter(model.low, max=model.cap)
    inner = _schedule_wait(model.schedule, shift)  # type: ignore[arg-type]
    if model.kind == "full":
        return full_jitter(inner, min=model.low)
    if model.kind == "equal":
        return equal_jitter(inner)
    return inner + uniform(0, model.width)


def _schedule_wait(s: Schedule, shift: int) -> Wait:
    if s.family == "fixed":
        return fixed(s.a)
    cap = s.cap if math.isfinite(s.cap) else math.inf
    if s.family == "linear":
        return linear(nice(max(s.a - s.b * (1 - shift), 0.0)), s.b, max=cap)
    grown = exponential(nice(s.a * s.b ** (shift - 1)), s.b, max=cap)
    return grown + fixed(s.offset) if s.offset else grown


def bounds_at(model, j: np.ndarray, prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bounds of the model's wait after ``j`` polls (equal for a schedule)."""
    return bounds_of(model, j, prev)


def longest_wait(model, ok: pd.DataFrame):
    longest_prev = float(ok["w"].max())

    def most(j: int) -> float:
        return float(bounds_at(model, np.array([j]), np.array([longest_prev]))[1][0])

    return most


def stop_of(s: StopFit, notes: list[str]):
    if s.rule in (None, "never"):
        return never()
    if s.rule == "polls":
        return after_polls(s.n)
    if s.rule == "max_wait":
        from sim.strategies.stops import max_wait

        return max_wait(nice(s.seconds, 0.001))
    seconds = nice(s.seconds, 0.001)
    if has_checks():
        if s.rule == "ahead":
            notes.append(
                "the deadline is checked before sleeping; check='wake' (on waking) sends the "
                "same requests and differs only in when the client reports giving up"
            )
        return after_delay(seconds, check=s.rule)  # type: ignore[call-arg]
    if s.rule == "ahead":
        notes.append(
            "the deadline is checked before sleeping (no request after it), which this "
            "version of the strategy language cannot say: fitted as checked after each poll"
        )
    return after_delay(seconds)


def family_of(model) -> str:
    if isinstance(model, Switch):
        return "for_attempts"
    if isinstance(model, Schedule):
        return model.family
    return {"full": "full_jitter", "equal": "equal_jitter", "added": "uniform_added"}.get(
        model.kind, "decorrelated_jitter"
    )


def parameters_of(model) -> dict:
    if isinstance(model, Switch):
        return {
            "until_poll": model.at,
            "wait": parameters_of(model.head),
            "then": parameters_of(model.tail),
        }
    if isinstance(model, Schedule):
        return _schedule_params(model)
    out: dict = {"jitter": model.kind}
    if model.schedule is not None:
        out.update(_schedule_params(model.schedule))
    if model.kind in ("full", "decorrelated"):
        out["min"] = model.low
    if model.kind == "added":
        out["width"] = model.width
    if model.kind == "decorrelated":
        out["max"] = model.cap
    return out


def _schedule_params(s: Schedule) -> dict:
    """The schedule's parameters, as waits after the first, second, ... poll."""
    out = {"family": s.family, "wait_after_first_poll": s.a}
    if s.family == "linear":
        out["step"] = s.b
    if s.family == "exponential":
        out["multiplier"] = s.b
        if s.offset:
            out["plus"] = s.offset
    if s.family != "fixed":
        out["max"] = s.cap
    return out
