r"""What a 404 for a path no route matches says beyond "not found": the near miss a
client most likely made. A path in the shape of another dialect, or a segment away from
a route (the route, filled in); a dialect's name where its prefix belongs; a first
segment that names no dialect (the dialects served, and where). Made only when a 404
is answered: the routes are compiled once, and each hint costs a few dozen short string
comparisons (``MAX_SEGMENTS`` and ``MAX_COMPARED`` bound them for hostile paths; the
latest hints are kept). The near misses of job ids and projects are in
``mock_server.near_miss_jobs``.

The client's own text is quoted back through ``quoted`` (cut short, unprintables
escaped), and a suggested path carries a segment of the request only where the dialect
reads it as an id or a tenant's name.

>>> print(no_route("/ordo/tasks/1", 0).replace("? (", "?\n("))
no such path: /ordo/tasks/1; did you mean GET /ordo/jobs/1 (ordo)?
(tasks/{id} is the shape of fiddler's paths)
>>> no_route("/jobz/1", 0).split("; ")[1]
'no dialect is served at /jobz'
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from mock_server.responses import quoted
from sim.dialects import DIALECTS, Dialect, Kind, Route, compile_path
from sim.mock_spec import RESERVED_TENANTS, TENANT_NAME

MAX_SEGMENTS = 8  #: a longer path gets the list of what is served, no closer look
MAX_COMPARED = 40  #: characters of a segment compared with a route's literal
NEAR = 0.5  #: a first segment this close (edits per character) to a prefix names it
SUGGESTED = 3  #: the most routes a hint suggests at once

#: the server's own first segments (``/_admin`` and its paths are the admin API's)
OWN = ("healthz", "metrics", "openapi.json", "_admin")

_Pattern = tuple[tuple[str, str, str], ...]  # ("lit", text, "") or ("var", name, suffix)


#: every route: its pattern, dialect and route
_ROUTES: list[tuple[_Pattern, Dialect, Route]] = [
    (compile_path(r.path), d, r) for d in DIALECTS.values() for r in d.routes
]
#: the first segment of a dialect's paths -> the dialect
_PREFIX: dict[str, Dialect] = {p[0][1]: d for p, d, _ in _ROUTES}


def _entry(dialect: Dialect) -> str:
    """Where a dialect's client starts: its submission path, else its first route's."""
    route = next((r for r in dialect.routes if r.kind is Kind.SUBMIT), dialect.routes[0])
    return route.path


#: what a first segment may be a slip of: a dialect's prefix or name (for its prefix),
#: or a path of the server's own (WireMock's ``__admin`` among them)
_GUESSES: list[tuple[str, Dialect | None, str]] = [
    *((prefix, d, prefix) for prefix, d in _PREFIX.items()),
    *((d.name, d, compile_path(d.routes[0].path)[0][1]) for d in DIALECTS.values()),
    *((own, None, own) for own in OWN),
    ("__admin", None, "_admin"),
    ("admin", None, "_admin"),
    ("openapi", None, "openapi.json"),
]
_EXACT = {guess[0]: guess for guess in reversed(_GUESSES)}  # the first listed wins
#: the dialects served and where: the tail of a hint that has nothing closer to say
SERVED = (
    "the dialects are served at "
    + ", ".join(f"{_entry(d)} ({d.name})" for d in DIALECTS.values())
    + "; and the server's own /healthz, /metrics, /openapi.json and /_admin"
)


# --- paths no route matches -----------------------------------------------------------


@lru_cache(maxsize=256)  # a client that repeats its mistake pays once
def no_route(path: str, seed: int, method: str = "GET") -> str:
    """The message of a 404 for ``path`` (as received, decoded), which no route matches:
    what it is nearest to."""
    head = f"no such path: {quoted(path)}"
    parts = [p for p in path.split("/") if p]
    if "." in parts or ".." in parts:
        return f"{head}; '.' and '..' segments are not resolved: send the path they stand for"
    if not parts or len(parts) > MAX_SEGMENTS:
        return f"{head}; {SERVED}"
    dialect = _PREFIX.get(parts[0])
    if dialect is not None:
        return head + _within(dialect, parts, seed, method)
    slip = _slip(parts[0])
    if slip is not None:
        word, dialect, prefix = slip
        if dialect is None:  # a path of the server's own: only /_admin has more below
            rest = "/".join(quoted(p, 40) for p in parts[1:]) if prefix == "_admin" else ""
            return f"{head}; did you mean /{prefix}{'/' + rest if rest else ''}?"
        near = _nearest(dialect, [prefix, *parts[1:]], seed, method)
        where = f"{dialect.name}'s paths begin /{prefix}"
        if near and word == prefix:
            return f"{head}; did you mean {near} ({dialect.name})?"
        if near:
            return f"{head}; did you mean {near}? ({where})"
        return f"{head}; no dialect is served at /{quoted(parts[0], 40)}; {where}"
    fits = _fitting_tails(parts, seed)
    if fits:
        return f"{head}; paths begin with a dialect's prefix: {', '.join(fits)}"
    return f"{head}; no dialect is served at /{quoted(parts[0], 40)}; {SERVED}"


def _within(dialect: Dialect, parts: list[str], seed: int, method: str) -> str:
    """The hint for a path under ``dialect``'s prefix: its nearest routes, and whose
    shape the rest of the path has where another dialect's paths have it."""
    near = _nearest(dialect, parts, seed, method)
    shapes = sorted(
        {
            d.name
            for p, d, _ in _ROUTES
            if d is not dialect and len(p) == len(parts) and _fits(p[1:], parts[1:])
        }
    )
    shape = ""
    if shapes:
        tail = next(
            "/".join(_show(s) for s in p[1:])
            for p, d, _ in _ROUTES
            if d.name == shapes[0] and len(p) == len(parts) and _fits(p[1:], parts[1:])
        )
        shape = f" ({tail} is the shape of {listed(n + chr(39) + 's' for n in shapes)} paths)"
    if near:
        return f"; did you mean {near} ({dialect.name})?{shape}"
    paths = sorted({r.path for r in dialect.routes})
    return f"; {dialect.name}'s paths are {', '.join(paths)}{shape}"


