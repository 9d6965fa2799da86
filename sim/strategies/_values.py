"""Checks and number formatting shared by the strategy values."""

from __future__ import annotations

import math

from sim.durations import parse_duration
from sim.limits import MAX_DURATION


def num(x: float) -> str:
    """A number as the text form writes it: no trailing .0, inf as inf."""
    if math.isinf(x):
        return "inf"
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def check_non_negative(obj: object, name: str, *keys: str) -> None:
    """Make each field ``key`` of the frozen value ``obj`` a float from 0 to 10 years (a
    ``max`` may also be inf); a duration string ("30s", "1h") is read as such. ValueError
    names the field otherwise."""
    for key in keys:
        v = getattr(obj, key)
        if key == "max" and isinstance(v, float) and v == math.inf:
            continue
        if isinstance(v, str):
            try:
                v = parse_duration(v)
            except ValueError as exc:
                why = str(exc).removeprefix("expected ")
                why = why if why.startswith("a duration") else "a duration"
                raise ValueError(f"{name}: {key} must be {why}, found {v!r}") from None
        if isinstance(v, bool) or not isinstance(v, int | float) or not v >= 0:
            raise ValueError(f"{name}: {key} must be a number >= 0, found {short(v)}")
        if not v <= MAX_DURATION:
            most = f"at most 10 years ({MAX_DURATION:.0f} s)"
            raise ValueError(f"{name}: {key} must be {most}, found {short(v)}")
        object.__setattr__(obj, key, float(v))


def short(value: object) -> str:
    """A value as found, kept short (a whole number may have thousands of digits)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:20] + f"... ({len(text)} characters)"
