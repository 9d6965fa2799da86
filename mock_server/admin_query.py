"""The admin endpoints' query strings, read alike: a parameter an endpoint does not take
is a 400 naming it (a misspelt filter must not silently filter nothing), a value given
twice where one is taken too; the filters (``client``, ``job``, ...) may be repeated, any
of the values matching; numbers as ``status.query_number`` reads them (NaN, inf, signs
and other scripts' digits refused).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from mock_server.responses import Response, error, quoted
from mock_server.status import query_number
from sim.dialects import DIALECTS

if TYPE_CHECKING:
    from mock_server.core import Core

MAX_VALUE = 200  #: characters of a filter's value (a client id is kept to 200)


def values(query: Mapping[str, str], name: str) -> list[str]:
    """Every value given for ``name`` (aiohttp's query is a multidict; a test's a dict)."""
    getall = getattr(query, "getall", None)
    if getall is not None:
        return list(getall(name, []))
    raw = query.get(name)
    return [] if raw is None else [raw]


def unknown(query: Mapping[str, str], path: str, takes: Iterable[str], many=()) -> Response | None:
    """The 400 for a parameter ``path`` does not take (``takes``), or one given twice that
    is not among ``many``; None when the query is fine."""
    takes = tuple(takes)
    odd = sorted({k for k in query if k not in takes})
    if odd:
        listed = ", ".join(f"'{quoted(k, 40)}'" for k in odd[:5])
        listed += f" and {len(odd) - 5} more" if len(odd) > 5 else ""
        allowed = ", ".join(takes) if takes else "none"
        return error(
            400,
            "bad_query",
            f"{path}: unknown query parameter{'s' if len(odd) > 1 else ''} {listed}; "
            f"it takes: {allowed}",
        )
    for name in takes:
        if name not in many and len(values(query, name)) > 1:
            return error(400, "bad_query", f"{path}: {name} given more than once")
    return None


def texts(query: Mapping[str, str], name: str) -> list[str] | Response:
    """A filter's values (empty: no filter), each non-empty and at most ``MAX_VALUE``
    characters; else the 400 saying which."""
    out = values(query, name)
    for raw in out:
        if not raw or len(raw) > MAX_VALUE:
            return error(
                400,
                "bad_query",
                f"{name}='{quoted(raw, 40)}': expected 1 to {MAX_VALUE} characters",
            )
    return out


def job_ids(core: Core, query: Mapping[str, str]) -> set[int] | Response | None:
    """The jobs ``job=`` names (None: no filter): each value a job id as a dialect's
    paths show it (digits, a fiddler-v3 UUID), read in every dialect; a value no dialect
    reads is a 400. A job that does not exist is named all the same (it matches nothing)."""
    raw = texts(query, "job")
    if isinstance(raw, Response) or not raw:
        return raw or None
    out: set[int] = set()
    for text in raw:
        ids = {d.read_id(text, core.seed) for d in DIALECTS.values()} - {None}
        if not ids:
            return error(
                400,
                "bad_query",
                f"job='{quoted(text, 40)}': expected a job id as the API shows it "
                "(digits, or a fiddler-v3 UUID)",
            )
        out |= ids  # type: ignore[arg-type]
    return out


def count(query: Mapping[str, str], name: str, default: int, high: int) -> int | Response:
    """A whole number from 0 to ``high``."""
    value = query_number(query, name, default, 0, high, whole=True)
    return value if isinstance(value, Response) else int(value)


def seconds(query: Mapping[str, str], name: str) -> float | Response | None:
    """Simulated seconds >= 0 (None: not given); finite (1e999 reads as inf)."""
    return query_number(query, name, None, 0.0, sys.float_info.max)
