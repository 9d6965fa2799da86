"""``generic``: the least a status API can say (pending, completed or failed), at
``/status``; served without a token where the server allows it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.dialects.base import Answer, Dialect, JobLike, Kind, Reading, Route, Seen
from sim.dialects.common import outputs
from sim.dialects.schema import NULLABLE_TEXT, OUTPUTS, enum, obj
from sim.states import JobState, StepState

_J = JobState
BASE = "/status"


@dataclass(frozen=True)
class Generic(Dialect):
    def render(self, job: JobLike, seen: Seen) -> dict:
        status = self.job_word(job.state)
        doc: dict = {"status": status}
        if job.state is _J.SUCCEEDED:
            doc["result"] = {"job_id": seen.shown_id, "outputs": outputs(job)}
        elif status == self.jobs[_J.FAILED]:
            doc["message"] = job.error()
        return doc

    def read(self, doc: Any) -> Reading:
        return Reading(self.canonical(doc["status"]), None, None)

    def submitted(self, job: JobLike, seen: Seen, status_doc: dict) -> Answer:
        """202, the job's id beside its status, and Location: no ETag."""
        location = self.path(Kind.STATUS, seen.shown_id)
        return Answer(202, {"Location": location}, self.listed(status_doc, seen))

    def listed(self, status_doc: dict, seen: Seen) -> dict:
        return {"id": seen.shown_id, **status_doc}

    def new_job(self, status: int, headers: Mapping[str, str], doc: Any) -> str | None:
        return doc["id"]

    def schema(self) -> dict:
        return obj(
            {
                "id": {"type": "string"},
                "status": enum(self.jobs.values()),
                "result": obj({"job_id": {"type": "string"}, "outputs": OUTPUTS}),
                "message": NULLABLE_TEXT,
            },
            ["status"],
        )


GENERIC = Generic(
    name="generic",
    summary="pending, completed or failed; no token needed unless the server asks one",
    jobs={
        _J.QUEUED: "pending",
        _J.RUNNING: "pending",
        _J.RETRY_WAIT: "pending",
        _J.PAUSING: "pending",
        _J.PAUSED: "pending",
        _J.CANCELLING: "pending",
        _J.SUCCEEDED: "completed",
        _J.FAILED: "failed",
        _J.PARTIAL: "failed",
        _J.CANCELLED: "failed",
    },
    steps={s: None for s in StepState},
    actions={},
    errors={_J.CANCELLED: "job was cancelled", _J.PARTIAL: "some steps failed"},
    anonymous=True,
    routes=(
        Route("POST", BASE, Kind.SUBMIT, "Submit a job"),
        Route("GET", BASE, Kind.LIST, "List jobs"),
        Route("GET", BASE + "/{id}", Kind.STATUS, "A job's status"),
    ),
)
