"""Durations and rates as people write them: ``"250ms"``, ``"40s"``, ``"3m"``, ``"1h30m"``,
``"20000/h"``.

>>> parse_duration("1h30m"), parse_duration("250ms"), parse_duration(12)
(5400.0, 0.25, 12.0)
>>> parse_rate("20000/h")
5.555555555555555
>>> format_duration(5400), format_duration(0.25), format_duration(312.4)
('1h30m', '250ms', '5m12s')
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|min|s|m|h|d)")
_WHOLE = re.compile(rf"^\s*(?:{_PART.pattern}\s*)+$")
_RATE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*/\s*(ms|s|m|min|h|d)\s*$")

DURATION_HELP = 'a number of seconds or a string with a unit, e.g. 40, "250ms", "3m", "1h30m"'
RATE_HELP = 'a rate per second, or per unit as "20000/h", "5/m", "2/s"'


def _quantity(
    value: object, what: str, help: str, from_text: Callable[[str], float | None]
) -> float:
    """A non-negative number given as a number or as text that ``from_text`` reads."""
    amount = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        amount = float(value)
    elif isinstance(value, str):
        amount = from_text(value)
        if amount is None and (positive := from_text(value.strip().removeprefix("-"))):
            amount = -positive  # "-5m": the form is right, the sign is not
    if amount is None:
        raise ValueError(f"expected {help}")
    if not math.isfinite(amount) or amount < 0:
        raise ValueError(f"expected {what} of zero or more ({help})")
    return amount


def _duration_text(text: str) -> float | None:
    if not _WHOLE.match(text):
        return None
    return sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))


def _rate_text(text: str) -> float | None:
    m = _RATE.match(text)
    return float(m.group(1)) / _UNITS[m.group(2)] if m else None


def parse_duration(value: object) -> float:
    """Seconds from a number or a string with units; ValueError on anything else."""
    return _quantity(value, "a duration", DURATION_HELP, _duration_text)


def parse_rate(value: object) -> float:
    """Events per second from a number (per second) or ``"N/unit"``."""
    return _quantity(value, "a rate", RATE_HELP, _rate_text)


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