def _nearest(dialect: Dialect, parts: list[str], seed: int, method: str) -> str:
    """The dialect's routes at most one segment's change from ``parts``, filled in with
    what the request's segments may safely say, or "" where none is that near."""
    costs: dict[tuple[str, str], float] = {}
    scored = []
    for pattern, d, route in _ROUTES:
        if d is dialect:
            scored.append((_distance(pattern, parts, costs), pattern, route))
    best = min(c for c, _, _ in scored)
    if best > 1.0:
        return ""
    found: dict[str, str] = {}
    for cost, pattern, route in scored:
        if cost == best:
            filled = _fill(dialect, pattern, parts, seed)
            if filled not in found or route.method == method:
                found[filled] = route.method
    shown = [f"{m} {p}" for p, m in list(found.items())[:SUGGESTED]]
    return " or ".join(shown)


def _fitting_tails(parts: list[str], seed: int) -> list[str]:
    """Routes whose path after its prefix is ``parts`` (a path without its dialect's
    prefix), filled in, with their dialect."""
    out = []
    for pattern, d, route in _ROUTES:
        if len(pattern) == len(parts) + 1 and _fits(pattern[1:], parts):
            item = f"{route.method} {_fill(d, pattern, [pattern[0][1], *parts], seed)} ({d.name})"
            if item not in out:
                out.append(item)
    return out[: SUGGESTED + 1]


