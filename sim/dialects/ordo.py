"""``ordo``: a job with its steps, progress and outputs, at ``/ordo/jobs``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.dialects.base import Action, Dialect, JobLike, Kind, Reading, Route, Seen
from sim.dialects.common import STEP_ERRORS, outputs, percent
from sim.dialects.schema import NULLABLE_TEXT, NULLABLE_TIME, OUTPUTS, PERCENT, TIME, enum, obj
from sim.states import JobState, StepState

_J, _S = JobState, StepState
_LIVE = frozenset({_J.QUEUED, _J.RUNNING, _J.RETRY_WAIT})
BASE = "/ordo/jobs"


@dataclass(frozen=True)
class Ordo(Dialect):
    def render(self, job: JobLike, seen: Seen) -> dict:
        iso = seen.iso
        done = job.finished is not None
        return {
            "job": {
                "id": seen.shown_id,
                "status": self.job_word(job.state),
                "created_at": iso(job.created),
                "started_at": iso(job.started),
                "finished_at": iso(job.finished),
                "error": job.error(),
            },
            "progress": {
                "percentage": percent(job),
                "completed_steps": job.completed_steps,
                "total_steps": len(job.steps),
            },
            "duration_ms": round((job.finished - job.created) * 1000) if done else None,
            "steps": [
                {
                    "step_id": s.id,
                    "step_type": s.type,
                    "status": self.step_status(s.state),
                    "started_at": iso(s.started),
                    "finished_at": iso(s.finished),
                    "error": STEP_ERRORS.get(s.state),
                }
                for s in job.steps
            ],
            "outputs": outputs(job),
        }

    def read(self, doc: Any) -> Reading:
        job = doc["job"]
        return Reading(
            self.canonical(job["status"]), doc["progress"]["percentage"] / 100, job["finished_at"]
        )

    def new_job(self, status: int, headers: Mapping[str, str], doc: Any) -> str | None:
        return doc["job"]["id"]

    def schema(self) -> dict:
        step = obj(
            {
                "step_id": {"type": "string"},
                "step_type": {"type": "string"},
                "status": enum(self.steps.values()),
                "started_at": NULLABLE_TIME,
                "finished_at": NULLABLE_TIME,
                "error": NULLABLE_TEXT,
            }
        )
        job = obj(
            {
                "id": {"type": "string"},
                "status": enum(self.jobs.values()),
                "created_at": TIME,
                "started_at": NULLABLE_TIME,
                "finished_at": NULLABLE_TIME,
                "error": NULLABLE_TEXT,
            }
        )
        progress = obj(
            {
                "percentage": PERCENT,
                "completed_steps": {"type": "integer", "minimum": 0},
                "total_steps": {"type": "integer", "minimum": 1},
            }
        )
        return obj(
            {
                "job": job,
                "progress": progress,
                "duration_ms": {"type": ["integer", "null"], "minimum": 0},
                "steps": {"type": "array", "items": step},
                "outputs": OUTPUTS,
            }
        )


ORDO = Ordo(
    name="ordo",
    summary="a job with its steps, progress and outputs",
    jobs={
        _J.QUEUED: "pending",
        _J.RUNNING: "running",
        _J.RETRY_WAIT: "running",
        _J.PAUSING: None,
        _J.PAUSED: None,
        _J.CANCELLING: None,
        _J.SUCCEEDED: "success",
        _J.FAILED: "failed",
        _J.PARTIAL: "partial",
        _J.CANCELLED: "failed",
    },
    steps={
        _S.PENDING: "pending",
        _S.RUNNING: "running",
        _S.SUCCEEDED: "success",
        _S.FAILED: "failed",
        _S.ERROR: "failed",
        _S.SKIPPED: "skipped",
        _S.BLOCKED: "skipped",
        _S.CANCELLED: "skipped",
    },
    actions={Action.CANCEL: _LIVE},
    rules={Action.CANCEL: "only a job that has not ended can be cancelled"},
    errors={_J.CANCELLED: "job was cancelled"},
    routes=(
        Route("POST", BASE, Kind.SUBMIT, "Submit a job"),
        Route("GET", BASE, Kind.LIST, "List jobs"),
        Route("GET", BASE + "/{id}", Kind.STATUS, "A job's status"),
        Route("POST", BASE + "/{id}/cancel", Kind.ACTION, "Cancel a job", Action.CANCEL),
    ),
)
