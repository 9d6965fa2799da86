"""Reading a TOML table key by key, so that every bad value is reported as one line naming
the file, the key, what was found and what was expected."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from sim.limits import MAX_DEPTH, MAX_ITEMS

T = TypeVar("T")
_MISSING: Any = object()
#: the largest whole number or number a key takes unless it says otherwise
MOST = 10**12


class ScenarioError(ValueError):
    """A scenario that cannot be run, said in one line: ``file: key: what is wrong``."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source, self.key, self.message = source, key, message
        text = f"{source}: {key}: {message}" if key else f"{source}: {message}"
        super().__init__(one_line(text))


def one_line(text: str) -> str:
    """``text`` with its line breaks and other control characters escaped (a file name
    or a key may hold them), so that a message stays one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class Expected(ValueError):
    """Raised by a parser: the value is not of the form ``what``."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def show(value: object) -> str:
    """A found value as the user wrote it in TOML, kept short."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return "an array of tables"
    try:
        text = json.dumps(value, default=str)
    except RecursionError:
        return "a value nested too deeply to show"
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Reader:
    """One TOML table under a dotted ``prefix``; ``done()`` rejects keys nobody took."""

    def __init__(self, data: object, source: str, prefix: str = "") -> None:
        self.source = source
        self.prefix = prefix
        if not isinstance(data, dict):
            raise ScenarioError(source, prefix, f"found {show(data)}, expected a table")
        self.data = dict(data)
        self.known: list[str] = []

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, message: str) -> ScenarioError:
        return ScenarioError(self.source, self.key(name), message)

    def has(self, name: str) -> bool:
        return name in self.data

    def get(self, name: str, parse: Callable[[Any], T], default: T = _MISSING) -> T:
        """The parsed value of ``name``, or ``default`` when absent (required if none)."""
        self.known.append(name)
        if name not in self.data:
            if default is _MISSING:
                raise self.error(name, "missing; this key is required")
            return default
        raw = self.data.pop(name)
        return self.parse(name, raw, parse)

    def parse(self, name: str, raw: object, parse: Callable[[Any], T]) -> T:
        try:
            return parse(raw)
        except ScenarioError:
            raise
        except Expected as exc:
            raise self.error(name, f"found {show(raw)}, expected {exc.what}") from None
        except (ValueError, TypeError) as exc:
            raise self.error(name, f"found {show(raw)}: {exc}") from None

    def table(self, name: str) -> Reader:
        """A sub-table (empty when absent)."""
        self.known.append(name)
        return Reader(self.data.pop(name, {}), self.source, self.key(name))

    def tables(self, name: str, most: int = MAX_ITEMS) -> list[Reader]:
        """An array of at most ``most`` tables (empty when absent)."""
        self.known.append(name)
        raw = self.data.pop(name, [])
        if not isinstance(raw, list):
            raise self.error(name, f"found {show(raw)}, expected an array of tables ([[{name}]])")
        if len(raw) > most:
            raise self.error(name, f"found {len(raw):,} tables, expected at most {most:,}")
        return [Reader(t, self.source, f"{self.key(name)}[{i}]") for i, t in enumerate(raw)]

    def done(self) -> None:
        for name in self.data:
            hint = difflib.get_close_matches(name, self.known, n=1)
            expected = f"did you mean {hint[0]!r}?" if hint else "expected one of: "
            if not hint:
                expected += ", ".join(self.known) if self.known else "no keys here"
            raise self.error(name, f"unknown key; {expected}")


def one_of(*choices: str) -> Callable[[object], str]:
    def parse(raw: object) -> str:
        if raw not in choices:
            raise Expected("one of " + ", ".join(json.dumps(c) for c in choices))
        return str(raw)

    return parse


def integer(low: int = 0, high: int = MOST) -> Callable[[object], int]:
    def parse(raw: object) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
            raise Expected(f"a whole number from {low} to {high:,}")
        return raw

    return parse


def number(low: float = 0.0, high: float = MOST) -> Callable[[object], float]:
    def parse(raw: object) -> float:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not low <= raw <= high:
            raise Expected(f"a number from {low:g} to {high:,g}")
        return float(raw)

    return parse


def probability(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 1:
        raise Expected("a probability in [0, 1]")
    return float(raw)


def boolean(raw: object) -> bool:
    if not isinstance(raw, bool):
        raise Expected("true or false")
    return raw


def text(raw: object) -> str:
    if not isinstance(raw, str) or not raw:
        raise Expected("a non-empty string")
    return raw


def list_of(
    item: Callable[[Any], T], what: str, most: int = MAX_ITEMS
) -> Callable[[object], tuple[T, ...]]:
    def parse(raw: object) -> tuple[T, ...]:
        if not isinstance(raw, list):
            raise Expected(f"an array of {what}")
        if len(raw) > most:
            raise Expected(f"an array of at most {most:,} {what} (found {len(raw):,})")
        out = []
        for i, v in enumerate(raw):
            try:
                out.append(item(v))
            except ValueError:
                raise Expected(f"an array of {what} (item {i} is {show(v)})") from None
        return tuple(out)

    return parse


def check_depth(data: object, source: str) -> None:
    """Refuse arrays and tables nested more than ``MAX_DEPTH`` levels, which every
    recursive reader (and ``show``) would follow; iterative, so any depth is safe here."""
    stack = [(data, 0, "")]
    while stack:
        value, depth, key = stack.pop()
        if depth > MAX_DEPTH:
            where = (key if len(key) <= 60 else key[:57] + "...") or "(top)"
            raise ScenarioError(source, where, f"nested too deeply; at most {MAX_DEPTH} levels")
        if isinstance(value, dict):
            stack.extend((v, depth + 1, f"{key}.{k}" if key else str(k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, depth + 1, key) for v in value)
