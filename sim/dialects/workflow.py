"""``workflow``: a job of tasks that can be paused, resumed and cancelled (through
Dequeuing), at ``/workflow/jobs``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.dialects.base import Action, Dialect, JobLike, Kind, Reading, Route, Seen
from sim.dialects.schema import NULLABLE_TIME, TIME, enum, obj
from sim.states import JobState, StepState

_J, _S = JobState, StepState
_LIVE = frozenset({_J.QUEUED, _J.RUNNING, _J.RETRY_WAIT})
BASE = "/workflow/jobs"


@dataclass(frozen=True)
class Workflow(Dialect):
    def render(self, job: JobLike, seen: Seen) -> dict:
        iso = seen.iso
        return {
            "id": seen.shown_id,
            "name": seen.template,
            "state": self.job_word(job.state),
            "created": iso(job.created),
            "started": iso(job.started),
            "finished": iso(job.finished),
            "tasks": [
                {
                    "id": s.id,
                    "type": s.type,
                    "state": self.step_status(s.state),
                    "started": iso(s.started),
                    "finished": iso(s.finished),
                }
                for s in job.steps
            ],
        }

    def read(self, doc: Any) -> Reading:
        tasks = doc["tasks"]
        live = (self.steps[_S.PENDING], self.steps[_S.RUNNING])
        done = sum(t["state"] not in live for t in tasks)
        return Reading(self.canonical(doc["state"]), done / max(1, len(tasks)), doc["finished"])

    def new_job(self, status: int, headers: Mapping[str, str], doc: Any) -> str | None:
        return doc["id"]

    def schema(self) -> dict:
        task = obj(
            {
                "id": {"type": "string"},
                "type": {"type": "string"},
                "state": enum(self.steps.values()),
                "started": NULLABLE_TIME,
                "finished": NULLABLE_TIME,
            }
        )
        return obj(
            {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "state": enum(self.jobs.values()),
                "created": TIME,
                "started": NULLABLE_TIME,
                "finished": NULLABLE_TIME,
                "tasks": {"type": "array", "items": task},
            }
        )


WORKFLOW = Workflow(
    name="workflow",
    summary="a job of tasks; pause, resume, and cancel through Dequeuing",
    jobs={
        _J.QUEUED: "Pending",
        _J.RUNNING: "Started",
        _J.RETRY_WAIT: "Started",
        _J.PAUSING: "Pausing",
        _J.PAUSED: "Paused",
        _J.CANCELLING: "Dequeuing",
        _J.SUCCEEDED: "Success",
        _J.FAILED: "Failure",
        _J.PARTIAL: "Failure",
        _J.CANCELLED: "Cancelled",
    },
    steps={
        _S.PENDING: "Pending",
        _S.RUNNING: "Started",
        _S.SUCCEEDED: "Success",
        _S.FAILED: "Failure",
        _S.ERROR: "Error",
        _S.SKIPPED: "Skipped",
        _S.BLOCKED: "Cancelled",
        _S.CANCELLED: "Cancelled",
    },
    actions={
        Action.PAUSE: _LIVE,
        Action.RESUME: frozenset({_J.PAUSED}),
        Action.CANCEL: _LIVE | {_J.PAUSING, _J.PAUSED},
    },
    rules={
        Action.PAUSE: "only a Pending or Started job can be paused",
        Action.RESUME: "only a Paused job can be resumed",
        Action.CANCEL: "only a job that has not ended and is not Dequeuing can be cancelled",
    },
    shows_cancelling=True,
    routes=(
        Route("POST", BASE, Kind.SUBMIT, "Submit a job"),
        Route("GET", BASE, Kind.LIST, "List jobs"),
        Route("GET", BASE + "/{id}", Kind.STATUS, "A job's status"),
        Route("POST", BASE + "/{id}/pause", Kind.ACTION, "Pause a job", Action.PAUSE),
        Route("POST", BASE + "/{id}/resume", Kind.ACTION, "Resume a job", Action.RESUME),
        Route("POST", BASE + "/{id}/cancel", Kind.ACTION, "Cancel a job", Action.CANCEL),
    ),
)
