"""A threshold in base units: the unit of an assertion applied to its number, and the
refusals that keep a check from passing by accident (a threshold that overflows to inf
or underflows to 0, a share over 100%, a fraction compared with ``==`` to a count)."""

from __future__ import annotations

import math
from dataclasses import replace

from pollsim.assertion_grammar import (
    COUNT,
    DURATION,
    DURATION_UNITS,
    FLAG,
    METRICS,
    AssertionSyntax,
    Check,
    shown,
)


def with_unit(check: Check, at: int) -> Check:
    """The check with its threshold in base units, or why it does not fit
    (:class:`AssertionSyntax`, one line naming column ``at``: where the unit begins)."""
    kind, unit, name = check.kind, check.unit, f"{check.agg}({check.metric})"
    where = f"--assert {shown(check.text)}: at column {at + 1}"
    if kind == DURATION:
        if unit == "%":
            raise AssertionSyntax(f"{where}: {name} is a duration: expected s, ms, m or h")
        return _scaled(check, DURATION_UNITS[unit or "s"], where)
    if kind == "share":
        if unit and unit != "%":
            raise AssertionSyntax(
                f"{where}: {name} is a share from 0 to 1: expected a plain number or %, "
                f"found unit {unit!r}"
            )
        scaled = _scaled(check, 0.01 if unit == "%" else 1.0, where)
        if scaled.threshold > 1:
            raise AssertionSyntax(
                f"{where}: {name} is a share from 0 to 1 (0% to 100%): found "
                f"{check.written}{unit}; a share is at most 100%"
            )
        return scaled
    if unit:
        what = "a count" if kind == COUNT else "requests per second"
        hint = ""
        if unit == "%" and METRICS[check.metric].kind == FLAG:
            hint = f"; for a share of jobs say mean({check.metric}) {check.op} ..."
        raise AssertionSyntax(
            f"{where}: {name} is {what}: expected a plain number, found unit {unit!r}{hint}"
        )
    whole = check.agg in ("sum", "count", "max", "min")  # a percentile or mean interpolates
    if kind == COUNT and whole and check.op in ("==", "!=") and not check.threshold.is_integer():
        verdict = "never holds" if check.op == "==" else "always holds"
        lhs = check.metric if check.bare else name
        raise AssertionSyntax(
            f"--assert {shown(check.text)}: {lhs} is a count (a whole number), so "
            f"{check.op} {check.written} {verdict}; expected a whole number"
        )
    return check


def _scaled(check: Check, factor: float, where: str) -> Check:
    """The threshold times ``factor``, refused when that is no longer the number written:
    inf (it would pass every ``<``) or 0 from a number that is not 0."""
    value = check.threshold * factor
    if not math.isfinite(value):
        raise AssertionSyntax(
            f"{where}: {check.written}{check.unit} is too large: it overflows to infinity "
            "in base units (seconds, shares); expected a finite threshold"
        )
    if (value == 0 and check.threshold != 0) or (check.threshold == 0 and _nonzero(check.written)):
        raise AssertionSyntax(
            f"{where}: {check.written}{check.unit} is too small: it underflows to 0 "
            "in base units; expected a threshold of at least about 1e-300"
        )
    return replace(check, threshold=value)


def _nonzero(written: str) -> bool:
    """Whether the number as written has a non-zero digit before any exponent."""
    mantissa = written.lower().split("e")[0]
    return any(ch in "123456789" for ch in mantissa)
