"""Jobs as a dialect's document model sees them (``sim.dialects.base.JobLike``), in any
canonical state, for the dialects' unit tests: no server, no model."""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.states import JobState, StepState

J = JobState


@dataclass
class Step:
    id: str
    type: str = "task"
    state: StepState = StepState.PENDING
    started: float | None = None
    finished: float | None = None


@dataclass
class Job:
    """A job as rendering sees it."""

    state: JobState
    id: int = 42
    tenant: str = "alpha"
    created: float = 10.0
    started: float | None = None
    finished: float | None = None
    steps: list[Step] = field(default_factory=lambda: [Step("a"), Step("b")])

    @property
    def completed_steps(self) -> int:
        return sum(s.state.terminal for s in self.steps)

    def error(self) -> str | None:
        return {J.FAILED: "step b failed", J.PARTIAL: "some steps failed: b"}.get(
            self.state, "job was cancelled" if self.state is J.CANCELLED else None
        )


def job_in(state: JobState) -> Job:
    """A job in ``state`` with the times and steps such a job has."""
    job = Job(state)
    if state is not J.QUEUED:
        job.started = 12.5
        job.steps[0].state = StepState.SUCCEEDED
    if state.terminal:
        job.finished = 40.0
        job.steps[1].state = StepState.SUCCEEDED if state is J.SUCCEEDED else StepState.FAILED
    return job


def iso(t: float | None) -> str | None:
    """Simulated seconds as a fixed day's ISO 8601 time, as the scaled clock writes it."""
    return None if t is None else f"2026-01-01T00:00:{t:06.3f}Z"
