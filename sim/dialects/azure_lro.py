"""``azure-lro``: an Azure long-running operation, as azure-core's ``LROBasePolling``
polls it. A submission (``POST /azure/jobs``) is answered 202 with an absolute
``Operation-Location``; the operation (``GET /azure/operations/{id}``) is what is
polled; once it has succeeded, its ``resourceLocation`` names the job as a resource
(``GET /azure/jobs/{id}``), which the poller fetches once for its result.

The poller ends on ``Succeeded``, ``Failed`` and ``Canceled`` only (any case, one l),
and polls on through any other word; it raises ``HttpResponseError`` on ``Failed`` and
``Canceled`` with the operation's ``error`` read as an OData error (``code``,
``message``). Errors are in that shape too, ``{"error": {"code", "message"}}``, so that
``HttpResponseError.error`` carries them; pollsim's own short name for an error goes in
``innererror.code``, which the same reader keeps.

The operation shows ``percentComplete``, ``createdDateTime`` and
``lastUpdatedDateTime`` (as Azure's data-plane operations do): progress for a client
that shows it, and, once the operation has ended, the time it ended.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from sim.dialects.base import Answer, Dialect, JobLike, Kind, Reading, Route, Seen
from sim.dialects.common import outputs, percent
from sim.dialects.schema import OUTPUTS, PERCENT, TEXT, TIME, enum, obj
from sim.states import JobState, StepState

_J = JobState
JOBS = "/azure/jobs"
OPERATIONS = "/azure/operations"

#: what the operation's ``error.code`` says of a job that did not succeed
ENDED_CODES = {
    _J.FAILED: "JobFailed",
    _J.PARTIAL: "PartialFailure",
    _J.CANCELLED: "OperationCanceled",
}

#: the Azure error code of each HTTP status pollsim answers with an error
HTTP_CODES = {
    400: "InvalidRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "RequestBodyTooLarge",
    422: "InvalidRequest",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}

#: the Retry-After of a submission's answer, whole seconds: the least a header can ask.
#: The dialect knows no clock; azure-core's poller asks at once after a submission anyway
#: and waits after each status answer (by its Retry-After, else its own interval).
SUBMIT_RETRY_AFTER = "1"

_ERROR = obj({"code": TEXT, "message": TEXT})


def _ended(job: JobLike) -> bool:
    return job.state.terminal and job.finished is not None


def _updated(job: JobLike) -> float:
    """The last of the job's times: when it ended, else started, else was made."""
    if _ended(job):
        return job.finished  # type: ignore[return-value]
    return job.started if job.started is not None else job.created


