"""What the status API shows of one job: the lifecycle's changes, applied as they become
visible (after the reporting lag), into the job's and its steps' current state.

A record only moves forward: ``catch_up(now)`` applies the changes visible by ``now``,
and ``version`` counts them, so that a rendering made for a version stays right until
the next change shows (the serialized status is cached on it).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.states import JOB_TERMINAL, JobState, StepState
from sim.templates import JobTemplate

_S = StepState
_STEP_ENDED = {_S.SUCCEEDED, _S.FAILED, _S.ERROR, _S.SKIPPED, _S.BLOCKED, _S.CANCELLED}


@dataclass(slots=True)
class StepView:
    """One step as the API shows it."""

    id: str
    type: str
    state: StepState = _S.PENDING
    started: float | None = None  #: when its last attempt started (simulated seconds)
    finished: float | None = None
    attempt: int = 0


class JobRecord:
    """One job of the server: who owns it, and what the API shows of it so far."""

    __slots__ = (
        "_index",
        "cache",
        "changes",
        "created",
        "finished",
        "id",
        "shown",
        "started",
        "state",
        "steps",
        "template",
        "tenant",
    )

    def __init__(
        self,
        job_id: int,
        template: JobTemplate,
        tenant: str,
        created: float,
        index: dict[str, int] | None = None,
    ) -> None:
        self.id = job_id
        self.template = template
        self.tenant = tenant
        self.created = created
        self.changes: list[tuple] = []  #: the lifecycle's changes of this job, in order
        self.shown = 0  #: how many of them the API shows by now
        self.state: JobState = JobState.QUEUED
        self.started: float | None = None
        self.finished: float | None = None
        self.steps = [StepView(s.id, s.type or s.id) for s in template.steps]
        #: step id -> place; ``index`` shares one per template (a dict a job is 10% of it)
        self._index = index if index is not None else step_index(template)
        self.cache: dict[str, tuple[int, bytes, str]] = {}  #: dialect -> version, body, etag

    @property
    def version(self) -> int:
        return self.shown

    @property
    def ended(self) -> bool:
        return self.state in JOB_TERMINAL

    def next_visible(self) -> float | None:
        """When the next recorded change shows (None: none is recorded yet)."""
        return self.changes[self.shown][5] if self.shown < len(self.changes) else None

    def catch_up(self, now: float) -> None:
        """Apply every change visible by ``now``. A terminal state never changes."""
        changes = self.changes
        while self.shown < len(changes) and changes[self.shown][5] <= now:
            _job, step_id, _old, new, t, _vis, attempt = changes[self.shown]
            self.shown += 1
            if step_id is None:
                if self.state in JOB_TERMINAL:
                    continue
                self.state = JobState(new)
                if new == JobState.RUNNING and self.started is None:
                    self.started = t
                if self.state in JOB_TERMINAL:
                    self.finished = t
                continue
            step = self.steps[self._index[step_id]]
            step.state = StepState(new)
            step.attempt = attempt
            if new == _S.RUNNING:
                step.started, step.finished = t, None
            elif new in _STEP_ENDED:
                step.finished = t
            else:  # back to pending for a retry
                step.finished = None

    @property
    def completed_steps(self) -> int:
        return sum(s.state in _STEP_ENDED for s in self.steps)

    def error(self) -> str | None:
        """Why the job did not succeed, in words; None while it has not ended badly."""
        if self.state is JobState.CANCELLED:
            return "job was cancelled"
        if self.state is JobState.FAILED:
            failed = [s.id for s in self.steps if s.state is _S.FAILED]
            return f"step {failed[0]} failed" if failed else "job failed"
        if self.state is JobState.PARTIAL:
            lost = [s.id for s in self.steps if s.state in (_S.FAILED, _S.ERROR, _S.BLOCKED)]
            return "some steps failed: " + ", ".join(lost)
        return None


def step_index(template: JobTemplate) -> dict[str, int]:
    """Each step's place in the template, by id."""
    return {s.id: i for i, s in enumerate(template.steps)}
