"""Checks and number formatting shared by the strategy values."""

from __future__ import annotations

import math

from sim.durations import parse_duration


def num(x: float) -> str:
    """A number as the text form writes it: no trailing .0, inf as inf."""
    if math.isinf(x):
        return "inf"
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def check_non_negative(obj: object, name: str, *keys: str) -> None:
    """Make each field ``key`` of the frozen value ``obj`` a float >= 0; a duration string
    ("30s", "1h") is read as such. ValueError names the field otherwise."""
    for key in keys:
        v = getattr(obj, key)
        if isinstance(v, str):
            try:
                v = parse_duration(v)
            except ValueError:
                raise ValueError(f"{name}: {key} must be a duration, found {v!r}") from None
        if isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v) or v < 0:
            raise ValueError(f"{name}: {key} must be a number >= 0, found {v!r}")
        if math.isinf(v) and key != "max":
            raise ValueError(f"{name}: {key} must be finite, found {v!r}")
        object.__setattr__(obj, key, float(v))