def _fits(pattern: _Pattern, parts: list[str]) -> bool:
    """Whether ``parts`` fit ``pattern`` as the router would take them, and the pattern
    has a literal segment (placeholders alone fit any path: a shape of nothing)."""
    if len(pattern) != len(parts) or all(kind == "var" for kind, _, _ in pattern):
        return False
    for (kind, text, suffix), part in zip(pattern, parts, strict=True):
        if kind == "lit":
            if part != text:
                return False
        elif suffix:
            if not part.endswith(suffix) or len(part) == len(suffix):
                return False
        elif ":" in part:
            return False
    return True


def _distance(pattern: _Pattern, parts: list[str], costs: dict) -> float:
    """Segments to change, add or drop to make ``parts`` fit ``pattern`` (a literal
    changed by a few letters counts for the share of its letters changed)."""
    n = len(parts)
    row = [float(j) for j in range(n + 1)]
    for i, segment in enumerate(pattern, 1):
        prev, row = row, [float(i)] + [0.0] * n
        for j, part in enumerate(parts, 1):
            change = prev[j - 1] + _segment_cost(segment, part, costs)
            row[j] = min(change, prev[j] + 1, row[j - 1] + 1)
    return row[n]


def _segment_cost(segment: tuple[str, str, str], part: str, costs: dict) -> float:
    kind, text, suffix = segment
    if kind == "var":
        if suffix:
            return 0.0 if part.endswith(suffix) and len(part) > len(suffix) else 0.5
        return 1.0 if ":" in part else 0.0
    if part == text:
        return 0.0
    key = (text, part)
    cost = costs.get(key)
    if cost is None:
        cost = costs[key] = _unlike(text, part)
    return cost


def _unlike(word: str, part: str) -> float:
    """How unlike ``part`` is to ``word``: 0.1 where only letter case differs, else
    the edits that make one the other over the longer's length (1 past ``MAX_COMPARED``
    characters, or lengths far apart)."""
    if len(part) > MAX_COMPARED or abs(len(part) - len(word)) > max(3, len(word)):
        return 1.0
    a, b = word.lower(), part.lower()
    if a == b:
        return 0.1
    return min(1.0, _edits(a, b) / max(len(a), len(b)))


def _edits(a: str, b: str) -> int:
    """Levenshtein's distance (inserts, deletes and changes of one character)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row = row, [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
    return row[-1]


def _slip(first: str) -> tuple[str, Dialect | None, str] | None:
    """The prefix (a dialect's, or one of the server's own) that ``first`` most likely
    meant: a dialect's name for its prefix, or a prefix a letter or two away."""
    if len(first) > MAX_COMPARED:
        return None
    exact = _EXACT.get(first)
    if exact is not None:
        return exact
    best, found = NEAR, None
    for word, dialect, prefix in _GUESSES:
        if abs(len(word) - len(first)) >= NEAR * max(len(word), len(first)):
            continue  # too many letters apart to be near
        cost = _unlike(word, first)
        if cost < best:
            best, found = cost, (word, dialect, prefix)
    return found


def _fill(dialect: Dialect, pattern: _Pattern, parts: list[str], seed: int) -> str:
    """``pattern`` as a path, each placeholder given the request's segment in the same
    place (counted from the start) where the dialect reads it as that (an id, a
    tenant's name), else left as the placeholder."""
    out = []
    for i, (kind, text, suffix) in enumerate(pattern):
        if kind == "lit":
            out.append(text)
            continue
        part = parts[i] if i < len(parts) else ""
        if ":" in part:  # an action's suffix, as asked or misspelt: the id is before it
            part = part.partition(":")[0] if suffix else ""
        if text == "project":
            usable = TENANT_NAME.fullmatch(part) and part.lower() not in RESERVED_TENANTS
        else:
            usable = dialect.read_id(part, seed) is not None
        out.append((part if usable else "{" + text + "}") + suffix)
    return "/" + "/".join(out)


def _show(segment: tuple[str, str, str]) -> str:
    kind, text, suffix = segment
    return text if kind == "lit" else "{" + text + "}" + suffix


def listed(names: Iterable[str]) -> str:
    """Names in a sentence: "a", "a and b", "a, b and c"."""
    items = list(names)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
