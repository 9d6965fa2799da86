"""``fiddler-v3``: the job API fiddler-client 3.x calls, at the server root, so that the
real client (``fdl.init``, ``Job.get``, ``job.wait``) runs against pollsim unchanged.

What the client reads, and what this dialect answers it:

- ``GET /v3/server-info``: ``{"data": {"server_version", "organization": {"id",
  "name"}, "feature_flags"}}``. The client parses ``server_version`` as semver and
  refuses one below its ``MIN_SERVER_VERSION`` (24.4.0 in 3.14.1): pollsim says
  ``SERVER_VERSION``. The organization is fixed: ``ORGANIZATION``.
- ``GET /v3/version-compatibility``: the client needs only a 2xx.
- ``GET /v3/jobs/{uuid}``: fiddler's ``JobResp`` in the envelope, ``{"data": {"id",
  "name", "status", "progress", "info", "error_message", "error_reason"},
  "api_version": "3.0", "kind": "NORMAL"}``; the Celery words of ``fiddler``.
- errors: fiddler's ``ErrorResponse``, ``{"error": {"code", "message", "errors":
  [{"reason", "message", "help"}]}, ...}``; the client raises ``NotFound``,
  ``Conflict`` or ``ApiError`` with the message only when the body parses as that.

pollsim's own, beside them: ``POST /v3/jobs`` (the submission every dialect takes),
``GET /v3/jobs`` (a page, in fiddler's paginated shape) and ``POST
/v3/jobs/{uuid}/revoke`` (only while PENDING, as fiddler's Celery tasks allow).

Job ids are UUIDs of version 4's shape that carry pollsim's integer id (see
``show_id``): stable for a scenario's seed, read back without a table, and refused
when written for another seed.
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sim.dialects.base import Action, Dialect, JobLike, Kind, Reading, Route, Seen
from sim.dialects.common import outputs, percent
from sim.dialects.fiddler import CELERY_WORDS, REVOKE, REVOKE_RULES
from sim.dialects.schema import NULLABLE_TEXT, NULLABLE_TIME, OUTPUTS, PERCENT, TEXT, enum, obj
from sim.states import JobState, StepState

_J = JobState
BASE = "/v3/jobs"
API_VERSION = "3.0"
#: the least fiddler-client 3.x accepts (its ``configs.MIN_SERVER_VERSION``)
SERVER_VERSION = "24.4.0"
#: fixed: pollsim's tenants are not fiddler organizations, and the client only shows it
ORGANIZATION = {"id": "00000000-0000-4000-8000-000000000001", "name": "pollsim"}

#: why a job ended badly, as fiddler's ``error_reason`` names it (an exception's name)
#: what fiddler's ``help`` says, where pollsim has something to add
HELP = {"not_found": "job ids here are UUIDs: the data.id that POST /v3/jobs answered"}
REASONS = {_J.FAILED: "StepFailed", _J.PARTIAL: "PartialFailure", _J.CANCELLED: "Revoked"}

# --- ids: a UUID of version 4's shape carrying the job id --------------------------------
#
# Bits, most significant first: 48 of the seed's prefix | version 4 | 12 more of the
# prefix | variant 0b10 | 62: the job id XOR the seed's mask. The prefix (60 bits) is
# checked when a UUID is read back, so another seed's UUID (or any other UUID) names
# no job, but for a chance of 2**-60.

_ID_BITS = 62
_ID_MASK = (1 << _ID_BITS) - 1
_FIXED = (0xF << 76) | (0b11 << 62)  #: the version and variant bits
_SHAPE = (0x4 << 76) | (0b10 << 62)  #: ... as version 4 has them
_UUID = re.compile(
    r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}"
)


@lru_cache(maxsize=64)
def _keys(seed: int) -> tuple[int, int]:
    """The seed's prefix, in place in the UUID's bits, and its id mask."""
    digest = hashlib.blake2b(f"pollsim fiddler-v3 job ids {seed}".encode(), digest_size=16)
    n = int.from_bytes(digest.digest(), "big")
    prefix = n >> 68  # 60 bits
    placed = ((prefix >> 12) << 80) | ((prefix & 0xFFF) << 64)
    return placed, n & _ID_MASK


def job_uuid(job_id: int, seed: int) -> str:
    """The UUID that shows ``job_id`` for ``seed`` (lower-case, hyphens)."""
    if not 0 <= job_id <= _ID_MASK:
        raise ValueError(f"a job id from 0 to 2**{_ID_BITS} - 1, not {job_id}")
    placed, mask = _keys(seed)
    return str(uuid.UUID(int=placed | _SHAPE | (job_id ^ mask)))


def job_id(text: str, seed: int) -> int | None:
    """The job id a UUID written by ``job_uuid(_, seed)`` carries; None for any other
    text. Hex digits in either case, with or without hyphens; ASCII only (``int`` reads
    other scripts' digits, and ``uuid.UUID`` takes ``+`` and ``_``)."""
    if not _UUID.fullmatch(text):
        return None
    n = int(text.replace("-", ""), 16)
    placed, mask = _keys(seed)
    if n & _FIXED != _SHAPE or n & ~(_ID_MASK | _FIXED) != placed:
        return None
    return (n & _ID_MASK) ^ mask


# --- the server's documents ---------------------------------------------------------------


def envelope(data: dict, kind: str = "NORMAL") -> dict:
    """A document as fiddler's v3 API answers it (``ApiResponse``)."""
    return {"data": data, "api_version": API_VERSION, "kind": kind}


def _envelope_schema(data: dict, kind: str = "NORMAL") -> dict:
    return obj({"data": data, "api_version": {"const": API_VERSION}, "kind": {"const": kind}})


def server_info() -> dict:
    return envelope(
        {"server_version": SERVER_VERSION, "organization": dict(ORGANIZATION), "feature_flags": {}}
    )


SERVER_INFO_SCHEMA = _envelope_schema(
    obj(
        {
            "server_version": TEXT,
            "organization": obj({"id": {"type": "string", "format": "uuid"}, "name": TEXT}),
            "feature_flags": {"type": "object"},
        }
    )
)


def version_compatibility() -> dict:
    """Any client version is compatible: the client needs only the 2xx."""
    return envelope({})


COMPATIBILITY_SCHEMA = _envelope_schema(obj({}))


@dataclass(frozen=True)
class FiddlerV3(Dialect):
    def show_id(self, job_id: int, seed: int) -> str:
        return job_uuid(job_id, seed)

    def read_id(self, text: str, seed: int) -> int | None:
        return job_id(text, seed)

    def id_schema(self) -> dict:
        return {
            "type": "string",
            "pattern": f"^{_UUID.pattern}$",
            "description": "a job's UUID (version 4's shape; hex digits in either case)",
            "examples": [job_uuid(1, 0)],  # job 1 of a scenario of seed 0
        }

    def id_pointer(self) -> str | None:
        return "/data/id"

    def render(self, job: JobLike, seen: Seen) -> dict:
        return envelope(self._job(job, seen))

    def _job(self, job: JobLike, seen: Seen) -> dict:
        return {
            "id": seen.shown_id,
            "name": seen.template,
            "status": self.job_word(job.state),
            "progress": percent(job),
            "info": {"date_done": seen.iso(job.finished), "outputs": outputs(job)},
            "error_message": job.error(),
            "error_reason": REASONS.get(job.state),
        }

    def read(self, doc: Any) -> Reading:
        data = doc["data"]
        return Reading(
            self.canonical(data["status"]), data["progress"] / 100, data["info"]["date_done"]
        )

    def new_job(self, status: int, headers: Mapping[str, str], doc: Any) -> str | None:
        return doc["data"]["id"]

    def _job_schema(self) -> dict:
        return obj(
            {
                "id": {"type": "string", "format": "uuid"},
                "name": TEXT,
                "status": enum(self.jobs.values()),
                "progress": PERCENT,
                "info": obj({"date_done": NULLABLE_TIME, "outputs": OUTPUTS}),
                "error_message": NULLABLE_TEXT,
                "error_reason": NULLABLE_TEXT,
            }
        )

    def schema(self) -> dict:
        return _envelope_schema(self._job_schema())

    # --- a page of jobs, in fiddler's paginated shape (``PaginatedApiResponse``) -------

    def listed(self, status_doc: dict, seen: Seen) -> dict:
        return status_doc["data"]

    def listed_schema(self) -> dict:
        return self._job_schema()

    def page(
        self, items: list[dict], total: int, limit: int, offset: int, base_url: str = ""
    ) -> dict:
        """fiddler's ``PaginatedResponseData``: fiddler-client's pager (``_paginate``)
        asks ``limit`` and ``offset`` and stops once ``page_index`` reaches
        ``page_count``."""
        return envelope(
            {
                "page_size": limit,
                "total": total,
                "item_count": len(items),
                "page_count": max(1, math.ceil(total / limit)),
                "page_index": offset // limit + 1,
                "offset": offset,
                "items": items,
            },
            "PAGINATED",
        )

    def page_schema(self) -> dict:
        count = {"type": "integer", "minimum": 0}
        return _envelope_schema(
            obj(
                {
                    "page_size": {"type": "integer", "minimum": 1},
                    "total": count,
                    "item_count": count,
                    "page_count": {"type": "integer", "minimum": 1},
                    "page_index": {"type": "integer", "minimum": 1},
                    "offset": count,
                    "items": {"type": "array", "items": self.listed_schema()},
                }
            ),
            "PAGINATED",
        )

    # --- errors: fiddler's ``ErrorResponse`` -------------------------------------------

    def error(self, status: int, kind: str, message: str) -> dict:
        item = {"reason": kind, "message": message, "help": HELP.get(kind, "")}
        return {
            "error": {"code": status, "message": message, "errors": [item]},
            "api_version": API_VERSION,
            "kind": "ERROR",
        }

    def error_kind(self, doc: Any) -> str:
        kind = doc["error"]["errors"][0]["reason"]
        if not isinstance(kind, str):
            raise TypeError("errors[0].reason: expected a string")
        return kind

    def error_schema(self) -> dict:
        item = obj({"reason": TEXT, "message": TEXT, "help": TEXT})
        error = obj(
            {
                "code": {"type": "integer", "minimum": 100, "maximum": 599},
                "message": TEXT,
                "errors": {"type": "array", "items": item},
            }
        )
        return obj(
            {"error": error, "api_version": {"const": API_VERSION}, "kind": {"const": "ERROR"}}
        )


FIDDLER_V3 = FiddlerV3(
    name="fiddler-v3",
    summary="fiddler-client 3.x's job API at the server root: UUIDs, the data envelope",
    jobs=CELERY_WORDS,
    steps={s: None for s in StepState},
    actions=REVOKE,
    rules=REVOKE_RULES,
    routes=(
        Route(
            "GET",
            "/v3/server-info",
            Kind.INFO,
            "The server's version and organization",
            info=server_info,
            info_schema=SERVER_INFO_SCHEMA,
        ),
        Route(
            "GET",
            "/v3/version-compatibility",
            Kind.INFO,
            "Whether the client's version is compatible (always)",
            info=version_compatibility,
            info_schema=COMPATIBILITY_SCHEMA,
        ),
        Route("POST", BASE, Kind.SUBMIT, "Submit a job (pollsim's own)"),
        Route("GET", BASE, Kind.LIST, "List jobs"),
        Route("GET", BASE + "/{id}", Kind.STATUS, "A job's status"),
        Route("POST", BASE + "/{id}/revoke", Kind.ACTION, "Revoke a job", Action.CANCEL),
    ),
)
