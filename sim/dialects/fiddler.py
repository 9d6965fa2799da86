"""``fiddler``: a Celery-style task, at ``/fiddler/tasks``; revoked only while PENDING."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.dialects.base import Action, Dialect, JobLike, Kind, Reading, Route, Seen
from sim.dialects.common import outputs, percent
from sim.dialects.schema import NULLABLE_TEXT, NULLABLE_TIME, OUTPUTS, PERCENT, enum, obj
from sim.states import JobState, StepState

_J = JobState
BASE = "/fiddler/tasks"

#: the Celery task states fiddler's APIs show (fiddler-v3 shows the same)
CELERY_WORDS = {
    _J.QUEUED: "PENDING",
    _J.RUNNING: "STARTED",
    _J.RETRY_WAIT: "RETRY",
    _J.PAUSING: None,
    _J.PAUSED: None,
    _J.CANCELLING: None,
    _J.SUCCEEDED: "SUCCESS",
    _J.FAILED: "FAILURE",
    _J.PARTIAL: "FAILURE",
    _J.CANCELLED: "REVOKED",
}


#: a task is revoked only while PENDING (Celery's revoke; fiddler-v3 the same)
REVOKE = {Action.CANCEL: frozenset({_J.QUEUED})}
REVOKE_RULES = {Action.CANCEL: "a job can be revoked only while PENDING"}


@dataclass(frozen=True)
class Fiddler(Dialect):
    def render(self, job: JobLike, seen: Seen) -> dict:
        status = self.job_word(job.state)
        return {
            "task_id": seen.shown_id,
            "status": status,
            "progress": percent(job),
            "result": {"outputs": outputs(job)} if status == "SUCCESS" else None,
            "error_message": job.error(),
            "date_done": seen.iso(job.finished),
        }

    def read(self, doc: Any) -> Reading:
        return Reading(self.canonical(doc["status"]), doc["progress"] / 100, doc["date_done"])

    def new_job(self, status: int, headers: Mapping[str, str], doc: Any) -> str | None:
        return doc["task_id"]

    def schema(self) -> dict:
        return obj(
            {
                "task_id": {"type": "string"},
                "status": enum(self.jobs.values()),
                "progress": PERCENT,
                "result": {"oneOf": [{"type": "null"}, obj({"outputs": OUTPUTS})]},
                "error_message": NULLABLE_TEXT,
                "date_done": NULLABLE_TIME,
            }
        )


FIDDLER = Fiddler(
    name="fiddler",
    summary="a Celery-style task; revoked only while PENDING",
    jobs=CELERY_WORDS,
    steps={s: None for s in StepState},
    actions=REVOKE,
    rules=REVOKE_RULES,
    list_key="tasks",
    routes=(
        Route("POST", BASE, Kind.SUBMIT, "Submit a task"),
        Route("GET", BASE, Kind.LIST, "List tasks"),
        Route("GET", BASE + "/{id}", Kind.STATUS, "A task's status"),
        Route("POST", BASE + "/{id}/revoke", Kind.ACTION, "Revoke a task", Action.CANCEL),
    ),
)
