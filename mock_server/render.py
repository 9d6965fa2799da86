"""The same job as each dialect's status document.

Times are ISO 8601 UTC on the scaled clock. A state a dialect has no word for (an
``ordo`` job paused through the ``workflow`` API) shows as that dialect's word for
running, the nearest it can say.
"""

from __future__ import annotations

from collections.abc import Callable

from mock_server.clock import ScaledClock
from mock_server.jobs import STEP_ERRORS, JobRecord
from sim.dialects import DIALECTS, Dialect
from sim.states import JobState, StepState

Iso = Callable[[float | None], str | None]


def job_word(dialect: Dialect, state: JobState) -> str:
    word = dialect.jobs[state]
    return word if word is not None else dialect.job_status(JobState.RUNNING)


def _percent(rec: JobRecord) -> float:
    return round(100.0 * rec.completed_steps / len(rec.steps), 1)


def _outputs(rec: JobRecord) -> list[dict]:
    """The artifacts of the steps that succeeded."""
    return [
        {"artifact_name": f"{s.id}.out", "path": f"/artifacts/{rec.id}/{s.id}.out"}
        for s in rec.steps
        if s.state is StepState.SUCCEEDED
    ]


def ordo(rec: JobRecord, iso: Iso) -> dict:
    d = DIALECTS["ordo"]
    done = rec.finished is not None
    return {
        "job": {
            "id": str(rec.id),
            "status": job_word(d, rec.state),
            "created_at": iso(rec.created),
            "started_at": iso(rec.started),
            "finished_at": iso(rec.finished),
            "error": rec.error(),
        },
        "progress": {
            "percentage": _percent(rec),
            "completed_steps": rec.completed_steps,
            "total_steps": len(rec.steps),
        },
        "duration_ms": round((rec.finished - rec.created) * 1000) if done else None,
        "steps": [
            {
                "step_id": s.id,
                "step_type": s.type,
                "status": d.step_status(s.state),
                "started_at": iso(s.started),
                "finished_at": iso(s.finished),
                "error": STEP_ERRORS.get(s.state),
            }
            for s in rec.steps
        ],
        "outputs": _outputs(rec),
    }


def fiddler(rec: JobRecord, iso: Iso) -> dict:
    d = DIALECTS["fiddler"]
    status = job_word(d, rec.state)
    return {
        "task_id": str(rec.id),
        "status": status,
        "progress": _percent(rec),
        "result": {"outputs": _outputs(rec)} if status == "SUCCESS" else None,
        "error_message": rec.error(),
        "date_done": iso(rec.finished),
    }


def workflow(rec: JobRecord, iso: Iso) -> dict:
    d = DIALECTS["workflow"]
    return {
        "id": str(rec.id),
        "name": rec.template.name,
        "state": job_word(d, rec.state),
        "created": iso(rec.created),
        "started": iso(rec.started),
        "finished": iso(rec.finished),
        "tasks": [
            {
                "id": s.id,
                "type": s.type,
                "state": d.step_status(s.state),
                "started": iso(s.started),
                "finished": iso(s.finished),
            }
            for s in rec.steps
        ],
    }


def generic(rec: JobRecord, iso: Iso) -> dict:
    status = job_word(DIALECTS["generic"], rec.state)
    doc: dict = {"status": status}
    if status == "completed":
        doc["result"] = {"job_id": str(rec.id), "outputs": _outputs(rec)}
    elif status == "failed":
        doc["message"] = rec.error()
    return doc


RENDER = {"ordo": ordo, "fiddler": fiddler, "workflow": workflow, "generic": generic}


def render(rec: JobRecord, dialect: str, clock: ScaledClock) -> dict:
    """The job's status document in ``dialect``."""
    return RENDER[dialect](rec, clock.iso)