@dataclass(frozen=True)
class AzureLro(Dialect):
    def render(self, job: JobLike, seen: Seen) -> dict:
        status = self.job_word(job.state)
        doc: dict = {
            "id": seen.shown_id,
            "status": status,
            "percentComplete": percent(job),
            "createdDateTime": seen.iso(job.created),
            "lastUpdatedDateTime": seen.iso(_updated(job)),
        }
        code = ENDED_CODES.get(job.state)
        if code is not None:
            doc["error"] = {"code": code, "message": job.error() or code}
        elif job.state is _J.SUCCEEDED:
            doc["resourceLocation"] = seen.base_url + self.path(Kind.RESOURCE, seen.shown_id)
        return doc

    def read(self, doc: Any) -> Reading:
        state = self.canonical(doc["status"])
        ended = doc["lastUpdatedDateTime"] if state.terminal else None
        return Reading(state, doc["percentComplete"] / 100, ended)

    def schema(self) -> dict:
        words = {w for w in self.jobs.values() if w is not None}
        failed = sorted({self.jobs[s] for s in ENDED_CODES} - {None})
        succeeded = self.job_status(_J.SUCCEEDED)
        doc = obj(
            {
                "id": TEXT,
                "status": enum(words),
                "percentComplete": PERCENT,
                "createdDateTime": TIME,
                "lastUpdatedDateTime": TIME,
                "error": _ERROR,
                "resourceLocation": {"type": "string", "format": "uri"},
            },
            ["id", "status", "percentComplete", "createdDateTime", "lastUpdatedDateTime"],
        )
        # error exactly when it failed or was cancelled; resourceLocation when it succeeded
        doc["allOf"] = [
            {
                "if": {"properties": {"status": {"enum": failed}}},
                "then": {"required": ["error"]},
                "else": {"not": {"required": ["error"]}},
            },
            {
                "if": {"properties": {"status": {"const": succeeded}}},
                "then": {"required": ["resourceLocation"]},
                "else": {"not": {"required": ["resourceLocation"]}},
            },
        ]
        return doc

    def submitted(self, job: JobLike, seen: Seen, status_doc: dict) -> Answer:
        """202, the operation as its body, its absolute Operation-Location, Retry-After."""
        where = seen.base_url + self.path(Kind.STATUS, seen.shown_id)
        return Answer(
            202, {"Operation-Location": where, "Retry-After": SUBMIT_RETRY_AFTER}, status_doc
        )

    def page(
        self, items: list[dict], total: int, limit: int, offset: int, base_url: str = ""
    ) -> dict:
        """Azure's paged list: ``value`` and, while operations remain beyond this page, an
        absolute ``nextLink`` to the next (azure-core's pagers, and a generated list
        operation, GET it as it is until a page has none); pollsim's ``total``,
        ``limit`` and ``offset`` beside them."""
        doc = super().page(items, total, limit, offset, base_url)
        after = offset + len(items)
        if items and after < total:
            query = urlencode({"limit": limit, "offset": after})
            doc["nextLink"] = f"{base_url}{self.path(Kind.LIST)}?{query}"
        return doc

    def page_schema(self) -> dict:
        doc = super().page_schema()
        doc["properties"]["nextLink"] = {"type": "string", "format": "uri"}
        return doc

    def new_job(self, status: int, headers: Mapping[str, str], doc: Any) -> str | None:
        where = headers.get("operation-location")
        if status != 202 or not where:
            return None
        return where.rstrip("/").rpartition("/")[2] or None

    def resource(self, job: JobLike, seen: Seen) -> dict:
        return {
            "id": seen.shown_id,
            "template": seen.template,
            "status": self.job_word(job.state),
            "createdDateTime": seen.iso(job.created),
            "lastUpdatedDateTime": seen.iso(_updated(job)),
            "outputs": outputs(job),
        }

    def resource_schema(self) -> dict:
        return obj(
            {
                "id": TEXT,
                "template": TEXT,
                "status": enum(self.jobs.values()),
                "createdDateTime": TIME,
                "lastUpdatedDateTime": TIME,
                "outputs": OUTPUTS,
            }
        )

    def error(self, status: int, kind: str, message: str) -> dict:
        """``{"error": {"code", "message", "innererror": {"code": kind}}}``: the code
        Azure gives the HTTP status, pollsim's own name of the error inside."""
        code = HTTP_CODES.get(status) or _pascal(status)
        return {"error": {"code": code, "message": message, "innererror": {"code": kind}}}

    def error_kind(self, doc: Any) -> str:
        kind = doc["error"]["innererror"]["code"]
        if not isinstance(kind, str):
            raise TypeError("innererror.code: expected a string")
        return kind

    def error_schema(self) -> dict:
        inner = obj({"code": TEXT})
        return obj({"error": obj({"code": TEXT, "message": TEXT, "innererror": inner})})


def _pascal(status: int) -> str:
    """``HTTPStatus``'s phrase as an error code, its words' letters only ("Gateway
    Timeout" -> "GatewayTimeout", "I'm a Teapot" -> "ImATeapot")."""
    try:
        words = HTTPStatus(status).phrase.replace("'", "").replace("-", " ").split()
    except ValueError:
        return "Error"
    return "".join(w[:1].upper() + w[1:] for w in words if w.isalpha()) or "Error"


AZURE_LRO = AzureLro(
    name="azure-lro",
    summary="an Azure long-running operation: Operation-Location, then resourceLocation",
    jobs={
        _J.QUEUED: "NotStarted",
        _J.RUNNING: "Running",
        _J.RETRY_WAIT: "Running",
        _J.PAUSING: "Running",
        _J.PAUSED: "Running",
        _J.CANCELLING: "Running",
        _J.SUCCEEDED: "Succeeded",
        _J.FAILED: "Failed",
        _J.PARTIAL: "Failed",
        _J.CANCELLED: "Canceled",  # one l: the poller would poll on through "Cancelled"
    },
    steps={s: None for s in StepState},
    actions={},
    list_key="value",
    routes=(
        Route("POST", JOBS, Kind.SUBMIT, "Start a job (a long-running operation)"),
        Route("GET", OPERATIONS, Kind.LIST, "List operations"),
        Route("GET", OPERATIONS + "/{id}", Kind.STATUS, "An operation's status"),
        Route("GET", JOBS + "/{id}", Kind.RESOURCE, "A job, the result of its operation"),
    ),
)
