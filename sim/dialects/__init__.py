"""The dialects pollsim speaks, one module each, and the router over their routes.

>>> from sim.dialects import ORDO, get_dialect, match
>>> ORDO.job_status(JobState.CANCELLED), ORDO.job_error(JobState.CANCELLED)
('failed', 'job was cancelled')
>>> hit = match("/ordo/jobs/12/cancel")
>>> hit.dialect.name, [r.method for r in hit.routes], hit.params
('ordo', ['POST'], {'id': '12'})
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.dialects.azure_lro import AZURE_LRO
from sim.dialects.base import (
    Action,
    ActionRefused,
    Answer,
    Dialect,
    JobLike,
    Kind,
    Reading,
    Route,
    Seen,
)
from sim.dialects.fiddler import FIDDLER
from sim.dialects.fiddler_v3 import FIDDLER_V3
from sim.dialects.generic import GENERIC
from sim.dialects.google_lro import GOOGLE_LRO
from sim.dialects.ordo import ORDO
from sim.dialects.workflow import WORKFLOW
from sim.states import JobState

__all__ = [
    "AZURE_LRO",
    "DIALECTS",
    "FIDDLER",
    "FIDDLER_V3",
    "GENERIC",
    "GOOGLE_LRO",
    "ORDO",
    "WORKFLOW",
    "Action",
    "ActionRefused",
    "Answer",
    "Dialect",
    "JobLike",
    "JobState",
    "Kind",
    "Match",
    "Reading",
    "Route",
    "Seen",
    "get_dialect",
    "match",
]

#: every dialect, by name, in the order the banner and the OpenAPI document list them
DIALECTS: dict[str, Dialect] = {d.name: d for d in (ORDO, FIDDLER, FIDDLER_V3, WORKFLOW, GENERIC)}
DIALECTS[AZURE_LRO.name] = AZURE_LRO
DIALECTS[GOOGLE_LRO.name] = GOOGLE_LRO


def get_dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(
            f"unknown dialect {name!r}; expected one of {', '.join(DIALECTS)}"
        ) from None


@dataclass(frozen=True)
class Match:
    """A path that names endpoints of a dialect: the routes there (one per method) and
    what its placeholders captured (``id``, ``project``)."""

    dialect: Dialect
    routes: tuple[Route, ...]
    params: dict[str, str]

    def route(self, method: str) -> Route | None:
        return next((r for r in self.routes if r.method == method), None)

    @property
    def allow(self) -> str:
        """The methods allowed here, for a 405's Allow header."""
        return ", ".join(sorted({r.method for r in self.routes}))


_Segment = tuple[str, str, str]  # ("lit", text, "") or ("var", name, suffix)


def compile_path(path: str) -> tuple[_Segment, ...]:
    """A route's path template as segments: literal, or a variable and its suffix."""
    out = []
    for part in path.strip("/").split("/"):
        if part.startswith("{"):
            name, _, suffix = part[1:].partition("}")
            out.append(("var", name, suffix))
        else:
            out.append(("lit", part, ""))
    return tuple(out)


def _capture(pattern: tuple[_Segment, ...], parts: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(parts):
        return None
    params: dict[str, str] = {}
    for (kind, text, suffix), part in zip(pattern, parts, strict=True):
        if kind == "lit":
            if part != text:
                return None
        elif suffix:
            if not part.endswith(suffix) or len(part) == len(suffix):
                return None
            params[text] = part[: -len(suffix)]
        elif ":" in part or not part:  # "12:cancel" is the action's, not an id
            return None
        else:
            params[text] = part
    return params


#: first literal segment -> [(pattern, dialect, route)]
_BY_FIRST: dict[str, list[tuple[tuple[_Segment, ...], Dialect, Route]]] = {}
for _d in DIALECTS.values():
    for _r in _d.routes:
        _p = compile_path(_r.path)
        assert _p[0][0] == "lit", f"{_d.name}: a route starts with a literal: {_r.path}"
        _BY_FIRST.setdefault(_p[0][1], []).append((_p, _d, _r))


def match(path: str) -> Match | None:
    """The dialect endpoints at ``path`` (its segments, as received, decoded), or None."""
    parts = path.strip("/").split("/")
    found: list[tuple[Dialect, Route, dict[str, str]]] = []
    for pattern, dialect, route in _BY_FIRST.get(parts[0], ()):
        params = _capture(pattern, parts)
        if params is not None:
            found.append((dialect, route, params))
    if not found:
        return None
    dialect, _, params = found[0]
    return Match(dialect, tuple(r for d, r, p in found if d is dialect and p == params), params)


def first_segments() -> dict[str, Dialect]:
    """The first segment of each dialect's paths -> the dialect (for metrics labels)."""
    return {p[0][1]: d for p, d, _ in (x for v in _BY_FIRST.values() for x in v)}
