"""``google-lro``: a job as a google long-running Operation, at ``/v1/projects/{project}``,
as google-api-core's operations REST client reads it (``GetOperation`` at
``/v1/{name=**/operations/*}``, ``CancelOperation`` at ``...:cancel``, ``ListOperations`` at
``/v1/{name=**}/operations``).

The status document is exactly an Operation's proto JSON: ``name``, ``done``, ``metadata``
and, once done, ``response`` or ``error`` (a ``google.rpc.Status``). The client parses
it strictly (``json_format.Parse`` refuses an unknown field), so nothing else is added;
what pollsim shows of a job (its state, progress and times) rides in ``metadata``, an
``Any`` holding a ``google.protobuf.Struct`` (whose JSON form in an Any is
``{"@type": ..., "value": {...}}``). ``project`` is the tenant's name.

The metadata's state words are Vertex AI's ``JobState`` (``JOB_STATE_QUEUED`` ...
``JOB_STATE_PARTIALLY_SUCCEEDED``): google's own job states, the one enum among google's
APIs with a word for queued, paused, cancelling and partly succeeded. It has none for a
retry scheduled or a pause under way: both show ``JOB_STATE_RUNNING``, as Vertex shows
a job through its internal retries. What a client acts on is ``done`` and ``error.code``:
failed and partial end with code 2 (UNKNOWN), cancelled with code 1 (CANCELLED).

``CancelOperation`` is best-effort and idempotent, as google's is: on an operation shown
not done it answers ``{}`` even where the model has nothing to do (the job is already
being cancelled, through a dialect that shows cancelling; ``acknowledged``); on one
shown done it is refused (409 ABORTED).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.dialects.base import (
    Action,
    Answer,
    BadPage,
    Dialect,
    JobLike,
    Kind,
    Reading,
    Route,
    Seen,
    whole_query,
)
from sim.dialects.common import outputs, percent
from sim.dialects.schema import PERCENT, TEXT, TIME, enum, obj
from sim.states import JobState, StepState

_J = JobState
BASE = "/v1/projects/{project}"
STRUCT = "type.googleapis.com/google.protobuf.Struct"  #: an Any's type URL for a Struct
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
CANCELLED, UNKNOWN = 1, 2  #: google.rpc.Code of a cancelled and of a failed operation
DOMAIN = "pollsim"  #: ErrorInfo's domain: who gave the reason
PAGE_SIZE = 50  #: operations a page holds when the request's pageSize is 0 or absent
#: a page token as this server writes them (the offset of the page it names)
PAGE_TOKEN = re.compile(r"[0-9]{1,18}")

#: an HTTP status -> google's canonical status name (google/rpc/code.proto gives the HTTP
#: mapping of each code; this is its inverse, the first code per HTTP status)
CANONICAL = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",  # no such method at this path: what the route does not implement
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def canonical_status(http_status: int) -> str:
    """Google's status name for an HTTP status (a client error it does not list: a bad
    argument, such as a body too large; a server error: UNKNOWN)."""
    return CANONICAL.get(http_status, "INVALID_ARGUMENT" if http_status < 500 else "UNKNOWN")


def struct(value: dict) -> dict:
    """``value`` as a ``google.protobuf.Struct`` in an ``Any``, in proto JSON."""
    return {"@type": STRUCT, "value": value}


@dataclass(frozen=True)
class GoogleLro(Dialect):
    def operation_name(self, job: JobLike, seen: Seen) -> str:
        return f"projects/{job.tenant}/operations/{seen.shown_id}"

    def render(self, job: JobLike, seen: Seen) -> dict:
        iso = seen.iso
        meta: dict[str, Any] = {
            "jobId": seen.shown_id,
            "state": self.job_word(job.state),
            "progressPercent": percent(job),
            "template": seen.template,
            "createTime": iso(job.created),
        }
        if job.started is not None:
            meta["startTime"] = iso(job.started)
        if job.finished is not None:
            meta["endTime"] = iso(job.finished)
        doc: dict[str, Any] = {
            "name": self.operation_name(job, seen),
            "metadata": struct(meta),
            "done": job.state.terminal,
        }
        if job.state is _J.SUCCEEDED:
            files = [{"artifactName": o["artifact_name"], "path": o["path"]} for o in outputs(job)]
            doc["response"] = struct({"jobId": seen.shown_id, "outputs": files})
        elif job.state.terminal:
            code = CANCELLED if job.state is _J.CANCELLED else UNKNOWN
            message = job.error() or self.errors.get(job.state) or f"job {job.state}"
            doc["error"] = {"code": code, "message": message}
        return doc

    def read(self, doc: Any) -> Reading:
        meta = doc["metadata"]
        if meta["@type"] != STRUCT:
            raise ValueError(f"metadata of type {meta['@type']!r}, expected {STRUCT}")
        value = meta["value"]
        state = self.canonical(value["state"])
        done = doc.get("done", False)  # proto3 JSON may leave out a false bool
        if done is not state.terminal:
            raise ValueError(f"done is {done} for an operation that is {value['state']}")
        return Reading(state, value["progressPercent"] / 100, value.get("endTime"))

    def new_job(self, status: int, headers: Mapping[str, str], doc: Any) -> str | None:
        """The id in the Operation's name, ``projects/{project}/operations/{id}``."""
        head, _, shown = doc["name"].rpartition("/")
        return shown if head.endswith("/operations") and shown else None

    def submitted(self, job: JobLike, seen: Seen, status_doc: dict) -> Answer:
        """200 and the Operation, as a google method that starts one answers (no Location:
        the client polls the Operation's name)."""
        return Answer(200, {}, status_doc)

    def acted(self, job: JobLike, seen: Seen, status_doc: dict) -> Answer:
        """``CancelOperation`` answers ``google.protobuf.Empty``: ``{}``."""
        return Answer(200, {}, {})

    def acted_schema(self) -> dict:
        return obj({})

    def page_query(self, page_max: int) -> dict[str, dict]:
        """``ListOperationsRequest``'s ``pageSize``, ``pageToken`` and ``filter``."""
        return {
            "pageSize": {
                "type": "integer",
                "minimum": 0,
                "description": f"operations a page holds at most: 0 or none is {PAGE_SIZE}, "
                f"more than {page_max} is {page_max} (the server may answer fewer, AIP-158)",
            },
            "pageToken": {
                "type": "string",
                "pattern": f"^({PAGE_TOKEN.pattern})?$",
                "description": "a previous page's nextPageToken: the page after it; "
                "empty or none: the first page",
            },
            "filter": {"type": "string", "description": "read and ignored: every operation"},
        }

    def page_at(self, query: Mapping[str, str], page_max: int) -> tuple[int, int]:
        """``pageSize`` coerced into 1 to ``page_max`` as AIP-158 asks (0 or absent: the
        default; negative: INVALID_ARGUMENT) and the offset a ``pageToken`` carries
        (none or empty: the first page; one this server could not have written:
        INVALID_ARGUMENT, as google answers a token it cannot read)."""
        size = whole_query(query, "pageSize", 0, 0, None)
        token = query.get("pageToken", "")
        if token and not PAGE_TOKEN.fullmatch(token):
            raise BadPage(
                f"pageToken={token[:40]!r}: not a page token of this server; expected "
                "an earlier answer's nextPageToken, or none for the first page"
            )
        return min(size or PAGE_SIZE, page_max), int(token or 0)

    def page(
        self, items: list[dict], total: int, limit: int, offset: int, base_url: str = ""
    ) -> dict:
        """A ``ListOperationsResponse``: ``nextPageToken`` names the page after this one
        while operations remain beyond it, and is empty on the last (google's pagers
        read an empty token as the end). The token is the next page's offset: opaque to
        the client, which only sends it back."""
        after = offset + len(items)
        more = bool(items) and after < total
        return {self.list_key: items, "nextPageToken": str(after) if more else ""}

    def page_schema(self) -> dict:
        return obj(
            {self.list_key: {"type": "array", "items": self.listed_schema()}, "nextPageToken": TEXT}
        )

    def error(self, status: int, kind: str, message: str) -> dict:
        """google's JSON error: the HTTP status as ``code``, the canonical ``status``, and
        pollsim's short name of the error as an ErrorInfo's ``reason``."""
        info = {"@type": ERROR_INFO, "reason": kind.upper(), "domain": DOMAIN}
        return {
            "error": {
                "code": status,
                "message": message,
                "status": canonical_status(status),
                "details": [info],
            }
        }

    def error_kind(self, doc: Any) -> str:
        reason = doc["error"]["details"][0]["reason"]
        if not isinstance(reason, str):
            raise TypeError("details[0].reason: expected a string")
        return reason.lower()

    def error_schema(self) -> dict:
        info = obj({"@type": {"const": ERROR_INFO}, "reason": TEXT, "domain": TEXT})
        statuses = sorted(set(CANONICAL.values()) | {"UNKNOWN"})
        body = obj(
            {
                "code": {"type": "integer", "minimum": 400, "maximum": 599},
                "message": TEXT,
                "status": {"type": "string", "enum": statuses},
                "details": {"type": "array", "items": info},
            }
        )
        return obj({"error": body})

    def schema(self) -> dict:
        meta = obj(
            {
                "jobId": TEXT,
                "state": enum(self.jobs.values()),
                "progressPercent": PERCENT,
                "template": TEXT,
                "createTime": TIME,
                "startTime": TIME,
                "endTime": TIME,
            },
            ["jobId", "state", "progressPercent", "template", "createTime"],
        )
        files = obj({"artifactName": TEXT, "path": TEXT})
        result = obj({"jobId": TEXT, "outputs": {"type": "array", "items": files}})
        status = obj({"code": {"enum": [CANCELLED, UNKNOWN]}, "message": TEXT})
        doc = obj(
            {
                "name": {"type": "string", "pattern": "^projects/[^/]+/operations/[^/]+$"},
                "done": {"type": "boolean"},
                "metadata": _any_struct(meta),
                "response": _any_struct(result),
                "error": status,
            },
            ["name", "done", "metadata"],
        )
        ended = {"properties": {"done": {"const": True}}}
        doc["oneOf"] = [
            {
                "properties": {"done": {"const": False}},
                "not": {"anyOf": [{"required": ["response"]}, {"required": ["error"]}]},
            },
            {**ended, "required": ["response"], "not": {"required": ["error"]}},
            {**ended, "required": ["error"], "not": {"required": ["response"]}},
        ]
        return doc


