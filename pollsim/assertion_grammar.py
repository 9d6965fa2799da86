"""The assertion grammar: ``[AGG(]metric[)] OP number[unit]``, read into a :class:`Check`.

One grammar for ``pollsim report``, ``pollsim simulate`` and ``pollsim loadtest``::

    p95(detection_latency) < 10s
    retry_after_violations == 0          a bare count means its sum
    mean(gave_up) <= 1%                  a 0/1 flag's mean is a share
    mean(requests_per_second) <= 50

A text that does not read is one line naming the column and what was expected there
(:class:`AssertionSyntax`); the thresholds are kept in base units (seconds, shares from 0
to 1, counts), so that a measured value compares with them as it is.

>>> c = parse_assertion("p95(detection_latency) < 10s")
>>> c.agg, c.metric, c.op, c.threshold
('p95', 'detection_latency', '<', 10.0)
>>> c.holds(14.2), c.format(14.2)
(False, '14.2s')
>>> parse_assertion("mean(gave_up) <= 1%").threshold
0.01
>>> parse_assertion("gave_up == 0").name, parse_assertion("gave_up == 0").agg
('gave_up == 0', 'sum')
>>> parse_assertion("p95(detection_latncy) < 10s")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
pollsim.assertion_grammar.AssertionSyntax: --assert 'p95(detection_latncy) < 10s': at ...
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass

#: kinds of metric: what their values are and which units a threshold on them takes
DURATION, COUNT, FLAG, RATE = "duration", "count", "flag", "rate"


@dataclass(frozen=True)
class Metric:
    """A metric of the vocabulary: its kind, what one value is per, and its description."""

    name: str
    kind: str
    per: str  #: "job" or "second"
    what: str


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "detection_latency",
            DURATION,
            "job",
            "seconds from a job's end to its client seeing it (jobs not seen ended excluded)",
        ),
        Metric("polls", COUNT, "job", "requests a client made about a job"),
        Metric("wasted_polls", COUNT, "job", "polls that found nothing new"),
        Metric("retry_after_violations", COUNT, "job", "polls sooner than a Retry-After asked"),
        Metric("gave_up", FLAG, "job", "1 if the client gave up on the job, else 0"),
        Metric("errored", FLAG, "job", "1 if the client stopped on an error answer, else 0"),
        Metric("unfinished", FLAG, "job", "1 if the client was still watching at the end"),
        Metric("requests_per_second", RATE, "second", "requests at the server in each second"),
    )
}

#: aggregates: numpy's percentiles (linear), as the summaries take them
AGGREGATES = ("mean", "p50", "p90", "p95", "p99", "max", "min", "sum", "count")
OPERATORS = ("<=", ">=", "==", "!=", "<", ">")  # the two-character ones first
#: units of a threshold, in base units (seconds; a share from 0 to 1)
DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
UNITS = (*DURATION_UNITS, "%")
#: == and != on values that are not whole numbers: equal within this relative tolerance
REL_TOL = 1e-9

_NAME = re.compile(r"[^\W\d]\w*")  # unicode too, so that an error names the whole word
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_WORDS = re.compile(r"[+-]?(?:nan|inf(?:inity)?)", re.ASCII | re.IGNORECASE)
_LOOKALIKES = {"≤": "<=", "≥": ">=", "≠": "!=", "=": "==", "=<": "<=", "=>": ">=", "<>": "!="}


class AssertionSyntax(ValueError):
    """A bad assertion (or one the measures cannot answer): its one-line message."""


@dataclass(frozen=True)
class Check:
    """One assertion, read: ``agg(metric) op threshold``, the threshold in base units
    (seconds, a share from 0 to 1, a count) and ``unit`` as written (for showing values)."""

    text: str  #: as the user wrote it
    agg: str
    metric: str
    op: str
    threshold: float
    unit: str = ""
    bare: bool = False  #: written without an aggregate (a count's sum)
    written: str = ""  #: the threshold's number as written (shown as is)

    @property
    def name(self) -> str:
        """The check in its canonical form: ``p95(detection_latency) < 10s``."""
        lhs = self.metric if self.bare else f"{self.agg}({self.metric})"
        shown_threshold = (
            f"{self.written}{self.unit or ('s' if self.kind == DURATION else '')}"
            if self.written
            else self.format(self.threshold)
        )
        return f"{lhs} {self.op} {shown_threshold}"

    @property
    def kind(self) -> str:
        """What the aggregate's value is: a duration, a count, a share or a rate."""
        m = METRICS[self.metric]
        if self.agg == "count":
            return COUNT
        if m.kind == FLAG:
            return COUNT if self.agg in ("sum", "max", "min") else "share"
        return m.kind

    def holds(self, measured: float) -> bool:
        """Whether ``measured`` meets the check; ``==``/``!=`` within :data:`REL_TOL`
        unless both sides are whole numbers (counts compare exactly)."""
        t = self.threshold
        if self.op in ("==", "!="):
            whole = float(measured).is_integer() and float(t).is_integer()
            same = measured == t if whole else math.isclose(measured, t, rel_tol=REL_TOL)
            return same if self.op == "==" else not same
        return {
            "<": measured < t,
            "<=": measured <= t,
            ">": measured > t,
            ">=": measured >= t,
        }[self.op]

    def format(self, value: float) -> str:
        """A value in the unit the threshold was written in (seconds when none)."""
        if self.unit == "%":
            return f"{_number(value * 100)}%"
        if self.kind == DURATION:
            unit = self.unit or "s"
            return f"{_number(value / DURATION_UNITS[unit])}{unit}"
        return _number(value)


