"""Strategies as text, for scenario files and the command line: the same calls as in
Python, or a preset's name. ``str(strategy)`` parses back to an equal value.

>>> s = parse_strategy("exponential(1, 1.5, max=20) | after_delay('15m')")
>>> str(s)
'exponential(1, 1.5, max=20) | after_delay(900)'
>>> parse_strategy(str(s)) == s
True
>>> parse_strategy("fixed(-3)")
Traceback (most recent call last):
...
sim.strategies.text.StrategyError: strategy 'fixed(-3)': at column 1: fixed: seconds must be ...
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import inspect
import re
from collections.abc import Callable

from sim.durations import parse_duration
from sim.limits import MAX_DEPTH, MAX_STRATEGY_CHARS, MAX_TERMS
from sim.strategies import feedback, stops, waits
from sim.strategies._values import num, short
from sim.strategies.poll import Strategy, poll
from sim.strategies.presets import PRESET_MAKERS, PRESETS
from sim.strategies.retries import retries as request_retries
from sim.strategies.stops import Stop
from sim.strategies.waits import Wait


class StrategyError(ValueError):
    """A strategy text that does not parse, with the part that is wrong."""


_DURATION_ARGS = {"seconds", "start", "step", "max", "initial", "low", "high", "min", "base"}
_DURATION_ARGS |= {"first", "long_poll", "within", "min_delay"}
#: arguments that take a word, not a duration: after_delay's check, poll's on_error
_WORD_ARGS = {"check", "on_error"}
#: arguments that take True or False
_FLAG_ARGS = {"retry_after", "ignore_zero", "on_retry_after"}

CALLS: dict[str, Callable] = {
    "fixed": waits.fixed,
    "linear": waits.linear,
    "exponential": waits.exponential,
    "uniform": waits.uniform,
    "full_jitter": waits.full_jitter,
    "equal_jitter": waits.equal_jitter,
    "decorrelated_jitter": waits.decorrelated_jitter,
    "for_attempts": waits.for_attempts,
    "per_status": feedback.per_status,
    "retry_after": feedback.retry_after,
    "progress": feedback.progress,
    "at_once_on_error": feedback.at_once_on_error,
    "per_http": feedback.per_http,
    "after_delay": stops.after_delay,
    "after_polls": stops.after_polls,
    "max_wait": stops.max_wait,
    "never": stops.never,
    "retries": request_retries,
    "poll": poll,
}


def parse_strategy(text: str) -> Strategy:
    """A Strategy from its text form or a preset name; StrategyError says what is wrong.
    A preset may stand in an expression (``ordo-js | after_delay('1h')``), and one that
    takes parameters is called (``smithy-waiter(max_wait='10m')``)."""
    name = text.strip()
    if name in PRESETS:
        return PRESETS[name]
    if re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)+", name):  # reads as a preset name
        hint = difflib.get_close_matches(name, PRESETS, n=1)
        more = f"did you mean {hint[0]}?" if hint else "expected one of " + ", ".join(PRESETS)
        raise _error(text, 1, f"unknown preset {name!r}; {more}")
    _check_size(text, name)
    # a text over several lines (a TOML multi-line string) reads as one; a preset's name
    # becomes an identifier of the same length, so columns stay where the user wrote them
    source = _PRESET_NAME.sub(lambda m: _AS_NAME[m.group(0)], re.sub(r"[\r\n\t]", " ", name))
    try:
        tree = ast.parse(source, mode="eval")
        value = _Builder(text).build(tree.body)
    except SyntaxError as exc:
        unquoted = _unquoted_duration(name)
        if unquoted is not None:
            raise _error(text, *unquoted) from None
        raise _error(text, exc.offset or 1, f"not a strategy ({exc.msg})") from None
    except (RecursionError, MemoryError):  # past what _check_size can see coming
        raise _error(text, 1, f"nested too deeply; at most {MAX_DEPTH} levels") from None
    if isinstance(value, Wait):
        return Strategy(value)
    if isinstance(value, request_retries):
        raise _error(
            text, 1, "retries go inside poll(...), e.g. poll(fixed(5), retries=retries(3))"
        )
    if not isinstance(value, Strategy):
        raise _error(text, 1, "a stop alone is not a strategy; give a wait, e.g. fixed(5) | ...")
    return value


#: each preset's name as an identifier (the same length) and back
_AS_NAME = {n: n.replace("-", "_") for n in PRESETS}
_PRESET_OF = {v: k for k, v in _AS_NAME.items()}
_PRESET_NAME = re.compile(
    r"(?<![\w-])("
    + "|".join(map(re.escape, sorted(PRESETS, key=len, reverse=True)))
    + r")(?![\w-])"
)


#: a duration with a unit written bare, where Python's tokenizer stops: 1h, 250ms, 1h30m,
#: and with spaces, 10 m and 1 h 30 m (quoted, the spaces go)
_PART = r"(?:\d+(?:\.\d*)?|\.\d+) *(?:ms|min|s|m|h|d)"
_BARE_DURATION = re.compile(rf"(?<![\w.'\"]){_PART}(?: *{_PART})*(?![\w'\"])", re.ASCII)


def _unquoted_duration(text: str) -> tuple[int, str] | None:
    """The column and message for a duration written without quotes (``after_delay(1h)``,
    which Python's tokenizer reads as a broken number), quoted in the call around it:
    ``after_delay(1h): quote a duration with a unit: after_delay('1h')``."""
    outside = (m for m in _BARE_DURATION.finditer(text) if _in_string(text[: m.start()]) is None)
    m = next(outside, None)
    if m is None:
        return None
    start, end = m.start(), m.end()
    depth, i = 0, start - 1
    while i >= 0 and not (text[i] == "(" and depth == 0):  # the call's opening parenthesis
        depth += {")": 1, "(": -1}.get(text[i], 0)
        i -= 1
    if i < 0:
        call = m.group()
        return start + 1, f"{call}: quote a duration with a unit: '{call.replace(' ', '')}'"
    name = re.search(r"[\w-]*\s*$", text[:i]).group()
    j, depth = end, 0
    while j < len(text) and not (text[j] == ")" and depth == 0):
        depth += {"(": 1, ")": -1}.get(text[j], 0)
        j += 1
    call = text[i - len(name) : j + 1]
    quoted = _BARE_DURATION.sub(lambda q: f"'{q.group().replace(' ', '')}'", call)
    return start + 1, f"{call}: quote a duration with a unit: {quoted}"


def _in_string(before: str) -> str | None:
    """The quote of the string literal that ``before`` ends inside, if any."""
    quote = None
    for c in before:
        if quote is None and c in "'\"":
            quote = c
        elif c == quote:
            quote = None
    return quote


def _shown(value: object) -> str:
    return num(value) if isinstance(value, int | float) else repr(value)


def _error(text: str, col: int, message: str) -> StrategyError:
    shown = text if len(text) <= 80 else f"{text[:60]}... ({len(text)} characters)"
    return StrategyError(f"strategy {shown!r}: at column {col}: {message}")


#: characters that join or negate terms: each one a level of Python's parser
_OPERATORS = frozenset("+|&-~*/%@^<>=!")


def _check_size(text: str, name: str) -> None:
    """Refuse a text too long, too deeply nested or with too many terms before parsing,
    which would recurse once per level or term."""
    if len(name) > MAX_STRATEGY_CHARS:
        raise _error(text, 1, f"{len(name)} characters; at most {MAX_STRATEGY_CHARS}")
    depth = terms = 0
    for col, ch in enumerate(name, start=1):
        if ch in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise _error(text, col, f"nested too deeply; at most {MAX_DEPTH} levels")
        elif ch in ")]}":
            depth -= 1
        elif ch in _OPERATORS:
            terms += 1
            if terms >= MAX_TERMS:
                raise _error(text, col, f"too many terms; at most {MAX_TERMS} joined by +, | or &")


class _Builder:
    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, node: ast.AST, message: str) -> StrategyError:
        return _error(self.text, getattr(node, "col_offset", 0) + 1, message)

    def build(self, node: ast.AST):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.BitOr | ast.BitAnd):
            left, right = self.build(node.left), self.build(node.right)
            try:
                if isinstance(node.op, ast.Add):
                    result = left + right
                elif isinstance(node.op, ast.BitOr):
                    result = left | right
                else:
                    result = left & right
            except TypeError:
                result = NotImplemented
            except ValueError as exc:  # e.g. & of stops checked at different moments
                raise self.fail(node, str(exc)) from None
            if result is NotImplemented or result is None:
                op = {ast.Add: "+", ast.BitOr: "|", ast.BitAnd: "&"}[type(node.op)]
                raise self.fail(node, f"cannot combine {_kind(left)} {op} {_kind(right)}")
            return result
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self.call(node)
        if isinstance(node, ast.Name):
            if node.id == "never":
                return stops.never()
            if node.id in _PRESET_OF:
                return PRESETS[_PRESET_OF[node.id]]
            raise self.unknown(node, node.id)
        raise self.fail(node, "expected a call such as fixed(5), or a preset name")

    def unknown(self, node: ast.AST, name: str) -> StrategyError:
        known = [*CALLS, *PRESETS]
        hint = difflib.get_close_matches(name, known, n=1)
        more = f"did you mean {hint[0]}?" if hint else "expected one of " + ", ".join(known)
        return self.fail(node, f"unknown name {name!r}; {more}")

    def call(self, node: ast.Call):
        name = node.func.id  # type: ignore[attr-defined]
        preset = _PRESET_OF.get(name)
        make = CALLS.get(name) if preset is None else PRESET_MAKERS.get(preset)
        if make is None and preset is not None:
            raise self.fail(node, f"the preset {preset} takes no parameters")
        if make is None:
            raise self.unknown(node, name)
        args = [self.argument(a, None) for a in node.args]
        kwargs: dict = {}
        for k in node.keywords:
            if k.arg is None:
                raise self.fail(k.value, "** is not taken; name each argument")
            if k.arg in kwargs:
                raise self.fail(k.value, f"{k.arg} is given twice")
            kwargs[k.arg] = self.argument(k.value, k.arg)
        shown = name if preset is None else preset
        signature = inspect.signature(make)
        try:
            signature.bind(*args, **kwargs)
        except TypeError as exc:
            params = ", ".join(signature.parameters)
            raise self.fail(node, f"{shown}({params}): {exc}") from None
        try:
            made = make(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            raise self.fail(node, str(exc)) from None
        if preset is not None:  # named by the parameters it was given
            given = [_shown(a) for a in args] + [f"{k}={_shown(v)}" for k, v in kwargs.items()]
            made = dataclasses.replace(made, name=f"{preset}({', '.join(given)})")
        return made

    def argument(self, node: ast.AST, key: str | None):
        if key in _WORD_ARGS:
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                return node.value
            example = "check='ahead'" if key == "check" else "on_error='stop'"
            raise self.fail(node, f"{key} takes a word in quotes, e.g. {example}")
        if key in _FLAG_ARGS:
            if isinstance(node, ast.Constant) and isinstance(node.value, bool):
                return node.value
            raise self.fail(node, f"{key} takes True or False")
        if key == "on":
            elements = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
            return tuple(self.status(e) for e in elements)
        if isinstance(node, ast.List | ast.Tuple):
            raise self.fail(node, "a list is taken only by on=, e.g. on=[429, 503]")
        if isinstance(node, ast.Constant) and node.value is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                return parse_duration(node.value)
            except ValueError as exc:
                raise self.fail(node, f"{short(node.value)}: {exc}") from None
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            if isinstance(node.value, bool):
                raise self.fail(
                    node,
                    "True or False is taken only by name, e.g. retry_after=True; expected a number",
                )
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.argument(node.operand, key)
            if isinstance(inner, bool) or not isinstance(inner, int | float):
                raise self.fail(node, "- goes before a number only")
            return -inner
        if isinstance(node, ast.Name) and node.id == "inf":
            return float("inf")
        return self.build(node)

    def status(self, node: ast.AST) -> int:
        """An HTTP status in retries' ``on`` list."""
        if isinstance(node, ast.Constant) and type(node.value) in (int, str):
            return node.value
        raise self.fail(
            node, "on takes HTTP statuses and ranges, e.g. on=[429, 503, '506-599'] (0: no answer)"
        )


def _kind(value: object) -> str:
    if isinstance(value, Wait):
        return "a wait"
    if isinstance(value, Stop):
        return "a stop"
    return "a strategy" if isinstance(value, Strategy) else type(value).__name__
