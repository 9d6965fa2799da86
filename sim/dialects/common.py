"""What several dialects' documents show alike: progress and the artifacts of a job."""

from __future__ import annotations

from sim.dialects.base import JobLike
from sim.states import StepState


def percent(job: JobLike) -> float:
    """The share of the job's steps completed, in percent, one decimal."""
    return round(100.0 * job.completed_steps / len(job.steps), 1)


def outputs(job: JobLike) -> list[dict]:
    """The artifacts of the steps that succeeded."""
    return [
        {"artifact_name": f"{s.id}.out", "path": f"/artifacts/{job.id}/{s.id}.out"}
        for s in job.steps
        if s.state is StepState.SUCCEEDED
    ]


#: why a step shows as it does, where its state alone does not say
STEP_ERRORS = {
    StepState.FAILED: "step failed",
    StepState.ERROR: "step ended with a captured error; its partial output was kept",
    StepState.BLOCKED: "a step it depends on failed, so it never ran",
    StepState.CANCELLED: "the job was cancelled",
}