def _number(v: float) -> str:
    """About four significant digits, no exponent for everyday sizes: 14.2, 0.00123, 14236."""
    if not math.isfinite(v):
        return str(v)
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    if abs(v) >= 1e15 or abs(v) < 1e-6:
        return f"{v:.4g}"
    decimals = min(6, max(0, 3 - math.floor(math.log10(abs(v)))))
    text = f"{v:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """``"; did you mean X?"`` for the nearest of ``choices``, or nothing."""
    near = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {near[0]}?" if near else ""


def shown(text: str) -> str:
    """The assertion as an error line quotes it: whole, or its start and its length."""
    return repr(text) if len(text) <= 80 else f"{text[:60]!r}... ({len(text)} characters)"


class _Reader:
    """A cursor over the text that says where it stopped when it finds no sense."""

    def __init__(self, text: str) -> None:
        self.text, self.i = text, 0

    def skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():  # NBSP from a page too
            self.i += 1

    def fail(self, expected: str, at: int | None = None) -> AssertionSyntax:
        at = self.i if at is None else at
        rest = self.text[at:]
        found = (
            "the end" if not rest.strip() else repr(rest[:12] + ("..." if len(rest) > 12 else ""))
        )
        return AssertionSyntax(
            f"--assert {shown(self.text)}: at column {at + 1}: expected {expected}, found {found}"
        )

    def match(self, pattern: re.Pattern) -> str | None:
        m = pattern.match(self.text, self.i)
        if not m:
            return None
        self.i = m.end()
        return m.group()


def parse_assertion(text: str) -> Check:
    """Read one assertion; :class:`AssertionSyntax` (one line: the column, what was
    expected there, what was found) when it does not read or does not make sense."""
    if not isinstance(text, str) or not text.strip():
        raise AssertionSyntax(
            f"--assert {shown(text)}: empty; expected [AGG(]metric[)] OP number[unit], "
            "e.g. 'p95(detection_latency) < 10s'"
        )
    r = _Reader(text)
    r.skip()
    start = r.i
    word = r.match(_NAME)
    if word is None:
        raise r.fail(f"a metric ({', '.join(METRICS)}) or an aggregate such as p95(...)")
    if re.fullmatch(r"p\d+", word) and r.text.startswith(".", r.i):
        found = word + (r.match(re.compile(r"\.\d*")) or "")
        percentiles = ", ".join(a for a in AGGREGATES if a[0] == "p")
        raise AssertionSyntax(
            f"--assert {shown(text)}: at column {start + 1}: a percentile is pNN with a whole "
            f"number, one of {percentiles}; found {found!r}"
        )
    r.skip()
    agg = ""
    if r.text.startswith("(", r.i):
        agg = word
        if agg not in AGGREGATES:
            if agg in METRICS:
                raise r.fail(
                    f"an operator: {agg} is a metric, not an aggregate ({', '.join(AGGREGATES)})"
                )
            raise AssertionSyntax(
                f"--assert {shown(text)}: at column {start + 1}: unknown aggregate {agg!r}, "
                f"expected one of {', '.join(AGGREGATES)}{suggest(agg, AGGREGATES)}"
            )
        r.i += 1
        r.skip()
        metric_at = r.i
        word = r.match(_NAME)
        if word is None:
            raise r.fail(f"a metric inside {agg}(...)")
        r.skip()
        if r.text.startswith("(", r.i):
            raise r.fail(f"')': aggregates do not nest; {agg}(...) takes a metric", at=r.i)
        if not r.text.startswith(")", r.i):
            raise r.fail(f"')' to close {agg}(")
        r.i += 1
        start = metric_at
    metric = word
    if metric not in METRICS:
        choices = list(METRICS) + (list(AGGREGATES) if not agg else [])
        hint = suggest(metric, choices)
        if metric in AGGREGATES:
            hint = f"; {metric} is an aggregate: say {metric}(METRIC)"
        raise AssertionSyntax(
            f"--assert {shown(text)}: at column {start + 1}: unknown metric {metric!r}, "
            f"expected one of {', '.join(METRICS)}{hint}"
        )
    bare = not agg
    if bare:
        agg = _bare(text, metric)
    r.skip()
    op = next((o for o in OPERATORS if r.text.startswith(o, r.i)), None)
    if r.text.startswith("<>", r.i):
        op = None  # not "<" and then a stray ">"
    if op is None:
        near = next(
            (k for k in sorted(_LOOKALIKES, key=len, reverse=True) if r.text.startswith(k, r.i)),
            None,
        )
        hint = f" (for {near!r} say {_LOOKALIKES[near]!r})" if near else ""
        raise r.fail(f"an operator: {', '.join(sorted(OPERATORS, key=len))}{hint}")
    r.i += len(op)
    r.skip()
    at = r.i
    if r.match(_WORDS) is not None:
        raise r.fail("a finite number (nan and inf are no thresholds)", at=at)
    number = r.match(_NUMBER)
    if number is None:
        raise r.fail("a number, e.g. 10, 2.5, 1e3", at=at)
    value = float(number)
    if not math.isfinite(value):
        raise r.fail("a number of at most about 1.8e308", at=at)
    r.skip()  # "10 s" reads as "10s"
    unit_at = r.i
    unit = next((u for u in ("ms", "s", "m", "h", "%") if r.text.startswith(u, r.i)), "")
    if unit and _NAME.match(r.text, r.i + len(unit)) and unit != "%":
        unit = ""  # "10sec", "5min": not a unit of the grammar
    r.i += len(unit)
    r.skip()
    if r.i < len(r.text):
        fits = {DURATION: "a unit (s, ms, m, h) or ", "share": "% or "}
        kind = Check(text, agg, metric, op, value).kind
        raise r.fail(f"{'' if unit else fits.get(kind, '')}the end of the assertion")
    check = Check(text, agg, metric, op, value, unit, bare, number.lstrip("+"))
    from pollsim.assertion_threshold import with_unit

    return with_unit(check, unit_at)


def _bare(text: str, metric: str) -> str:
    """The aggregate a bare metric stands for: ``sum`` for counts and flags."""
    if METRICS[metric].kind in (COUNT, FLAG):
        return "sum"
    raise AssertionSyntax(
        f"--assert {shown(text)}: {metric} needs an aggregate: say p95({metric}) or "
        f"mean({metric}) (aggregates: {', '.join(AGGREGATES)})"
    )