def _any_struct(value: dict) -> dict:
    return obj({"@type": {"const": STRUCT}, "value": value})


GOOGLE_LRO = GoogleLro(
    name="google-lro",
    summary="a google long-running Operation; cancel with :cancel",
    jobs={
        _J.QUEUED: "JOB_STATE_QUEUED",
        _J.RUNNING: "JOB_STATE_RUNNING",
        _J.RETRY_WAIT: "JOB_STATE_RUNNING",
        _J.PAUSING: "JOB_STATE_RUNNING",
        _J.PAUSED: "JOB_STATE_PAUSED",
        _J.CANCELLING: "JOB_STATE_CANCELLING",
        _J.SUCCEEDED: "JOB_STATE_SUCCEEDED",
        _J.FAILED: "JOB_STATE_FAILED",
        _J.PARTIAL: "JOB_STATE_PARTIALLY_SUCCEEDED",
        _J.CANCELLED: "JOB_STATE_CANCELLED",
    },
    steps={s: None for s in StepState},
    actions={
        Action.CANCEL: frozenset({_J.QUEUED, _J.RUNNING, _J.RETRY_WAIT, _J.PAUSING, _J.PAUSED})
    },
    rules={Action.CANCEL: "only an operation that is not done can be cancelled"},
    # best-effort and idempotent: a cancel of an operation not done (as shown) is {} even
    # where the model has nothing to do (already cancelling, or ended since last shown)
    acknowledged={Action.CANCEL: frozenset(s for s in JobState if not s.terminal)},
    errors={_J.CANCELLED: "job was cancelled", _J.PARTIAL: "some steps failed"},
    list_key="operations",
    routes=(
        Route("POST", BASE + "/jobs", Kind.SUBMIT, "Submit a job; answers its Operation"),
        Route("GET", BASE + "/operations", Kind.LIST, "List operations (ListOperations)"),
        Route("GET", BASE + "/operations/{id}", Kind.STATUS, "An operation (GetOperation)"),
        Route(
            "POST",
            BASE + "/operations/{id}:cancel",
            Kind.ACTION,
            "Cancel an operation (CancelOperation)",
            Action.CANCEL,
        ),
    ),
)
