"""Durations and rates as people write them: ``"250ms"``, ``"40s"``, ``"3m"``, ``"1h30m"``,
``"20000/h"``.

>>> parse_duration("1h30m"), parse_duration("250ms"), parse_duration(12), parse_duration("20")
(5400.0, 0.25, 12.0, 20.0)
>>> parse_duration("11000d")
Traceback (most recent call last):
...
ValueError: expected a duration of at most 10 years (315360000 s)
>>> parse_rate("20000/h")
5.555555555555555
>>> format_duration(5400), format_duration(0.25), format_duration(312.4)
('1h30m', '250ms', '5m12s')
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from sim.limits import MAX_DURATION

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|min|s|m|h|d)", re.ASCII)
_WHOLE = re.compile(rf"^\s*(?:{_PART.pattern}\s*)+$", re.ASCII)
_RATE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*/\s*(ms|s|m|min|h|d)\s*$", re.ASCII)
#: a plain number written as text ("20", "1.5", "2e3"): seconds, or per second
_PLAIN = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$", re.ASCII)
#: the most events per second a rate may give
MAX_RATE = 1e6

DURATION_HELP = 'a number of seconds or a string with a unit, e.g. 40, "250ms", "3m", "1h30m"'
RATE_HELP = 'a rate per second, or per unit as "20000/h", "5/m", "2/s"'


def _quantity(
    value: object,
    what: str,
    help: str,
    from_text: Callable[[str], float | None],
    most: tuple[float, str],
) -> float:
    """A number from zero to ``most`` (its value, and how to say it), given as a number
    or as text that ``from_text`` reads."""
    amount = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        amount = _float(value)
    elif isinstance(value, str):
        amount = from_text(value)
        if amount is None and (positive := from_text(value.strip().removeprefix("-"))):
            amount = -positive  # "-5m": the form is right, the sign is not
    if amount is None:
        raise ValueError(f"expected {help}")
    if math.isnan(amount) or amount < 0:
        raise ValueError(f"expected {what} of zero or more ({help})")
    if amount > most[0]:
        raise ValueError(f"expected {what} of at most {most[1]}")
    return amount


def _float(value: int | float) -> float:
    """A number as a float; inf for a whole number too large for one (refused after)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _duration_text(text: str) -> float | None:
    if _PLAIN.match(text):
        return float(text)
    if not _WHOLE.match(text):
        return None
    return sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))


def _rate_text(text: str) -> float | None:
    if _PLAIN.match(text):
        return float(text)
    m = _RATE.match(text)
    return float(m.group(1)) / _UNITS[m.group(2)] if m else None


def parse_duration(value: object) -> float:
    """Seconds from a number or a string with units; ValueError on anything else."""
    most = (MAX_DURATION, f"10 years ({MAX_DURATION:.0f} s)")
    return _quantity(value, "a duration", DURATION_HELP, _duration_text, most)


def parse_rate(value: object) -> float:
    """Events per second from a number (per second) or ``"N/unit"``."""
    return _quantity(value, "a rate", RATE_HELP, _rate_text, (MAX_RATE, f"{MAX_RATE:.0f}/s"))


def format_duration(seconds: float) -> str:
    """A short human form: ``850ms``, ``12.5s``, ``5m12s``, ``1h30m``, ``2d3h``."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds == 0:
        return "0s"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s".replace(".0s", "s")
    s = round(seconds)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    if d:
        return f"{d}d{h}h" if h else f"{d}d"
    if h:
        return f"{h}h{m:02d}m" if m else f"{h}h"
    return f"{m}m{s:02d}s" if s else f"{m}m"
